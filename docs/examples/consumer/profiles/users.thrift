// The copy of the Users IDL this service was built against (thriftpy2 loads it at import).
// The contract tests check it still agrees with the one the Users team publishes (../idl/).

namespace py users

enum Role {
  MEMBER = 1,
  MODERATOR = 2,
  ADMIN = 3,
}

struct User {
  1: required i64 id,
  2: required string handle,
  3: string firstName,
  4: string lastName,
  5: string email,
  6: Role role = Role.MEMBER,
  7: bool isVerified,
}

exception NotFound {
  1: string message,
}

exception InvalidRequest {
  1: string message,
  2: string fieldName,
}

service Users {
  User getUser(1: i64 id) throws (1: NotFound notFound),
  list<User> searchUsers(1: string query, 2: i32 limit) throws (1: InvalidRequest invalid),
}
