namespace py shop.users
include "common.thrift"

struct User {
  1: required i64 id,
  2: required string name,
  3: string email,
  4: optional list<string> tags,
  5: map<string, i32> scores,
}

service Users {
  User getUser(1: i64 id) throws (1: common.NotFound missing),
  list<User> listUsers(1: i32 limit),
  bool exists(1: string email),
  void ping(),
}
