"""A Thrift client for any service in a catalog, without generated code: for ``call``, ``verify`` and tests.

It speaks the same protocols and framings as the server (binary or compact, buffered or framed) through
thriftpy2's own client machinery, fed with the payload classes thriftbox builds from its model.
"""

from __future__ import annotations

import types
from typing import Any

from thriftpy2.thrift import TClient

from thriftbox.client.transport import Tls, open_transport
from thriftbox.idl.classes import Classes


def service_module(classes: Classes, service_id: str) -> types.SimpleNamespace:
    """A stand-in for a thriftpy2-generated service: ``thrift_services`` plus ``<m>_args``/``<m>_result``."""
    svc = classes.catalog.services[service_id]
    ns = types.SimpleNamespace(thrift_services=list(svc.methods), __name__=svc.name)
    for name in svc.methods:
        setattr(ns, f"{name}_args", classes.args(service_id, name))
        setattr(ns, f"{name}_result", classes.result(service_id, name))
    return ns


class ThriftClient:
    """A connected client: ``client.call("getUser", id=42)``. Use as a context manager or call close()."""

    def __init__(
        self,
        classes: Classes,
        service_id: str,
        host: str,
        port: int,
        *,
        protocol: str = "binary",
        framing: str = "buffered",
        timeout: float = 10.0,
        tls: Tls | None = None,
    ) -> None:
        self.service_id = service_id
        self.module = service_module(classes, service_id)
        opened = open_transport(host, port, protocol, framing, timeout, tls=tls)
        self.transport: Any = opened.transport
        module: Any = self.module
        self._client = TClient(module, opened.protocol)

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call ``method``; returns the result, raises a declared exception or TApplicationException."""
        return getattr(self._client, method)(*args, **kwargs)

    def __getattr__(self, method: str) -> Any:
        if method.startswith("_") or method not in self.module.thrift_services:
            raise AttributeError(method)
        return getattr(self._client, method)

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> ThriftClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
