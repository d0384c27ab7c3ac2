"""Shared by the wire tests (no tests here): a hand-built model of ``WIRE_IDL``, an App over it, raw clients.

The server side is built from :mod:`thriftbox.idl.model` dataclasses and :class:`Classes`; clients use
independent code for the same IDL text (thriftpy2's parser, Apache's compiler), so a disagreement shows.
"""

from __future__ import annotations

import asyncio
import io
import socket
import struct
from pathlib import Path
from typing import Any

import thriftpy2
from thriftpy2.protocol import TApacheJSONProtocol
from thriftpy2.thrift import TApplicationException
from thriftpy2.transport import TMemoryBuffer

from thriftbox.idl.classes import Classes
from thriftbox.idl.model import Catalog, EnumDef, Field, Kind, Method, ServiceDef, StructDef, TypeRef
from thriftbox.wire import AppError, Binding, Call, Fault, NoReply, Raise, Reply, Success

WIRE_IDL = """
namespace py tbwire_gen

enum Color { RED = 1, GREEN = 2 }

struct Point { 1: i32 x, 2: i32 y, 3: optional string label }

struct Bag {
  1: bool flag, 2: byte b, 3: i16 s, 4: i32 i, 5: i64 l, 6: double d, 7: string text, 8: binary data,
  9: list<i32> nums, 10: set<string> tags, 11: map<string, Point> points, 12: Color color,
  13: list<Point> path
}

exception NotFound { 1: string what, 2: i32 code }

service Echo {
  Bag echo(1: Bag bag),
  Point getPoint(1: required i64 id, 2: string hint),
  void ping(),
  oneway void fire(1: i32 n),
  string fail(1: string how) throws (1: NotFound nf),
  i32 slow(1: i32 ms)
}

service Second { string secondEcho(1: string s) }
"""

# The same service, with getPoint's id sent as a string: what a client with a stale IDL would send.
WRONG_IDL = """
struct Point { 1: i32 x, 2: i32 y, 3: optional string label }
service Echo { Point getPoint(1: string id, 2: string hint) }
"""

FILE = Path("/virtual/wiretest.thrift")


def _t(
    kind: Kind, name: str | None = None, elem: TypeRef | None = None, key: TypeRef | None = None
) -> TypeRef:
    return TypeRef(kind, name=name, elem=elem, key=key)


def build_catalog() -> Catalog:
    """The model of ``WIRE_IDL``, written out by hand."""
    i32, i64, string = _t(Kind.I32), _t(Kind.I64), _t(Kind.STRING)
    point, bag = _t(Kind.STRUCT, "wiretest.Point"), _t(Kind.STRUCT, "wiretest.Bag")
    not_found = _t(Kind.STRUCT, "wiretest.NotFound")
    structs = [
        StructDef(
            "wiretest.Point",
            "Point",
            "struct",
            (Field(1, "x", i32), Field(2, "y", i32), Field(3, "label", string, "optional")),
            FILE,
        ),
        StructDef(
            "wiretest.Bag",
            "Bag",
            "struct",
            (
                Field(1, "flag", _t(Kind.BOOL)),
                Field(2, "b", _t(Kind.BYTE)),
                Field(3, "s", _t(Kind.I16)),
                Field(4, "i", i32),
                Field(5, "l", i64),
                Field(6, "d", _t(Kind.DOUBLE)),
                Field(7, "text", string),
                Field(8, "data", _t(Kind.BINARY)),
                Field(9, "nums", _t(Kind.LIST, elem=i32)),
                Field(10, "tags", _t(Kind.SET, elem=string)),
                Field(11, "points", _t(Kind.MAP, key=string, elem=point)),
                Field(12, "color", _t(Kind.ENUM, "wiretest.Color")),
                Field(13, "path", _t(Kind.LIST, elem=point)),
            ),
            FILE,
        ),
        StructDef(
            "wiretest.NotFound",
            "NotFound",
            "exception",
            (Field(1, "what", string), Field(2, "code", i32)),
            FILE,
        ),
    ]
    void = _t(Kind.VOID)

    def method(name: str, args: tuple[Field, ...], returns: TypeRef, **kw: Any) -> Method:
        return Method(
            name, args, returns, kw.get("throws", ()), kw.get("oneway", False), kw.get("svc", "wiretest.Echo")
        )

    echo = {
        "echo": method("echo", (Field(1, "bag", bag),), bag),
        "getPoint": method("getPoint", (Field(1, "id", i64, "required"), Field(2, "hint", string)), point),
        "ping": method("ping", (), void),
        "fire": method("fire", (Field(1, "n", i32),), void, oneway=True),
        "fail": method("fail", (Field(1, "how", string),), string, throws=(Field(1, "nf", not_found),)),
        "slow": method("slow", (Field(1, "ms", i32),), i32),
    }
    second = {"secondEcho": method("secondEcho", (Field(1, "s", string),), string, svc="wiretest.Second")}
    catalog = Catalog(roots=(FILE.parent,))
    catalog.structs = {s.qname: s for s in structs}
    catalog.enums = {"wiretest.Color": EnumDef("wiretest.Color", "Color", {"RED": 1, "GREEN": 2}, FILE)}
    catalog.services = {
        "wiretest.Echo": ServiceDef("wiretest.Echo", "Echo", FILE, echo),
        "wiretest.Second": ServiceDef("wiretest.Second", "Second", FILE, second),
    }
    return catalog


