"""THeader against a real port, with Apache's Python ``THeaderProtocol`` and code from Apache's compiler."""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator
from typing import Any

import pytest
from thrift.protocol.THeaderProtocol import THeaderProtocol
from thrift.protocol.TMultiplexedProtocol import TMultiplexedProtocol
from thrift.transport import TSocket, TTransport
from thrift.transport.THeaderTransport import THeaderClientType, THeaderSubprotocolID, THeaderTransformID

from tests.wire.apache import generate
from tests.wire.test_support import WIRE_IDL, EchoApp
from thriftbox.wire import Call, ServerThread, ThriftServer
from thriftbox.wire.app import CallContext, Reply

PROTOCOL_IDS = {"binary": THeaderSubprotocolID.BINARY, "compact": THeaderSubprotocolID.COMPACT}


class HeaderEchoApp(EchoApp):
    """EchoApp that answers every THeader call with one reply header naming the headers it got."""

    async def handle(self, call: Call) -> Reply:
        if call.context is not None:
            call.context.reply_headers["seen"] = ",".join(sorted(call.context.headers))
        return await super().handle(call)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[ThriftServer, HeaderEchoApp]]:
    app = HeaderEchoApp()
    with ServerThread() as thread:
        yield thread.serve(app), app


@pytest.fixture(scope="module")
def gen(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return generate(
        tmp_path_factory.mktemp("header-gen"), WIRE_IDL, "tbwire_gen", ("Echo", "Second", "ttypes")
    )


def header_client(port: int, transport: str, protocol: str, zlib: bool) -> tuple[THeaderProtocol, Any]:
    """A THeader protocol over a buffered or framed transport, as Apache's TestClient builds it."""
    sock = TSocket.TSocket("127.0.0.1", port)
    sock.setTimeout(5000)
    trans = (
        TTransport.TFramedTransport(sock) if transport == "framed" else TTransport.TBufferedTransport(sock)
    )
    proto = THeaderProtocol(trans, [THeaderClientType.HEADERS], PROTOCOL_IDS[protocol])
    if zlib:
        proto.add_transform(THeaderTransformID.ZLIB)
    trans.open()
    return proto, trans


CASES = [(t, p, z) for t in ("buffered", "framed") for p in ("binary", "compact") for z in (False, True)]


@pytest.mark.parametrize(("transport", "protocol", "zlib"), CASES)
def test_header_clients(
    served: tuple[ThriftServer, HeaderEchoApp], gen: Any, transport: str, protocol: str, zlib: bool
) -> None:
    server, app = served
    proto, trans = header_client(server.port, transport, protocol, zlib)
    try:
        client = gen.Echo.Client(proto)
        proto.set_header(b"request-id", b"r-1")
        proto.set_header(b"caller", "störung".encode())
        bag = gen.ttypes.Bag(text="x" * 5000, data=bytes(range(256)) * 8, nums=list(range(300)))
        assert client.echo(bag) == bag
        ctx = app.calls[-1].context
        assert isinstance(ctx, CallContext)
        assert ctx.headers == {"request-id": "r-1", "caller": "störung"}
        assert ctx.transforms == (("zlib",) if zlib else ())
        assert (app.calls[-1].framing, app.calls[-1].protocol) == ("header", protocol)
        assert proto.get_headers() == {b"seen": b"caller,request-id"}
        assert client.getPoint(7, "abc") == gen.ttypes.Point(x=7, y=3, label="v1")
        assert app.calls[-1].context is not None
        assert app.calls[-1].context.headers == {}  # headers are per message: Apache clears them once sent
        with pytest.raises(gen.ttypes.NotFound):
            client.fail("nf")
        client.fire(4321)  # oneway: no reply frame; the next call must still line up
        assert client.fail("after") == "ok:after"
        assert 4321 in app.fired
    finally:
        trans.close()


@pytest.mark.parametrize("transport", ["buffered", "framed"])
def test_multiplexed_in_header(served: tuple[ThriftServer, HeaderEchoApp], gen: Any, transport: str) -> None:
    """Apache's TestClient ``--protocol=multih``: TMultiplexedProtocol over THeader, two services, one socket."""
    server, app = served
    proto, trans = header_client(server.port, transport, "binary", False)
    try:
        echo = gen.Echo.Client(TMultiplexedProtocol(proto, "Echo"))
        second = gen.Second.Client(TMultiplexedProtocol(proto, "Second"))
        assert echo.getPoint(3, "abcd").y == 4
        assert second.secondEcho("foobar") == "second:foobar"
        assert [c.service for c in app.calls[-2:]] == ["Echo", "Second"]
    finally:
        trans.close()


def test_header_errors_come_back_in_header(served: tuple[ThriftServer, HeaderEchoApp], gen: Any) -> None:
    """An unknown method and a crash are TApplicationExceptions in THeader frames; the connection lives."""
    from thrift.Thrift import TApplicationException

    server, _ = served
    proto, trans = header_client(server.port, "buffered", "compact", True)
    try:
        client = gen.Echo.Client(TMultiplexedProtocol(proto, "Nope"))
        with pytest.raises(TApplicationException) as caught:
            client.getPoint(1, "x")
        assert caught.value.type == TApplicationException.UNKNOWN_METHOD
        crashing = gen.Echo.Client(proto)
        with pytest.raises(TApplicationException) as crashed:
            crashing.fail("boom")
        assert crashed.value.type == TApplicationException.INTERNAL_ERROR
        assert crashing.fail("fine") == "ok:fine"
    finally:
        trans.close()


def _frame(header: bytes, payload: bytes, seqid: int = 5) -> bytes:
    header += bytes(-len(header) % 4)
    body = struct.pack(">HHiH", 0x0FFF, 0, seqid, len(header) // 4) + header + payload
    return struct.pack(">i", len(body)) + body


def test_unknown_transform_is_refused_then_closed(served: tuple[ThriftServer, HeaderEchoApp]) -> None:
    """A transform the server cannot undo (snappy, 3) is not read as a message: as Apache's servers do, the
    answer is INVALID_TRANSFORM (empty name, seqid 0) in a THeader frame, then the connection closes."""
    server, app = served
    before = len(app.calls)
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(_frame(b"\x00\x01\x03", b"\x80\x01\x00\x01\x00\x00\x00\x04ping\x00\x00\x00\x01\x00", 31))
        data = _read_until_closed(sock)
    assert len(app.calls) == before
    size, magic, _, seqid, words = struct.unpack_from(">iHHiH", data)
    assert (size, magic, seqid) == (len(data) - 4, 0x0FFF, 31)
    from thriftpy2.protocol import TBinaryProtocol as TpBinary
    from thriftpy2.thrift import TApplicationException as TpAppError
    from thriftpy2.transport import TMemoryBuffer

    reader = TpBinary(TMemoryBuffer(data[14 + 4 * words :]))
    assert reader.read_message_begin() == ("", 3, 0)
    exc = TpAppError()
    reader.read_struct(exc)
    assert exc.type == 8  # INVALID_TRANSFORM
    assert "transform 3" in exc.message


def _read_until_closed(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def test_header_frame_by_hand(served: tuple[ThriftServer, HeaderEchoApp]) -> None:
    """The reply frame repeats the request frame's flags, sequence number and protocol id, and carries the
    App's reply headers; the message inside echoes the message seqid."""
    server, _ = served
    ping = b"\x80\x01\x00\x01\x00\x00\x00\x04ping\x00\x00\x00\x09\x00"
    info = b"\x01\x01\x01k\x01v"  # one INFO_KEYVALUE block: k=v
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(_frame(b"\x00\x00" + info, ping, seqid=77))
        data = b""
        while len(data) < 4 or len(data) < 4 + struct.unpack(">i", data[:4])[0]:
            chunk = sock.recv(4096)
            assert chunk
            data += chunk
    magic, flags, seqid, words = struct.unpack_from(">HHiH", data, 4)
    assert (magic, flags, seqid) == (0x0FFF, 0, 77)
    header = data[14 : 14 + 4 * words]
    assert header.startswith(b"\x00\x00")  # binary, no transforms
    assert b"\x01\x01\x04seen\x01k" in header
    assert data[14 + 4 * words :].startswith(b"\x80\x01\x00\x02\x00\x00\x00\x04ping\x00\x00\x00\x09")
