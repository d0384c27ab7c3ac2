// Feed: the home feed, which mixes posts, catalog items and ads for one user.
//
//   thrift -r --gen py feed.thrift      generates this file and everything it includes

include "common.thrift"
include "users.thrift"
include "catalog.thrift"
include "ads.thrift"

namespace py homefeed.feed
namespace java com.example.homefeed.feed
namespace go homefeed.feed

enum FeedReason {
  FOLLOWING = 1,
  TRENDING = 2,
  RECOMMENDED = 3,
  SPONSORED = 4,
}

struct Post {
  1: required string id,
  2: required users.User author,
  3: string text,
  4: optional list<common.Url> imageUrls,
  5: i32 likeCount,
  6: i32 commentCount,
  7: common.Timestamp createdAt,
}

/** One entry of the feed is exactly one of these. */
union FeedContent {
  1: Post post,
  2: catalog.Item item,
  3: ads.Ad ad,
}

struct FeedEntry {
  1: required string id,
  2: required FeedContent content,
  3: FeedReason reason,
  4: double score,
}

struct FeedPage {
  1: common.UserId userId,
  2: list<FeedEntry> entries,
  3: list<users.User> suggestedUsers,
  4: optional string nextCursor,
  5: common.Timestamp generatedAt,
}

/** Comments nest: replies are comments too. */
struct Comment {
  1: required string id,
  2: common.UserId authorId,
  3: string authorName,
  4: string text,
  5: i32 likeCount,
  6: common.Timestamp createdAt,
  7: optional list<Comment> replies,
}

service Feed extends common.BaseService {
  FeedPage getHomeFeed(1: common.UserId userId, 2: i32 limit, 3: string cursor)
    throws (1: common.NotFound notFound, 2: common.RateLimited rateLimited),
  list<Comment> getComments(1: string postId, 2: i32 limit) throws (1: common.NotFound notFound),
  void markSeen(1: common.UserId userId, 2: list<string> entryIds),
}
