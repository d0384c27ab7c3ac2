"""Hostile input closes only its own connection, while a well-formed client keeps getting right answers.

Every test sends something broken on fresh connections while ``good``, a thriftpy2 client on its own
connection, calls the same server in a loop and checks each answer. No test may make the server log a
traceback at warning level or above.
"""

from __future__ import annotations

import logging
import random
import socket
import struct
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from thriftpy2.rpc import make_client

from tests.wire.test_support import (
    Call,
    EchoApp,
    RawClient,
    Reply,
    Success,
    binary_call,
    framed,
    load_client_module,
)
from thriftbox.wire import ServerThread, ThriftServer
from thriftbox.wire.ratelog import RateLimited

tp = load_client_module()


class FuzzApp(EchoApp):
    """EchoApp whose ``slow`` never sleeps long, whatever random bytes ask for."""

    async def handle(self, call: Call) -> Reply:
        if call.method == "slow":
            return Success(0)
        return await super().handle(call)


class GoodClient(threading.Thread):
    """Calls getPoint in a loop on one connection, checking every answer."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.client = make_client(tp.Echo, "127.0.0.1", port, timeout=5000)
        self.calls = 0
        self.errors: list[str] = []
        self.done = threading.Event()
        self._seen = 0

    def run(self) -> None:
        n = 0
        while not self.done.is_set():
            try:
                point = self.client.getPoint(n, "x" * (n % 7))
            except Exception as exc:
                self.errors.append(f"call {n}: {exc!r}")
                return
            if (point.x, point.y) != (n, n % 7):
                self.errors.append(f"call {n}: wrong answer {point}")
            n += 1
            self.calls = n

    def check(self) -> None:
        """No wrong answer so far, and calls still go through."""
        deadline = time.monotonic() + 5
        while self.calls <= self._seen and time.monotonic() < deadline and not self.errors:
            time.sleep(0.01)
        assert self.errors == []
        assert self.calls > self._seen, "the well-formed client stopped getting answers"
        self._seen = self.calls


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[ThriftServer, GoodClient]]:
    with ServerThread() as thread:
        server = thread.serve(FuzzApp())
        good = GoodClient(server.port)
        good.start()
        yield server, good
        good.done.set()
        good.join(5)
        good.client.close()


@pytest.fixture(autouse=True)
def no_tracebacks(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.WARNING)
    yield
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING and (r.exc_info or r.name == "asyncio")]
    assert loud == [], [r.getMessage() for r in loud]


def send_and_wait_for_close(
    port: int, data: bytes, *, half_close: bool = True, timeout: float = 3.0
) -> bytes:
    """Send ``data`` (then shut down our sending side); return what the server sent before closing."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(data)
            if half_close:
                sock.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            return b""  # closed while we were still sending: that is a close too
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except ConnectionResetError:
            pass
        return received


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(min_size=1, max_size=1500))
def test_random_bytes(served: tuple[ThriftServer, GoodClient], data: bytes) -> None:
    server, _ = served
    send_and_wait_for_close(server.port, data)  # must end: recv times out (an error) if the server hangs


def valid_messages() -> list[bytes]:
    from thriftpy2.protocol import TCompactProtocol
    from thriftpy2.transport import TMemoryBuffer

    from tests.wire.test_support import ResettingApacheJSONProtocol

    args = tp.Echo.echo_args(
        bag=tp.Bag(
            text="fuzz", nums=[1, 2], tags=["t"], points={"p": tp.Point(x=1, y=2)}, path=[tp.Point(x=3)]
        )
    )
    out = [binary_call("echo", args), binary_call("echo", args, strict=False)]
    for proto_cls in (TCompactProtocol, ResettingApacheJSONProtocol):
        buf = TMemoryBuffer()
        proto = proto_cls(buf)
        proto.write_message_begin("echo", 1, 5)
        proto.write_struct(args)
        out.append(bytes(buf.getvalue()))
    return out + [framed(m) for m in out]


def test_mutated_messages(served: tuple[ThriftServer, GoodClient]) -> None:
    """Real messages with a few bytes changed: answered, refused or closed; never a hang or a crash."""
    server, good = served
    rnd = random.Random(20240601)
    for i in range(300):
        base = bytearray(rnd.choice(valid_messages()))
        for _ in range(rnd.randint(1, 4)):
            base[rnd.randrange(len(base))] = rnd.randrange(256)
        send_and_wait_for_close(server.port, bytes(base))
        if i % 50 == 0:
            good.check()
    good.check()


