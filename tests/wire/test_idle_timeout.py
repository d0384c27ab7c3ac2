"""A connection that stops in the middle of a message is closed after the idle timeout, freeing what it held
(issue 16, item 8: 16 MiB per unfinished frame were held with no timeout); a connection that keeps sending, or
that sits idle between whole messages, is left alone."""

from __future__ import annotations

import struct
import time
from collections.abc import Iterator

import pytest
from thriftpy2.thrift import TMessageType

from tests.wire.test_support import EchoApp, RawClient, binary_call, load_client_module
from thriftbox.wire import ServerThread, ThriftServer

tp = load_client_module()
IDLE = 0.5


@pytest.fixture
def server() -> Iterator[ThriftServer]:
    with ServerThread() as thread:
        yield thread.serve(EchoApp(), idle_timeout=IDLE)


def test_a_half_sent_frame_is_dropped_after_the_idle_timeout(server: ThriftServer) -> None:
    with RawClient(server.port) as client:
        client.send(struct.pack(">i", 1_000_000) + b"\x80\x01\x00\x01" + b"x" * 1000)  # 1 MB frame, 1 KB sent
        time.sleep(0.1)
        assert len(server.connections) == 1
        t0 = time.monotonic()
        assert client.closed_by_server(timeout=5)
        assert IDLE * 0.8 < time.monotonic() - t0 < IDLE + 2
    deadline = time.monotonic() + 3
    while server.connections and time.monotonic() < deadline:  # the server's side of the close, on its thread
        time.sleep(0.02)
    assert not server.connections


def test_a_slow_but_steady_sender_is_not_dropped(server: ThriftServer) -> None:
    call = binary_call("ping", tp.Echo.ping_args(), seqid=7)
    with RawClient(server.port) as client:
        for byte in call:  # one byte every IDLE/3 seconds: slow, but never idle for IDLE
            client.send(bytes([byte]))
            time.sleep(IDLE / 3)
        assert client.reply(tp.Echo.ping_result)[1:3] == (TMessageType.REPLY, 7)


def test_idle_between_whole_messages_is_not_a_timeout(server: ThriftServer) -> None:
    with RawClient(server.port) as client:
        client.send(binary_call("ping", tp.Echo.ping_args(), seqid=1))
        assert client.reply(tp.Echo.ping_result)[2] == 1
        time.sleep(IDLE * 3)
        client.send(binary_call("ping", tp.Echo.ping_args(), seqid=2))
        assert client.reply(tp.Echo.ping_result)[2] == 2
