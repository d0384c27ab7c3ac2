namespace py ads

struct Ad {
  1: i64 id
  2: string headline
  3: string url
}

service Ads {
  list<Ad> adsFor(1: i64 userId, 2: i32 slots)
}
