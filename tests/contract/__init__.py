"""Fixtures for contract tests: a small IDL and real thriftpy2 providers to verify."""
