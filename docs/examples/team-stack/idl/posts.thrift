namespace py posts

include "common.thrift"

struct Post {
  1: i64 id
  2: common.UserId authorId
  3: string title
  4: string body
}

service Posts {
  list<Post> recentPosts(1: common.UserId authorId, 2: i32 limit)
}
