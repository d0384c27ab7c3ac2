// Users: profiles of the people who browse, sell and post.

include "common.thrift"

namespace py homefeed.users
namespace java com.example.homefeed.users
namespace go homefeed.users

enum AccountStatus {
  ACTIVE = 1,
  SUSPENDED = 2,
  DEACTIVATED = 3,
}

enum Role {
  MEMBER = 1,
  CREATOR = 2,
  MODERATOR = 3,
  ADMIN = 4,
}

struct Address {
  1: string street,
  2: string city,
  3: string state,
  4: string zipCode,
  5: string countryCode,
}

struct User {
  1: required common.UserId id,
  2: required string handle,
  3: string firstName,
  4: string lastName,
  5: string email,
  6: optional string phoneNumber,
  7: optional common.Url avatarUrl,
  8: optional string bio,
  9: optional Address address,
  10: AccountStatus status = AccountStatus.ACTIVE,
  11: Role role = Role.MEMBER,
  12: set<string> interests,
  13: i32 followerCount,
  14: i32 followingCount,
  15: bool isVerified,
  16: string locale,
  17: string timezone,
  18: common.Timestamp createdAt,
  19: optional common.Timestamp lastSeenAt,
}

struct UserQuery {
  1: optional string nameContains,
  2: optional AccountStatus status,
  3: optional Role role,
  4: common.PageRequest page,
}

struct UserPage {
  1: list<User> users,
  2: i32 totalCount,
  3: optional string nextCursor,
}

struct NewUser {
  1: required string email,
  2: required string firstName,
  3: required string lastName,
  4: optional string handle,
  5: optional string locale,
}

service Users extends common.BaseService {
  User getUser(1: common.UserId id) throws (1: common.NotFound notFound),
  map<common.UserId, User> getUsers(1: list<common.UserId> ids),
  UserPage listUsers(1: UserQuery query) throws (1: common.InvalidRequest invalid),
  User createUser(1: NewUser user) throws (1: common.InvalidRequest invalid),
  void deleteUser(1: common.UserId id) throws (1: common.NotFound notFound),
}
