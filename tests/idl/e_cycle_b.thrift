// b includes a back
include "e_cycle_a.thrift"

struct B { 1: i32 x }