@pytest.mark.parametrize("index", range(8))
def test_truncated_messages(served: tuple[ThriftServer, GoodClient], index: int) -> None:
    """A message cut short waits for the rest (no idle timeout); the client's close ends it quietly."""
    server, good = served
    message = valid_messages()[index]
    for cut in (1, 5, len(message) // 2, len(message) - 1):
        with RawClient(server.port) as client:
            client.send(message[:cut])
            client.sock.settimeout(0.05)
            with pytest.raises(TimeoutError):
                client.sock.recv(10)
    good.check()


def test_message_truncated_inside_its_frame_closes(served: tuple[ThriftServer, GoodClient]) -> None:
    server, good = served
    message = binary_call("getPoint", tp.Echo.getPoint_args(id=1, hint="hello"))[:-4]
    assert send_and_wait_for_close(server.port, framed(message), half_close=False) == b""
    good.check()


def test_two_gigabyte_frame_header(
    served: tuple[ThriftServer, GoodClient], caplog: pytest.LogCaptureFixture
) -> None:
    server, good = served
    server.warnings = RateLimited(
        logging.getLogger("thriftbox.wire")
    )  # a fresh window: earlier tests used it up
    data = struct.pack(">i", 2**31 - 1) + b"\x80\x01\x00\x01"
    assert send_and_wait_for_close(server.port, data, half_close=False) == b""
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("127.0.0.1:" in w and "exceeds the limit" in w for w in warnings), warnings
    good.check()


def test_oversized_frame_and_message(served: tuple[ThriftServer, GoodClient]) -> None:
    server, good = served
    over = 16 * 2**20 + 1
    assert (
        send_and_wait_for_close(server.port, struct.pack(">i", over) + b"\x80\x01", half_close=False) == b""
    )
    # buffered: a string claiming 32 MiB is refused before the bytes arrive
    head = b"\x80\x01\x00\x01" + struct.pack(">i", 4) + b"echo" + struct.pack(">i", 1)
    field = b"\x0b\x00\x01" + struct.pack(">i", 32 * 2**20)
    assert send_and_wait_for_close(server.port, head + field + b"x" * 100, half_close=False) == b""
    good.check()


def test_frame_limit_is_configurable() -> None:
    with ServerThread() as thread:
        server = thread.serve(EchoApp(), max_frame=1024)
        small = binary_call("fail", tp.Echo.fail_args(how="ok"))
        big = binary_call("fail", tp.Echo.fail_args(how="x" * 2000))
        with RawClient(server.port, framed=True) as client:
            client.send(framed(small))
            assert client.reply(tp.Echo.fail_result)[3].success == "ok:ok"
        assert send_and_wait_for_close(server.port, framed(big), half_close=False) == b""
        assert send_and_wait_for_close(server.port, big, half_close=False) == b""


def test_garbage_starts(served: tuple[ThriftServer, GoodClient]) -> None:
    server, good = served
    for data in (b"\xff\xff\xff\xff\x00", b"\x80\x02\x00\x01", b"\x82\xff", b"\x00" * 64):
        assert send_and_wait_for_close(server.port, data, half_close=False) == b""
    answer = send_and_wait_for_close(server.port, b"HELLO WORLD\r\n", half_close=False)
    assert answer.startswith(b"HTTP/1.1 400")  # looks like an HTTP request line, a bad one
    good.check()


def test_http_garbage(served: tuple[ThriftServer, GoodClient]) -> None:
    server, good = served
    rnd = random.Random(7)
    for _ in range(60):
        junk = bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 300)))
        length = rnd.choice([len(junk), len(junk) + 50, 0])
        variants: list[Any] = [
            b"POST / HTTP/1.1\r\n" + junk + b"\r\n\r\n",
            b"POST / HTTP/1.1\r\nContent-Length: %d\r\n\r\n" % length + junk,
            b"PUT " + junk + b"\r\n\r\n",
        ]
        for data in variants:
            answer = send_and_wait_for_close(server.port, data)
            assert answer == b"" or answer.startswith(b"HTTP/1.1 4"), answer[:80]
    good.check()


def test_http_head_without_end_is_bounded(served: tuple[ThriftServer, GoodClient]) -> None:
    server, good = served
    answer = send_and_wait_for_close(server.port, b"POST / HTTP/1.1\r\nX: " + b"a" * 70000, half_close=False)
    assert answer.startswith(b"HTTP/1.1 431")
    good.check()
