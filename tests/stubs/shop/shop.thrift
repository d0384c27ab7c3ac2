// A small shop, served by `thriftbox serve` with shop.yaml and called with Apache's Python library
// (tests/test_stubs_wire.py): one method per stub rule kind, and a stateful create/get/list/delete.

exception NotFound {
  1: string message
  2: i64 id
}

struct Filter {
  1: string category
  2: i32 minStock
}

struct Query {
  1: string text
  2: list<string> tags
  3: Filter filter
}

struct Item {
  1: i64 id
  2: string name
  3: double price
  4: list<string> tags
  5: string category
}

struct NewItem {
  1: string name
  2: double price
  3: list<string> tags
  4: string category
}

service Shop {
  Item getItem(1: i64 id) throws (1: NotFound nf)
  list<Item> search(1: Query q)
  Item createItem(1: NewItem item)
  void deleteItem(1: i64 id)
  list<Item> listItems(1: i32 limit)
  string echo(1: string s)
  string greet(1: string name, 2: string lang)
  i32 tick(1: string counter)
  string slow(1: string how)
  string flaky(1: string kind)
}

// Every method without a rule of its own answers with the service's `default` rule.
service Status {
  string health()
  string version()
  string motd()
}
