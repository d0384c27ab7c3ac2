"""Thrift clients of thriftbox's own: a catalog-driven client and the readiness probe."""
