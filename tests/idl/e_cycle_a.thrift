include "e_cycle_b.thrift"

struct A { 1: e_cycle_b.B b }
