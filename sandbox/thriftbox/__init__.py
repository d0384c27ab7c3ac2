"""thriftbox: every service in a folder of Thrift IDL, served by a realistic mock.

The public API, import-light (the supervisor is imported when first used)::

    from thriftbox import serve, ServeConfig

    with serve(ServeConfig(paths=["idl"], runtime="process")) as session:
        print(session.ports)        # {"users.Users": 9090, ...}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from thriftbox.about import __version__
from thriftbox.errors import ThriftboxError

if TYPE_CHECKING:
    from thriftbox.supervisor.config import ServeConfig
    from thriftbox.supervisor.session import Session, serve

__all__ = ["ServeConfig", "Session", "ThriftboxError", "__version__", "serve"]


def __getattr__(name: str) -> Any:
    if name == "ServeConfig":
        from thriftbox.supervisor.config import ServeConfig

        return ServeConfig
    if name in ("Session", "serve"):
        from thriftbox.supervisor import session

        return getattr(session, name)
    raise AttributeError(f"module 'thriftbox' has no attribute {name!r}")
