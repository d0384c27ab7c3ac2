"""What clients get when a call cannot be answered normally: Apache-style EXCEPTION replies, and faults."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from thriftpy2.thrift import TApplicationException, TMessageType

from tests.wire.test_support import (
    WRONG_IDL,
    EchoApp,
    RawClient,
    binary_call,
    exchange,
    load_client_module,
)
from thriftbox.wire import ServerThread, ThriftServer

tp = load_client_module()
wrong = load_client_module(WRONG_IDL, "wiretest_wrong_thrift")
CASES = [(p, f) for p in ("binary", "compact", "json") for f in ("buffered", "framed")]


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[ThriftServer, EchoApp]]:
    app = EchoApp()
    with ServerThread() as thread:
        yield thread.serve(app), app


@pytest.mark.parametrize(("protocol", "framing"), CASES)
@pytest.mark.parametrize("name", ["noSuchMethod", "Nope:getPoint"])
def test_unknown_method(served: tuple[ThriftServer, EchoApp], protocol: str, framing: str, name: str) -> None:
    """Never accept an unknown name (Finagle's TTwitter upgrade is accepted: tests/test_wire_ttwitter.py)."""
    server, _ = served
    _, mtype, seqid, exc = exchange(server.port, protocol, framing, name, tp.Echo.ping_args(), seqid=4242)
    assert (mtype, seqid) == (TMessageType.EXCEPTION, 4242)
    assert exc.type == TApplicationException.UNKNOWN_METHOD
    assert name in exc.message


@pytest.mark.parametrize(("protocol", "framing"), CASES)
def test_missing_required_argument(served: tuple[ThriftServer, EchoApp], protocol: str, framing: str) -> None:
    server, _ = served
    args = tp.Echo.getPoint_args(hint="no id")  # written as is: the writer does not enforce `required`
    _, mtype, _, exc = exchange(server.port, protocol, framing, "getPoint", args)
    assert mtype == TMessageType.EXCEPTION
    assert exc.type == TApplicationException.PROTOCOL_ERROR
    assert exc.message == "getPoint: required argument 'id' (field 1) is missing"


@pytest.mark.parametrize(("protocol", "framing"), CASES)
def test_wrong_argument_type(served: tuple[ThriftServer, EchoApp], protocol: str, framing: str) -> None:
    """thriftpy2's decoders skip a mistyped field silently; the server names it instead."""
    server, _ = served
    args = wrong.Echo.getPoint_args(id="42", hint="x")
    _, mtype, _, exc = exchange(server.port, protocol, framing, "getPoint", args)
    assert mtype == TMessageType.EXCEPTION
    assert exc.type == TApplicationException.PROTOCOL_ERROR
    assert exc.message == "getPoint: argument 'id' (field 1) must be i64, got string"


@pytest.mark.parametrize(("protocol", "framing"), CASES)
def test_handler_crash_is_internal_error_and_connection_survives(
    served: tuple[ThriftServer, EchoApp], protocol: str, framing: str, caplog: pytest.LogCaptureFixture
) -> None:
    server, _ = served
    client = make(server.port, protocol, framing)
    try:
        with pytest.raises(TApplicationException) as caught:
            client.fail("boom")
        assert caught.value.type == TApplicationException.INTERNAL_ERROR
        assert "RuntimeError: boom" in caught.value.message
        with pytest.raises(TApplicationException) as caught:
            client.fail("late-boom")
        assert (caught.value.type, caught.value.message) == (
            TApplicationException.INTERNAL_ERROR,
            "fail: RuntimeError: late boom",
        )
        assert client.fail("yield") == "yielded"
        with pytest.raises(TApplicationException) as caught:
            client.fail("bad")  # a value the encoder refuses
        assert caught.value.type == TApplicationException.INTERNAL_ERROR
        with pytest.raises(TApplicationException) as caught:
            client.fail("apperr")
        assert (caught.value.type, caught.value.message) == (
            TApplicationException.INTERNAL_ERROR,
            "told to fail",
        )
        assert client.fail("still-here") == "ok:still-here"
    finally:
        client.close()
    assert any("boom" in r.getMessage() for r in caplog.records)


def make(port: int, protocol: str, framing: str) -> Any:
    from thriftpy2.rpc import make_client
    from thriftpy2.transport import TBufferedTransportFactory, TFramedTransportFactory

    from tests.wire.test_support import proto_factory

    trans = TFramedTransportFactory() if framing == "framed" else TBufferedTransportFactory()
    return make_client(tp.Echo, "127.0.0.1", port, proto_factory=proto_factory(protocol), trans_factory=trans)


@pytest.mark.parametrize("mtype", [TMessageType.ONEWAY, TMessageType.CALL])
def test_oneway_gets_no_reply(served: tuple[ThriftServer, EchoApp], mtype: int) -> None:
    """ONEWAY messages, and CALLs of a oneway method (pre-0.9.3 clients), are not answered: the next reply
    on the connection belongs to the next call."""
    server, app = served
    with RawClient(server.port) as client:
        client.send(binary_call("fire", tp.Echo.fire_args(n=777 + mtype), seqid=10, mtype=mtype))
        client.send(binary_call("fail", tp.Echo.fail_args(how="next"), seqid=11))
        name, rtype, seqid, result = client.reply(tp.Echo.fail_result)
        assert (name, rtype, seqid, result.success) == ("fail", TMessageType.REPLY, 11, "ok:next")
    assert 777 + mtype in app.fired


def test_pipelined_calls_answered_in_order_with_seqids(served: tuple[ThriftServer, EchoApp]) -> None:
    """One burst: slow calls (the App suspends) between quick ones; replies come back in request order."""
    server, _ = served
    calls = [("slow", 100, 7), ("fail", "a", -3), ("slow", 30, 2**31 - 1), ("fail", "b", 0), ("fail", "c", 5)]
    burst = b"".join(
        binary_call(
            name, tp.Echo.slow_args(ms=arg) if name == "slow" else tp.Echo.fail_args(how=arg), seqid=s
        )
        for name, arg, s in calls
    )
    with RawClient(server.port) as client:
        client.send(burst)
        for name, arg, s in calls:
            result_cls = tp.Echo.slow_result if name == "slow" else tp.Echo.fail_result
            _, _, seqid, result = client.reply(result_cls)
            assert (seqid, result.success) == (s, arg if name == "slow" else f"ok:{arg}")


def test_non_call_message_type(served: tuple[ThriftServer, EchoApp]) -> None:
    server, _ = served
    with RawClient(server.port) as client:
        client.send(binary_call("ping", tp.Echo.ping_args(), seqid=5, mtype=TMessageType.REPLY))
        _, mtype, seqid, exc = client.reply()
        assert (mtype, seqid, exc.type) == (
            TMessageType.EXCEPTION,
            5,
            TApplicationException.INVALID_MESSAGE_TYPE,
        )


def test_fault_close(served: tuple[ThriftServer, EchoApp]) -> None:
    server, _ = served
    with RawClient(server.port) as client:
        client.send(binary_call("fail", tp.Echo.fail_args(how="close")))
        assert client.closed_by_server()


def test_fault_garbage(served: tuple[ThriftServer, EchoApp]) -> None:
    server, _ = served
    with socket.create_connection(("127.0.0.1", server.port), timeout=3) as sock:
        sock.sendall(binary_call("fail", tp.Echo.fail_args(how="garbage")))
        received = b""
        while chunk := sock.recv(4096):
            received += chunk
    assert len(received) >= 64  # random bytes, then EOF


def test_fault_stall(served: tuple[ThriftServer, EchoApp]) -> None:
    server, _ = served
    with RawClient(server.port) as client:
        t0 = time.monotonic()
        client.send(binary_call("fail", tp.Echo.fail_args(how="stall")))
        client.sock.settimeout(3)
        assert client.sock.recv(100) == b""  # nothing at all, then EOF
        assert time.monotonic() - t0 >= 0.25


def test_no_reply_leaves_client_waiting(served: tuple[ThriftServer, EchoApp]) -> None:
    server, _ = served
    with RawClient(server.port) as client:
        client.send(binary_call("fail", tp.Echo.fail_args(how="noreply")))
        client.sock.settimeout(0.3)
        with pytest.raises(TimeoutError):
            client.sock.recv(100)


# -- HTTP -------------------------------------------------------------------------------------------


def http_exchange(port: int, request: bytes) -> bytes:
    """Send ``request``; return everything the server sends before it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=3) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return data


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"405"),
        (b"POST / HTTP/1.1\r\nHost: x\r\n\r\n", b"411"),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", b"411"),
        (b"POST / HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n", b"413"),
        (b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", b"400"),
        (b"POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n", b"400"),
        (b"POST /\r\n\r\n", b"400"),
    ],
)
def test_http_errors_answer_then_close(
    served: tuple[ThriftServer, EchoApp], request_bytes: bytes, status: bytes
) -> None:
    server, _ = served
    answer = http_exchange(server.port, request_bytes)
    assert answer.startswith(b"HTTP/1.1 " + status)
    assert b"Connection: close" in answer


def test_http_refuses_browser_style_cross_origin_posts(served: tuple[ThriftServer, EchoApp]) -> None:
    """Issue 16: a web page must not reach a mock's HTTP transport; a Thrift client (no Origin) still does."""
    server, _ = served
    body = binary_call("fail", tp.Echo.fail_args(how="http"))
    host = f"127.0.0.1:{server.port}".encode()
    heads = {
        b"403": [
            b"Origin: http://attacker.example\r\nContent-Type: text/plain",
            b"Origin: http://attacker.example\r\nContent-Type: application/x-thrift",
            b"Origin: null\r\nContent-Type: application/x-thrift",
            b"Origin: http://" + host + b"\r\nContent-Type: text/plain;charset=UTF-8",
        ],
        b"200": [
            b"Content-Type: application/x-thrift",
            b"Origin: http://" + host + b"\r\nContent-Type: application/x-thrift",
        ],
    }
    for status, variants in heads.items():
        for extra in variants:
            request = (
                b"POST / HTTP/1.1\r\nHost: %s\r\n%s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                % (
                    host,
                    extra,
                    len(body),
                )
            )
            answer = http_exchange(server.port, request + body)
            assert answer.startswith(b"HTTP/1.1 " + status), (extra, answer[:80])
            assert (b"ok:http" in answer) == (status == b"200")  # refused: no call was made


