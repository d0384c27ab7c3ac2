"""Unfinished messages are bounded for a server as a whole, not only per connection (issue 16, item 8: 16 MiB per
unfinished frame, 40 slow connections took +600 MiB): past the cap, the connection whose bytes would pass it is
closed, the others keep their place, and the count goes down as connections finish or close."""

from __future__ import annotations

import struct
import time
from collections.abc import Iterator

import pytest
from thriftpy2.thrift import TMessageType

from tests.wire.test_support import EchoApp, RawClient, binary_call, load_client_module
from thriftbox.wire import ServerThread, ThriftServer

tp = load_client_module()
CAP = 1_000_000


@pytest.fixture
def server() -> Iterator[ThriftServer]:
    with ServerThread() as thread:
        yield thread.serve(EchoApp(), max_buffered=CAP)


def wait_for(predicate: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.02)


def test_the_connection_that_passes_the_cap_is_closed_and_the_others_stay(server: ThriftServer) -> None:
    start = struct.pack(">i", 2_000_000) + b"\x80\x01\x00\x01"  # a 2 MB frame, begun
    clients = [RawClient(server.port) for _ in range(3)]
    try:
        for c in clients[:2]:
            c.send(start + b"x" * 400_000)
        wait_for(lambda: server.buffered >= 800_000)
        assert 800_000 <= server.buffered <= CAP
        clients[2].send(start + b"x" * 400_000)  # 1.2 MB in all: over the cap
        assert clients[2].closed_by_server(timeout=5)
        assert not clients[0].closed_by_server(timeout=0.3)
        assert server.buffered <= CAP
        with RawClient(server.port) as fresh:  # the server still answers whole messages
            fresh.send(binary_call("ping", tp.Echo.ping_args(), seqid=5))
            assert fresh.reply(tp.Echo.ping_result)[1:3] == (TMessageType.REPLY, 5)
    finally:
        for c in clients:
            c.close()
    wait_for(lambda: server.buffered == 0)
    assert server.buffered == 0  # given back when the connections went
