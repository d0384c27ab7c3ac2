namespace py missing
include "shared/common.thrift"

service S { void f() }
