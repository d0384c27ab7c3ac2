// What an Apache Thrift client sees of feed.thrift: the same structs, with its Rocket-only methods written as
// plain calls of the same names, so that Apache's compiler builds a client that can try them.
namespace py tbfeed_apache

struct Message {
  1: string text;
  2: i64 timestamp;
  3: optional Message replyTo;
}

exception Busy {
  1: string message;
}

enum Topic {
  NEWS = 1,
  SPORTS = 2,
}

service Feed {
  Message latest(1: Topic topic) throws (1: Busy busy);
  list<Message> recent(1: i32 limit);
  void post(1: Message message) throws (1: Busy busy);
  Message subscribe(1: Topic topic);
  Message openCursor(1: i32 pageSize);
  Message createCursor();
}
