namespace py common

typedef i64 UserId

exception NotFound {
  1: string message
}
