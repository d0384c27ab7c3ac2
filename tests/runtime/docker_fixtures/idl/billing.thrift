namespace py shop.billing
include "common.thrift"

service Billing {
  common.Money balance(1: i64 userId),
  double rate(1: common.Currency source, 2: common.Currency target),
  list<common.Currency> currencies(),
  byte priority(1: string account),
}
