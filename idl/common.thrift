// Shared types of the home-feed demo stack: ids, time, paging and the errors every service can throw.
//
// thriftbox reads typedef names as hints: a field of type Timestamp gets an epoch-milliseconds value from
// the last two years, a UserId a positive id, a Url a https URL.

namespace py homefeed.common
namespace java com.example.homefeed.common
namespace go homefeed.common

/** Milliseconds since the Unix epoch, UTC. */
typedef i64 Timestamp
typedef i64 UserId
typedef string ItemId
typedef string Url

const string API_VERSION = "1.4.0"

enum SortOrder {
  NEWEST = 1,
  POPULAR = 2,
  RECOMMENDED = 3,
}

/** Cursor-based paging, shared by every list call. */
struct PageRequest {
  1: i32 limit = 20,
  2: optional string cursor,
  3: SortOrder sortOrder = SortOrder.RECOMMENDED,
}

exception NotFound {
  1: string message,
  2: string resourceType,
  3: string resourceId,
}

exception InvalidRequest {
  1: string message,
  2: optional string fieldName,
}

exception RateLimited {
  1: string message,
  2: i32 retryAfterMs,
}

/** Every service of the stack extends this one, so every mock answers ping() and getVersion(). */
service BaseService {
  void ping(),
  string getVersion(),
}
