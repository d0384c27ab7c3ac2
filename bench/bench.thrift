// The benchmark's IDL: one realistic read call, the shape of most feed-stack calls.
namespace py bench

enum Tier { FREE = 1, PLUS = 2, PRO = 3 }

struct Address {
  1: string street
  2: string city
  3: string country
}

struct Profile {
  1: required i64 id
  2: string name
  3: string email
  4: string avatarUrl
  5: i64 createdAt
  6: Tier tier
  7: double rating
  8: list<string> tags
  9: Address address
}

service Profiles {
  Profile getProfile(1: i64 id)
}
