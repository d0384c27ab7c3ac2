"""A real provider for verification tests: thriftpy2's own parser and processor behind a loopback socket.

The provider is built from ``thriftpy2.load`` of the same IDL, not from thriftbox's classes, so a passing
verification shows that thriftbox and an independent implementation agree on the wire.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import ModuleType
from typing import Any

import thriftpy2
from thriftpy2.protocol import TCompactProtocol, TCyBinaryProtocol
from thriftpy2.thrift import TProcessor
from thriftpy2.transport import TCyBufferedTransport, TCyFramedTransport, TSocket

USERS_IDL = Path(__file__).with_name("users.thrift")
DRIFTED_IDL = Path(__file__).with_name("users_drift.thrift")


def users_module(idl: Path = USERS_IDL) -> ModuleType:
    return thriftpy2.load(str(idl), module_name=f"contract_{idl.stem}_thrift")


class UserHandler:
    """A correct implementation of users.UserService; tests override single methods to break it."""

    def __init__(self, idl: Path = USERS_IDL) -> None:
        self.mod = users_module(idl)
        self.touched: list[int] = []

    def user(self, uid: int) -> Any:
        m = self.mod
        return m.User(
            id=uid,
            name=f"User {uid}",
            email=f"user{uid}@example.com",
            status=m.Status.ACTIVE,
            address=m.Address(city="Lyon"),
            tags=["a", "b"],
            scores={"x": 1},
        )

    def getUser(self, id: int) -> Any:
        if id < 0:
            raise self.mod.NotFound(message=f"no user {id}")
        return self.user(id)

    def listUsers(self, limit: int, status: int) -> list[Any]:
        return [self.user(i) for i in range(max(0, min(limit, 5)))]

    def find(self, by: Any) -> Any:
        return self.user(by.id if by.id is not None else 7)

    def ping(self) -> None:
        return None

    def touch(self, id: int) -> None:
        self.touched.append(id)


@contextmanager
def serve(handler: Any, *, protocol: str = "binary", framing: str = "buffered") -> Iterator[int]:
    """Serve ``handler`` on a free loopback port until the block ends; yields the port."""
    service = handler.mod.UserService
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    conns: list[socket.socket] = []

    def handle(conn: socket.socket) -> None:
        sock = TSocket(sock=conn)
        trans = (TCyFramedTransport if framing == "framed" else TCyBufferedTransport)(sock)
        proto = (TCyBinaryProtocol if protocol == "binary" else TCompactProtocol)(trans)
        processor = TProcessor(service, handler)
        try:
            while True:
                processor.process(proto, proto)
        except Exception:  # EOF, or an undeclared exception: thriftpy2 drops the connection
            pass
        finally:
            sock.close()

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            conns.append(conn)
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    def stop_listening() -> None:
        with suppress(OSError):  # wakes the blocked accept(); close() alone does not on Linux
            listener.shutdown(socket.SHUT_RDWR)
        listener.close()

    handler.stop_listening = stop_listening  # lets a test play a provider that goes away mid-run
    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop_listening()
        for conn in conns:
            with suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        acceptor.join(timeout=2)
