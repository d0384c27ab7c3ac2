// Catalog: the items sold on the platform, their prices and reviews.

include "common.thrift"

namespace py homefeed.catalog
namespace java com.example.homefeed.catalog
namespace go homefeed.catalog

enum Availability {
  IN_STOCK = 1,
  LOW_STOCK = 2,
  OUT_OF_STOCK = 3,
  PREORDER = 4,
}

struct Money {
  1: required double amount,
  2: required string currency,
}

struct Item {
  1: required common.ItemId id,
  2: required string title,
  3: optional string description,
  4: required Money price,
  5: optional double discountPercent,
  6: common.Url imageUrl,
  7: list<string> tags,
  8: string category,
  9: string sku,
  10: double rating,
  11: i32 reviewCount,
  12: Availability availability = Availability.IN_STOCK,
  13: common.UserId sellerId,
  14: common.Timestamp createdAt,
  15: common.Timestamp updatedAt,
}

struct Review {
  1: required string id,
  2: required common.ItemId itemId,
  3: common.UserId authorId,
  4: string authorName,
  // faker.min / faker.max bound a number: whole stars from 1 to 5.
  5: i32 stars (faker.min = "1", faker.max = "5"),
  6: string title,
  7: string body,
  8: i32 helpfulCount,
  9: common.Timestamp createdAt,
}

struct SearchRequest {
  1: string query,
  2: optional list<string> categories,
  3: optional double minPrice,
  4: optional double maxPrice,
  5: common.PageRequest page,
}

struct SearchResult {
  1: list<Item> items,
  2: i32 totalCount,
  3: map<string, i32> countsByCategory,
  4: optional string nextCursor,
}

service Catalog extends common.BaseService {
  Item getItem(1: common.ItemId id) throws (1: common.NotFound notFound),
  list<Item> getItems(1: list<common.ItemId> ids),
  SearchResult search(1: SearchRequest request) throws (1: common.InvalidRequest invalid),
  list<Review> getReviews(1: common.ItemId itemId, 2: i32 limit) throws (1: common.NotFound notFound),
}
