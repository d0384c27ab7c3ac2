namespace py proxypeople

exception NotFound {
  1: required string message,
  2: i64 id,
}

struct Person {
  1: required i64 id,
  2: required string name,
  3: optional string email,
  4: optional string apiToken,
}

service People {
  Person getPerson(1: i64 id) throws (1: NotFound notFound),
  i64 add(1: i64 a, 2: i64 b),
  list<string> greet(1: string name, 2: i32 times),
  Person broken(1: i64 id),
  string slow(1: i32 ms),
  i64 counter(1: string name),
}

service Clock {
  string now(),
}
