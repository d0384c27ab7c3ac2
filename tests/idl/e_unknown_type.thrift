struct User {
  1: string name
}

service Users {
  Usr get(1: i64 id)
}