def test_http_connection_close_is_honoured(served: tuple[ThriftServer, EchoApp]) -> None:
    server, _ = served
    body = binary_call("fail", tp.Echo.fail_args(how="http"))
    request = b"POST / HTTP/1.0\r\nContent-Type: application/x-thrift\r\nContent-Length: %d\r\n\r\n" % len(
        body
    )
    answer = http_exchange(server.port, request + body)
    head, _, reply = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK")
    assert b"application/x-thrift" in head
    assert b"ok:http" in reply


def test_a_json_seqid_beyond_int32_is_answered_and_the_next_call_too(
    served: tuple[ThriftServer, EchoApp],
) -> None:
    """A JSON message whose seqid does not fit i32 is answered with its seqid as sent (it got no reply: the client
    hung), and a call pipelined behind it on the same connection is answered."""
    server, _ = served
    bad = b'[1,"fail",1,4294967296,{"1":{"str":"a"}}]'
    good = b'[1,"fail",1,7,{"1":{"str":"b"}}]'
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(bad + good)
        received = b""
        deadline = time.monotonic() + 5
        while received.count(b"]") < 2 and time.monotonic() < deadline:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    first, _, rest = received.partition(b"]")
    assert b'"fail",2,4294967296,' in first  # a REPLY with the seqid it was sent
    assert b"ok:b" in rest  # and the second one answered
