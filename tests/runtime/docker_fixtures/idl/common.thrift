// Shared types of the three-service Docker fixture.
namespace py shop.common

enum Currency {
  EUR = 1,
  USD = 2,
  JPY = 3,
}

struct Money {
  1: required i64 cents,
  2: required Currency currency,
}

exception NotFound {
  1: string what,
}
