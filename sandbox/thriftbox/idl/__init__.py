"""thriftbox's Thrift IDL front end: ``load_catalog(paths, include_dirs)`` returns the typed model.

Only this package parses IDL; everything else works on the :class:`~thriftbox.idl.model.Catalog` it returns.
"""

from thriftbox.idl.loader import load_catalog
from thriftbox.idl.model import Catalog

__all__ = ["Catalog", "load_catalog"]
