// Ads: sponsored entries mixed into the feed, and the fire-and-forget events they produce.

include "common.thrift"

namespace py homefeed.ads
namespace java com.example.homefeed.ads
namespace go homefeed.ads

enum AdFormat {
  BANNER = 1,
  NATIVE = 2,
  VIDEO = 3,
}

enum CallToAction {
  SHOP_NOW = 1,
  LEARN_MORE = 2,
  SIGN_UP = 3,
  INSTALL = 4,
}

struct Ad {
  1: required string id,
  2: string advertiser,
  3: string headline,
  // An annotation picks the Faker provider instead of the guess from the field name (here: a sentence).
  4: string tagline (faker = "catch_phrase"),
  5: string body,
  6: common.Url imageUrl,
  7: common.Url clickUrl,
  8: AdFormat format,
  9: CallToAction callToAction,
  10: double bidPrice,
  11: string currency,
  12: common.Timestamp expiresAt,
}

struct AdRequest {
  1: common.UserId userId,
  2: string placement,
  3: i32 count = 3,
  4: optional string locale,
}

struct Impression {
  1: required string adId,
  2: common.UserId userId,
  3: string placement,
  4: common.Timestamp shownAt,
}

service Ads extends common.BaseService {
  list<Ad> getAds(1: AdRequest request) throws (1: common.RateLimited rateLimited),
  oneway void recordImpression(1: Impression impression),
  oneway void recordClick(1: string adId, 2: common.UserId userId),
}
