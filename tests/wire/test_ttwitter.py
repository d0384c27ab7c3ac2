"""Finagle's TTwitter upgrade, with a Finagle-style client written from finagle-thrift's ``tracing.thrift``."""

from __future__ import annotations

import io
import socket
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import thriftpy2
from thriftpy2.protocol.binary import TBinaryProtocol
from thriftpy2.protocol.compact import TCompactProtocol
from thriftpy2.thrift import TApplicationException, TMessageType
from thriftpy2.transport import TMemoryBuffer

from tests.wire.test_support import EchoApp, load_client_module
from thriftbox.wire import ServerThread, ThriftServer

tp = load_client_module()


@pytest.fixture(scope="module")
def tracing(corpus: Path) -> Any:
    """Finagle's own ``tracing.thrift`` (RequestHeader, ResponseHeader, ConnectionOptions, UpgradeReply)."""
    path = corpus / "twitter__finagle/finagle-thrift/src/main/thrift/tracing.thrift"
    return thriftpy2.load(str(path), module_name="tracing_thrift")


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[ThriftServer, EchoApp]]:
    app = EchoApp()
    with ServerThread() as thread:
        yield thread.serve(app), app


class _Bytes:
    """A read-only transport over bytes that knows how far it was read."""

    def __init__(self, data: bytes) -> None:
        self.io = io.BytesIO(data)

    def read(self, size: int) -> bytes:
        data = self.io.read(size)
        if len(data) < size:
            raise EOFError("incomplete")
        return data


class FinagleClient:
    """What finagle-thrift's client does: the upgrade call first, then a ``RequestHeader`` before each call
    and a ``ResponseHeader`` before each reply (framed, or buffered as ``withBufferedTransport``)."""

    def __init__(self, port: int, tracing: Any, *, framed: bool = True, compact: bool = False) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.tracing = tracing
        self.framed = framed
        self.proto_cls: Any = TCompactProtocol if compact else TBinaryProtocol
        self.pending = b""
        self.upgraded = False

    def _encode(self, *parts: tuple[str | None, int, int, Any]) -> bytes:
        buf = TMemoryBuffer()
        proto = self.proto_cls(buf)
        for name, mtype, seqid, struct_ in parts:
            if name is not None:
                proto.write_message_begin(name, mtype, seqid)
            proto.write_struct(struct_)
        data = bytes(buf.getvalue())
        return struct.pack(">i", len(data)) + data if self.framed else data

    def upgrade(self) -> bool:
        self.sock.sendall(
            self._encode(
                ("__can__finagle__trace__v3__", TMessageType.CALL, 0, self.tracing.ConnectionOptions())
            )
        )
        _, mtype, _, _ = self._read(self.tracing.UpgradeReply(), header=False)
        self.upgraded = mtype != TMessageType.EXCEPTION
        return self.upgraded

    def call(self, name: str, args: Any, result: Any, seqid: int, header: Any, oneway: bool = False) -> Any:
        mtype = TMessageType.ONEWAY if oneway else TMessageType.CALL
        parts = (
            [(name, mtype, seqid, args)]
            if header is None
            else [(None, 0, 0, header), (name, mtype, seqid, args)]
        )
        self.sock.sendall(self._encode(*parts))
        if oneway:
            return None
        _, rtype, rseqid, body = self._read(result)
        assert rseqid == seqid
        return body if rtype == TMessageType.REPLY else ("exception", body)

    def _read(self, result: Any, header: bool = True) -> tuple[str, int, int, Any]:
        """Read one reply, with ``tracing.ResponseHeader`` first when upgraded; retries as bytes arrive."""
        while True:
            data = self.pending
            if self.framed and len(data) >= 4:
                size = struct.unpack(">i", data[:4])[0]
                if len(data) >= 4 + size:
                    self.pending = data[4 + size :]
                    return self._decode(data[4 : 4 + size], result, header)
            elif not self.framed and data:
                try:
                    return self._decode(data, result, header, keep_rest=True)
                except Exception:  # incomplete: read more
                    pass
            chunk = self.sock.recv(65536)
            assert chunk, "the server closed the connection"
            self.pending += chunk

    def _decode(
        self, data: bytes, result: Any, header: bool, keep_rest: bool = False
    ) -> tuple[str, int, int, Any]:
        buf = _Bytes(data)
        proto = self.proto_cls(buf)
        if header and self.upgraded:
            proto.read_struct(self.tracing.ResponseHeader())
        name, mtype, seqid = proto.read_message_begin()
        body = TApplicationException() if mtype == TMessageType.EXCEPTION else result
        proto.read_struct(body)
        if keep_rest:
            self.pending = data[buf.io.tell() :]
        return name, mtype, seqid, body

    def close(self) -> None:
        self.sock.close()