CATALOG = build_catalog()
CLASSES = Classes(CATALOG)


class EchoApp:
    """Serves Echo and Second (multiplexed or not). ``tag`` shows up in getPoint answers (hot-swap tests).

    ``fail(how)`` picks a reply: ``nf`` a declared exception, ``boom`` a crash, ``apperr`` an AppError,
    ``bad`` a value the encoder rejects, ``close``/``garbage``/``stall`` a Fault, ``noreply`` nothing."""

    def __init__(self, tag: str = "v1") -> None:
        self.tag = tag
        self.fired: list[int] = []
        self.calls: list[Call] = []

    def bind(self, service: str | None, method: str) -> Binding | None:
        for sid, svc in CATALOG.services.items():
            if service not in (None, svc.name):
                continue
            m = svc.methods.get(method)
            if m is not None:
                required = tuple(a.name for a in m.args if a.required)
                return Binding(CLASSES.args(sid, method), CLASSES.result(sid, method), m.oneway, required)
        return None

    async def handle(self, call: Call) -> Reply:
        self.calls.append(call)
        args: Any = call.args
        if call.method == "echo":
            return Success(args.bag)
        if call.method == "getPoint":
            return Success(
                CLASSES.struct("wiretest.Point")(x=args.id, y=len(args.hint or ""), label=self.tag)
            )
        if call.method == "ping":
            return Success(None)
        if call.method == "fire":
            self.fired.append(args.n)
            return NoReply()
        if call.method == "slow":
            await asyncio.sleep(args.ms / 1000)
            return Success(args.ms)
        if call.method == "secondEcho":
            return Success(f"second:{args.s}")
        if args.how == "late-boom":  # crash after suspending, inside the task that finishes the call
            await asyncio.sleep(0)
            raise RuntimeError("late boom")
        if args.how == "yield":
            await asyncio.sleep(0)
            return Success("yielded")
        return self._fail(args.how)

    def _fail(self, how: str) -> Reply:
        if how == "nf":
            return Raise("nf", CLASSES.struct("wiretest.NotFound")(what="thing", code=404))
        if how == "boom":
            raise RuntimeError("boom")
        if how == "apperr":
            return AppError(TApplicationException.INTERNAL_ERROR, "told to fail")
        if how == "bad":
            return Success(["not", "a", "string"])
        if how in ("close", "garbage"):
            return Fault(how)  # type: ignore[arg-type]
        if how == "stall":
            return Fault("stall", 0.3)
        if how == "noreply":
            return NoReply()
        return Success(f"ok:{how}")


