// The IDL the stub tests run against: one of every type a matcher or an answer may meet.
namespace py users

enum Role { ADMIN = 1, MEMBER = 2, GUEST = 3 }

typedef i64 UserId

struct Address {
  1: string city,
  2: string zip,
}

struct User {
  1: UserId id,
  2: string name,
  3: string email,
  4: Role role,
  5: list<string> tags,
  6: optional Address address,
  7: map<string, i32> scores,
  8: set<i32> lucky,
  9: double rating,
  10: binary avatar,
  11: bool active,
}

struct Query {
  1: User user,
  2: i32 limit,
}

struct Page {
  1: list<User> users,
  2: i32 total,
}

exception NotFound {
  1: string message,
  2: UserId id,
}

exception Invalid {
  1: string reason,
}

service Users {
  User getUser(1: UserId id) throws (1: NotFound notFound),
  User createUser(1: User user) throws (1: Invalid invalid),
  User updateUser(1: User user),
  bool deleteUser(1: UserId id),
  list<User> listUsers(1: Role role, 2: i32 limit),
  Page searchUsers(1: string text),
  list<User> findMatching(1: Query query),
  string greet(1: string name, 2: i32 times),
  i32 count(1: list<string> tags, 2: map<string, i32> weights, 3: set<i32> ids),
  void ping(),
  oneway void notify(1: string message),
  double score(1: double x, 2: bool flag, 3: binary data, 4: Role role),
  i16 small(1: i64 big, 2: i8 tiny),
  User profileOf(1: UserId who, 2: bool verbose),
  User lookupByEmail(1: string email),
}

service Orders {
  i64 placeOrder(1: UserId userId, 2: string item),
  string status(1: i64 orderId),
}