def request_header(tracing: Any, n: int) -> Any:
    return tracing.RequestHeader(
        trace_id=0x5AF7183FB1A2B3C4 + n,
        span_id=-(2**63) + n,
        parent_span_id=77,
        sampled=True,
        client_id=tracing.ClientId(name="checkout-web"),
        flags=1,
        contexts=[tracing.RequestContext(key=b"com.twitter.finagle.Retries", value=b"\x00\x00\x00\x00")],
        dest="/s/users",
    )


@pytest.mark.parametrize(("framed", "compact"), [(True, False), (False, False), (True, True)])
def test_finagle_client(
    served: tuple[ThriftServer, EchoApp], tracing: Any, framed: bool, compact: bool
) -> None:
    server, app = served
    client = FinagleClient(server.port, tracing, framed=framed, compact=compact)
    try:
        assert client.upgrade()
        head = request_header(tracing, 1)
        got = client.call(
            "getPoint", tp.Echo.getPoint_args(id=41, hint="ab"), tp.Echo.getPoint_result(), 1, head
        )
        assert got.success == tp.Point(x=41, y=2, label="v1")
        ctx = app.calls[-1].context
        assert ctx is not None
        assert (ctx.transport, ctx.client_id, ctx.trace_id, ctx.span_id) == (
            "ttwitter",
            "checkout-web",
            0x5AF7183FB1A2B3C5,
            -(2**63) + 1,
        )
        assert (ctx.parent_span_id, ctx.sampled, ctx.flags, ctx.dest) == (77, True, 1, "/s/users")
        assert ctx.describe()["trace_id"] == "5af7183fb1a2b3c5"
        assert app.calls[-1].framing == "ttwitter"

        bag = tp.Bag(text="t", nums=[1, 2], points={"p": tp.Point(x=1, y=2)})
        echoed = client.call(
            "echo", tp.Echo.echo_args(bag=bag), tp.Echo.echo_result(), 2, request_header(tracing, 2)
        )
        assert echoed.success == bag
        assert app.calls[-1].context.trace_id == 0x5AF7183FB1A2B3C6  # type: ignore[union-attr]
        failed = client.call("fail", tp.Echo.fail_args(how="nf"), tp.Echo.fail_result(), 3, head)
        assert (failed.nf.what, failed.nf.code) == ("thing", 404)
        client.call("fire", tp.Echo.fire_args(n=606), None, 4, head, oneway=True)
        kind, exc = client.call("nothing", tp.Echo.ping_args(), None, 5, head)
        assert (kind, exc.type) == ("exception", TApplicationException.UNKNOWN_METHOD)
        assert (
            client.call("ping", tp.Echo.ping_args(), tp.Echo.ping_result(), 6, head) == tp.Echo.ping_result()
        )
        assert 606 in app.fired
    finally:
        client.close()


def test_plain_clients_are_not_upgraded(served: tuple[ThriftServer, EchoApp], tracing: Any) -> None:
    """Without the upgrade call a connection stays plain framed binary, and its calls carry no context."""
    server, app = served
    client = FinagleClient(server.port, tracing)
    try:
        got = client.call(
            "getPoint", tp.Echo.getPoint_args(id=3, hint=""), tp.Echo.getPoint_result(), 9, None
        )
        assert got.success.x == 3
        assert (app.calls[-1].framing, app.calls[-1].context) == ("framed", None)
    finally:
        client.close()


def test_upgrade_refused_where_it_cannot_apply(served: tuple[ThriftServer, EchoApp], tracing: Any) -> None:
    """Over HTTP there is no connection to upgrade: the probe gets UNKNOWN_METHOD, as Finagle expects."""
    server, _ = served
    body = FinagleClient.__new__(FinagleClient)
    body.framed, body.proto_cls = False, TBinaryProtocol
    payload = body._encode(("__can__finagle__trace__v3__", TMessageType.CALL, 3, tracing.ConnectionOptions()))
    request = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(payload) + payload
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(request)
        reply = b""
        while b"UNKNOWN" not in reply and b"Unknown" not in reply:
            chunk = sock.recv(4096)
            assert chunk
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 200")
    assert b"__can__finagle__trace__v3__" in reply
