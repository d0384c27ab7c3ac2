"""thriftbox: every service in a folder of Thrift IDL, served by a realistic mock."""

from thriftbox.errors import ThriftboxError

__version__ = "0.1.0"
__all__ = ["ThriftboxError", "__version__"]
