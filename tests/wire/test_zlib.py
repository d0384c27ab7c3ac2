"""Apache's ``TZlibTransport`` over buffered and framed, binary and compact, against a real port."""

from __future__ import annotations

import socket
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
from thrift.protocol import TBinaryProtocol, TCompactProtocol
from thrift.transport import TSocket, TTransport
from thrift.transport.TZlibTransport import TZlibTransport

from tests.wire.apache import generate
from tests.wire.test_support import WIRE_IDL, EchoApp, binary_call, load_client_module
from thriftbox.wire import ServerThread, ThriftServer

tp = load_client_module()


class CountingSocket(TSocket.TSocket):  # type: ignore[misc]
    """Counts the bytes that arrive on the wire."""

    received = 0

    def read(self, sz: int) -> bytes:
        data: bytes = super().read(sz)
        self.received += len(data)
        return data


PROTOCOLS = {"binary": TBinaryProtocol.TBinaryProtocol, "compact": TCompactProtocol.TCompactProtocol}


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[ThriftServer, EchoApp]]:
    app = EchoApp()
    with ServerThread() as thread:
        yield thread.serve(app, max_frame=1 << 20), app


@pytest.fixture(scope="module")
def gen(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return generate(tmp_path_factory.mktemp("zlib-gen"), WIRE_IDL, "tbwire_gen", ("Echo", "ttypes"))


@pytest.mark.parametrize("transport", ["buffered", "framed"])
@pytest.mark.parametrize("protocol", ["binary", "compact"])
def test_zlib_clients(served: tuple[ThriftServer, EchoApp], gen: Any, protocol: str, transport: str) -> None:
    """Apache TestClient's ``--zlib``: ``TZlibTransport(TBufferedTransport|TFramedTransport(socket), 9)``."""
    server, app = served
    sock = CountingSocket("127.0.0.1", server.port)
    sock.setTimeout(5000)
    inner = (
        TTransport.TFramedTransport(sock) if transport == "framed" else TTransport.TBufferedTransport(sock)
    )
    trans = TZlibTransport(inner, 9)
    trans.open()
    try:
        client = gen.Echo.Client(PROTOCOLS[protocol](trans))
        for n in range(3):  # one zlib stream per direction, flushed after each message
            bag = gen.ttypes.Bag(text="compress me " * 2000, nums=list(range(n * 100)))
            assert client.echo(bag) == bag
        assert (app.calls[-1].framing, app.calls[-1].protocol) == ("zlib", protocol)
        assert sock.received < 3 * 24000 / 10  # the answers (24 KB of text each) really came compressed
        client.fire(99)
        assert client.getPoint(5, "xy").y == 2
        assert 99 in app.fired
    finally:
        trans.close()


def test_zlib_bomb_closes_the_connection(served: tuple[ThriftServer, EchoApp]) -> None:
    """A message that inflates beyond the frame limit closes the connection instead of filling memory."""
    server, app = served
    before = len(app.calls)
    big = binary_call("echo", tp.Echo.echo_args(bag=tp.Bag(text="a" * (4 << 20))))
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(zlib.compress(big, 9))
        assert sock.recv(100) == b""
    assert len(app.calls) == before
