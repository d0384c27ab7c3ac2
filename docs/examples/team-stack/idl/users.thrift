namespace py users

include "common.thrift"

struct User {
  1: common.UserId id
  2: string firstName
  3: string lastName
  4: string email
}

service Users {
  User getUser(1: common.UserId id) throws (1: common.NotFound notFound)
}
