// A held-out fbthrift service: every fbthrift-only construct thriftbox reads, beside plain methods it serves.
@thrift.Uri{value = "meta.com/test/feed"}
package "meta.com/test/feed"

namespace cpp2 test.feed
namespace go 'github.com/example/feed'
namespace py3 "feed"
namespace py tbfeed

@cpp.Adapter{name = "::feed::MessageAdapter", extra = [1, 2], nested = Inner{a = 1}}
struct Message {
  @cpp.Ref
  1: string text;
  2: i64 timestamp;
  @thrift.Box
  3: optional Message replyTo;
}

safe transient client exception Busy {
  1: string message;
}

exception Gone {}

enum Topic {
  @thrift.Deprecated
  NEWS = 1,
  SPORTS = 2,
}

const Message WELCOME = Message{text = "welcome", timestamp = 0}

interaction Cursor {
  Message next();
  stream<Message> rest();
}

@cpp.ProcessInEbThreadUnsafe
service Feed {
  performs Cursor;
  idempotent Message latest(1: Topic topic) throws (1: Busy busy);
  readonly list<Message> recent(@cpp.Ref 1: i32 limit);
  void post(1: Message message) throws (1: Busy busy);
  stream<Message throws (1: Gone gone)> subscribe(1: Topic topic);
  Message, stream<Message> subscribeFromLatest(1: Topic topic);
  sink<Message, i32 throws (1: Busy busy)> upload();
  Cursor, list<Message> openCursor(1: i32 pageSize);
}
