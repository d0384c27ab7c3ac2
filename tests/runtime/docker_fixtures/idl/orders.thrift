namespace py shop.orders
include "common.thrift"
include "users.thrift"

struct Line {
  1: string sku,
  2: i16 quantity,
  3: common.Money price,
}

struct Order {
  1: required string id,
  2: users.User buyer,
  3: list<Line> lines,
  4: set<string> labels,
  5: double weight,
  6: binary receipt,
}

service Orders {
  Order getOrder(1: string id) throws (1: common.NotFound missing),
  map<string, common.Money> totals(1: list<i64> userIds),
  i64 place(1: Order order),
  oneway void forget(1: string id),
}
