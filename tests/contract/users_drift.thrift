namespace py users

# users.thrift as a provider that drifted from it would have it: User.id became a string, User gained a
# field and getUser may throw an exception users.thrift does not declare.

enum Status { ACTIVE = 1, SUSPENDED = 2, DELETED = 3 }

struct Address {
  1: required string city
  2: optional string street
}

struct User {
  1: required string id
  2: required string name
  3: optional string email
  4: Status status = Status.ACTIVE
  5: optional Address address
  6: optional list<string> tags
  7: optional map<string, i32> scores
  9: optional string nickname
}

union Lookup { 1: i64 id, 2: string email }

exception NotFound { 1: string message }
exception Forbidden { 1: string reason }

service UserService {
  User getUser(1: i64 id) throws (1: NotFound notFound, 2: Forbidden forbidden)
  list<User> listUsers(1: i32 limit, 2: Status status)
  User find(1: Lookup by) throws (1: NotFound notFound)
  void ping()
  oneway void touch(1: i64 id)
}