def load_client_module(text: str = WIRE_IDL, name: str = "wiretest_thrift") -> Any:
    """thriftpy2's own reading of an IDL, for thriftpy2 clients."""
    return thriftpy2.load_fp(io.StringIO(text), module_name=name)


class ResettingApacheJSONProtocol(TApacheJSONProtocol):  # type: ignore[misc]
    """thriftpy2's Apache JSON protocol caches the first message it read; clients need it cleared."""

    def read_message_end(self) -> None:
        self._req = None


class ResettingApacheJSONProtocolFactory:
    def get_protocol(self, trans: Any) -> ResettingApacheJSONProtocol:
        return ResettingApacheJSONProtocol(trans)


def binary_call(name: str, args: Any, seqid: int = 1, mtype: int = 1, strict: bool = True) -> bytes:
    """A binary message (unframed) carrying ``args``."""
    from thriftpy2.protocol import TBinaryProtocol

    buf = TMemoryBuffer()
    proto = TBinaryProtocol(buf, strict_write=strict)
    proto.write_message_begin(name, mtype, seqid)
    proto.write_struct(args)
    return bytes(buf.getvalue())


def framed(data: bytes) -> bytes:
    return struct.pack(">i", len(data)) + data


class RawClient:
    """A socket for hand-made requests, reading binary replies (buffered, or framed with ``framed=True``)."""

    def __init__(self, port: int, *, framed: bool = False, timeout: float = 5.0) -> None:
        from thriftpy2.protocol import TBinaryProtocol
        from thriftpy2.transport import TBufferedTransport, TFramedTransport, TSocket

        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        wrapper = TSocket()
        wrapper.sock = self.sock
        trans = TFramedTransport(wrapper) if framed else TBufferedTransport(wrapper)
        self.proto = TBinaryProtocol(trans, strict_read=False)

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def reply(self, result_cls: type | None = None) -> tuple[str, int, int, Any]:
        """(name, message type, seqid, result struct or TApplicationException) of the next reply."""
        name, mtype, seqid = self.proto.read_message_begin()
        body: Any = TApplicationException() if mtype == 3 or result_cls is None else result_cls()
        self.proto.read_struct(body)
        return name, mtype, seqid, body

    def closed_by_server(self, timeout: float = 3.0) -> bool:
        """True when the server closes the connection within ``timeout`` (EOF or reset), reading what is left."""
        self.sock.settimeout(timeout)
        try:
            while self.sock.recv(65536):
                pass
        except (ConnectionResetError, BrokenPipeError):
            return True
        except TimeoutError:
            return False
        return True

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> RawClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def proto_factory(protocol: str) -> Any:
    from thriftpy2.protocol import TBinaryProtocolFactory, TCompactProtocolFactory

    return {
        "binary": TBinaryProtocolFactory(strict_read=False),
        "compact": TCompactProtocolFactory(),
        "json": ResettingApacheJSONProtocolFactory(),
    }[protocol]


def exchange(
    port: int,
    protocol: str,
    framing: str,
    name: str,
    args: Any,
    result_cls: type | None = None,
    *,
    seqid: int = 1,
    mtype: int = 1,
) -> tuple[str, int, int, Any]:
    """Send one hand-made message with thriftpy2's protocol writers; read one reply the same way."""
    from thriftpy2.transport import TBufferedTransport, TFramedTransport, TSocket

    sock = TSocket("127.0.0.1", port, socket_timeout=5000)
    trans = TFramedTransport(sock) if framing == "framed" else TBufferedTransport(sock)
    trans.open()
    try:
        proto = proto_factory(protocol).get_protocol(trans)
        proto.write_message_begin(name, mtype, seqid)
        proto.write_struct(args)
        proto.write_message_end()
        trans.flush()
        rname, rtype, rseqid = proto.read_message_begin()
        body: Any = TApplicationException() if rtype == 3 or result_cls is None else result_cls()
        proto.read_struct(body)
        proto.read_message_end()
        return rname, rtype, rseqid, body
    finally:
        trans.close()
