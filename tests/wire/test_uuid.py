"""The uuid wire type (16 in binary, 13 in compact, ``"uid"`` in JSON) with Apache's Python library >= 0.19.

Debian's compiler (0.17) does not know ``uuid``, so the Apache-side payload classes are written here by hand in
the compiler's ``thrift_spec`` notation; Apache's protocols read and write them (``readStruct``/``writeStruct``).
"""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from thrift.protocol import TBinaryProtocol, TCompactProtocol, TJSONProtocol
from thrift.protocol.TBase import TBase
from thrift.Thrift import TApplicationException, TMessageType, TType
from thrift.transport import TSocket, TTransport
from thriftpy2.protocol import TBinaryProtocol as TpBinaryProtocol
from thriftpy2.transport import TMemoryBuffer

from thriftbox.host.uuids import mark_classes
from thriftbox.idl.classes import Classes
from thriftbox.idl.loader import load_catalog
from thriftbox.wire import Binding, Call, ServerThread, Success, ThriftServer
from thriftbox.wire.app import Reply

IDL = """
struct Thing {
  1: uuid id,
  2: list<uuid> ids,
  3: map<uuid, string> names,
  4: string label,
  5: map<string, uuid> owners,
  6: optional Thing child,
  7: set<uuid> tags,
}

service Uuids {
  uuid echoUuid(1: uuid id, 2: i32 n),
  Thing echoThing(1: Thing thing),
  list<uuid> echoList(1: list<uuid> ids),
  map<uuid, i32> echoMap(1: map<uuid, i32> m),
  Thing make(1: i32 n),
}
"""
MADE = uuid.UUID("123e4567-e89b-42d3-a456-426614174000")


class UuidApp:
    """Echoes; ``make`` answers a Thing full of uuids that the request did not carry."""

    def __init__(self, classes: Classes) -> None:
        self.classes = classes
        self.calls: list[Call] = []

    def bind(self, service: str | None, method: str) -> Binding | None:
        m = self.classes.catalog.services["u.Uuids"].methods.get(method)
        if m is None:
            return None
        return Binding(self.classes.args("u.Uuids", method), self.classes.result("u.Uuids", method))

    async def handle(self, call: Call) -> Reply:
        self.calls.append(call)
        args: Any = call.args
        if call.method == "make":
            thing = self.classes.struct("u.Thing")
            child = thing(id=MADE.bytes, ids=[], label="child")
            return Success(
                thing(id=MADE.bytes, ids=[MADE.bytes], names={MADE.bytes: "made"}, label="m", child=child)
            )
        return Success(next(v for k, v in vars(args).items()))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ThriftServer, UuidApp]]:
    path = tmp_path_factory.mktemp("uuid-idl") / "u.thrift"
    path.write_text(IDL)
    classes = Classes(load_catalog([path]))
    mark_classes(classes)
    app = UuidApp(classes)
    with ServerThread() as thread:
        yield thread.serve(app), app


# -- the Apache side, as Apache's compiler >= 0.19 would generate it -------------------------------------


class Struct(TBase):  # type: ignore[misc]
    thrift_spec: tuple[Any, ...] = ()

    def __init__(self, **kwargs: Any) -> None:
        for spec in self.thrift_spec:
            if spec is not None:
                setattr(self, spec[2], kwargs.pop(spec[2], None))
        assert not kwargs, kwargs


def make(name: str, *fields: tuple[int, int, str, Any]) -> type[Struct]:
    cls = type(name, (Struct,), {})
    size = max((f[0] for f in fields), default=0) + 1
    spec: list[Any] = [None] * size
    for fid, ttype, fname, args in fields:
        spec[fid] = (fid, ttype, fname, args, None)
    cls.thrift_spec = tuple(spec)
    return cls


Thing = make(
    "Thing",
    (1, TType.UUID, "id", None),
    (2, TType.LIST, "ids", (TType.UUID, None, False)),
    (3, TType.MAP, "names", (TType.UUID, None, TType.STRING, "UTF8", False)),
    (4, TType.STRING, "label", "UTF8"),
    (5, TType.MAP, "owners", (TType.STRING, "UTF8", TType.UUID, None, False)),
    (7, TType.SET, "tags", (TType.UUID, None, False)),
)
Thing.thrift_spec = (
    *Thing.thrift_spec[:6],
    (6, TType.STRUCT, "child", [Thing, None], None),
    Thing.thrift_spec[7],
)
METHODS: dict[str, tuple[type[Struct], type[Struct]]] = {
    "echoUuid": (
        make("echoUuid_args", (1, TType.UUID, "id", None), (2, TType.I32, "n", None)),
        make("echoUuid_result", (0, TType.UUID, "success", None)),
    ),
    "echoThing": (
        make("echoThing_args", (1, TType.STRUCT, "thing", [Thing, None])),
        make("echoThing_result", (0, TType.STRUCT, "success", [Thing, None])),
    ),
    "echoList": (
        make("echoList_args", (1, TType.LIST, "ids", (TType.UUID, None, False))),
        make("echoList_result", (0, TType.LIST, "success", (TType.UUID, None, False))),
    ),
    "echoMap": (
        make("echoMap_args", (1, TType.MAP, "m", (TType.UUID, None, TType.I32, None, False))),
        make("echoMap_result", (0, TType.MAP, "success", (TType.UUID, None, TType.I32, None, False))),
    ),
    "make": (
        make("make_args", (1, TType.I32, "n", None)),
        make("make_result", (0, TType.STRUCT, "success", [Thing, None])),
    ),
}


def fix_specs(classes: list[type[Struct]]) -> None:
    """What generated code does at import: ``[Struct, None]`` becomes ``[Struct, Struct.thrift_spec]``, for
    the accelerated (C) protocols."""

    def fix(args: Any) -> None:
        if isinstance(args, list) and len(args) == 2 and args[1] is None:
            args[1] = args[0].thrift_spec
        elif isinstance(args, tuple):
            for part in args:
                fix(part)

    for cls in classes:
        for spec in cls.thrift_spec:
            if spec is not None:
                fix(spec[3])


fix_specs([Thing, *(cls for pair in METHODS.values() for cls in pair)])
PROTOCOLS = {
    "binary": TBinaryProtocol.TBinaryProtocol,
    "compact": TCompactProtocol.TCompactProtocol,
    "json": TJSONProtocol.TJSONProtocol,
}


class ApacheClient:
    def __init__(self, port: int, protocol: str, framed: bool) -> None:
        sock = TSocket.TSocket("127.0.0.1", port)
        sock.setTimeout(5000)
        self.trans = TTransport.TFramedTransport(sock) if framed else TTransport.TBufferedTransport(sock)
        self.proto = PROTOCOLS[protocol](self.trans)
        self.trans.open()
        self.seqid = 0

    def call(self, method: str, **kwargs: Any) -> Any:
        args_cls, result_cls = METHODS[method]
        self.seqid += 1
        self.proto.writeMessageBegin(method, TMessageType.CALL, self.seqid)
        args_cls(**kwargs).write(self.proto)
        self.proto.writeMessageEnd()
        self.proto.trans.flush()
        _, mtype, seqid = self.proto.readMessageBegin()
        assert seqid == self.seqid
        if mtype == TMessageType.EXCEPTION:
            exc = TApplicationException()
            exc.read(self.proto)
            raise exc
        result = result_cls()
        result.read(self.proto)
        self.proto.readMessageEnd()
        return result.success

    def close(self) -> None:
        self.trans.close()


def uuids(n: int) -> list[uuid.UUID]:
    return [uuid.UUID(int=(0x5A5A << 100) + i * 7919, version=4) for i in range(n)]


@pytest.mark.parametrize("framed", [False, True], ids=["buffered", "framed"])
@pytest.mark.parametrize("protocol", ["binary", "compact", "json"])
def test_apache_uuid_client(served: tuple[ThriftServer, UuidApp], protocol: str, framed: bool) -> None:
    server, app = served
    a, b, c = uuids(3)
    json = protocol == "json"  # thriftpy2's Apache JSON cannot write binary map keys (docs/limitations.md)
    client = ApacheClient(server.port, protocol, framed)
    try:
        assert client.call("echoUuid", id=a, n=5) == a
        assert app.calls[-1].args.id == a.bytes  # type: ignore[attr-defined]
        assert client.call("echoList", ids=[a, b, c]) == [a, b, c]
        if not json:
            assert client.call("echoMap", m={a: 1, b: -2}) == {a: 1, b: -2}
        thing = Thing(
            id=a,
            ids=[b, c],
            names=None if json else {c: "c", a: "a"},
            label="x",
            owners={"o": b},
            child=Thing(id=c, ids=[], label="kid"),
            tags={a, b},
        )
        assert client.call("echoThing", thing=thing) == thing
        if not json:
            made = client.call("make", n=1)  # no uuid in the request: the answer's uuids are still uuids
            assert (made.id, made.ids, made.names, made.child.id) == (MADE, [MADE], {MADE: "made"}, MADE)
    finally:
        client.close()


def test_binary_uuid_clients_keep_working(served: tuple[ThriftServer, UuidApp]) -> None:
    """A client whose IDL says ``binary`` (thriftpy2, older libraries) sends a uuid as 16 bytes of binary;
    its connection then gets 16-byte binary back, including for answers that hold nested uuids."""
    server, app = served
    classes = app.classes
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:

        def call(method: str, args: Any) -> Any:
            buf = TMemoryBuffer()
            proto = TpBinaryProtocol(buf)
            proto.write_message_begin(method, 1, 3)
            proto.write_struct(args)
            sock.sendall(buf.getvalue())
            data = b""
            result = classes.result("u.Uuids", method)()
            while True:
                data += sock.recv(65536)
                try:
                    reader = TpBinaryProtocol(TMemoryBuffer(data))
                    assert reader.read_message_begin()[1] == TMessageType.REPLY
                    reader.read_struct(result)
                    return result.success
                except (EOFError, Exception) as exc:  # incomplete: read more
                    if "REPLY" in str(exc):
                        raise

        a = uuids(1)[0].bytes
        assert call("echoUuid", classes.args("u.Uuids", "echoUuid")(id=a, n=1)) == a
        made = call("make", classes.args("u.Uuids", "make")(n=2))
        assert (made.id, made.ids, made.child.id) == (MADE.bytes, [MADE.bytes], MADE.bytes)


def test_malformed_uuid_text_in_json_closes(served: tuple[ThriftServer, UuidApp]) -> None:
    server, app = served
    before = len(app.calls)
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(b'[1,"echoUuid",1,1,{"1":{"uid":"not-a-uuid"}}]')
        assert sock.recv(100) == b""
    assert len(app.calls) == before


@pytest.mark.parametrize("protocol", ["binary", "compact"])
def test_uuid_inside_theader(served: tuple[ThriftServer, UuidApp], protocol: str) -> None:
    """THeader with Apache's accelerated binary or compact inside: uuids both ways."""
    from thrift.protocol.THeaderProtocol import THeaderProtocol
    from thrift.transport.THeaderTransport import THeaderClientType

    server, _ = served
    a, b = uuids(2)
    client = ApacheClient(server.port, "binary", False)
    client.proto = THeaderProtocol(
        client.trans, [THeaderClientType.HEADERS], 0 if protocol == "binary" else 2
    )
    try:
        assert client.call("echoList", ids=[a, b]) == [a, b]
        assert client.call("make", n=3).child.id == MADE
    finally:
        client.close()


@pytest.mark.parametrize("protocol", ["binary", "compact"])
def test_uuid_request_in_small_pieces(served: tuple[ThriftServer, UuidApp], protocol: str) -> None:
    """A buffered request that arrives a few bytes at a time is read whole, wherever its uuids fall."""
    server, _ = served
    a = uuids(1)[0]
    trans = TTransport.TMemoryBuffer()
    proto = PROTOCOLS[protocol](trans)
    proto.writeMessageBegin("echoThing", TMessageType.CALL, 12)
    METHODS["echoThing"][0](thing=Thing(label="l" * 40, ids=[a, a], id=a)).write(proto)
    request = trans.getvalue()
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(0, len(request), 7):
            sock.sendall(request[i : i + 7])
            time.sleep(0.002)
        reply = TTransport.TMemoryBuffer(_read_some(sock))
    rproto = PROTOCOLS[protocol](reply)
    assert rproto.readMessageBegin() == ("echoThing", TMessageType.REPLY, 12)
    result = METHODS["echoThing"][1]()
    result.read(rproto)
    assert (result.success.id, result.success.ids, result.success.label) == (a, [a, a], "l" * 40)


def _read_some(sock: socket.socket) -> bytes:
    sock.settimeout(5)
    data = sock.recv(65536)
    sock.settimeout(0.3)
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except TimeoutError:
        pass
    return data


@pytest.mark.parametrize(
    "args",
    [
        b"\x0f\x00\x01\x10\x40\x00\x00\x00" + bytes(32),  # binary: a list claiming 2**30 uuids
        b"\x0d\x00\x01\x10\x08\x40\x00\x00\x00" + bytes(32),  # a map claiming 2**30 uuid keys
    ],
)
def test_absurd_uuid_containers_close_at_once(served: tuple[ThriftServer, UuidApp], args: bytes) -> None:
    server, app = served
    before = len(app.calls)
    request = b"\x80\x01\x00\x01\x00\x00\x00\x08echoList\x00\x00\x00\x01" + args
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(request)
        start = time.monotonic()
        assert sock.recv(100) == b""
        assert time.monotonic() - start < 2
    assert len(app.calls) == before


@pytest.mark.parametrize("protocol", ["binary", "compact"])
def test_thriftpy2_reads_a_uuid_answer_through_legacy_message(
    served: tuple[ThriftServer, UuidApp], protocol: str
) -> None:
    """What thriftbox's own (thriftpy2) clients must do with answers of uuids they did not send as binary."""
    from thriftpy2.protocol import TCompactProtocol as TpCompactProtocol

    from thriftbox.wire.uuidwire import legacy_message

    server, app = served
    trans = TTransport.TMemoryBuffer()
    proto = PROTOCOLS[protocol](trans)
    proto.writeMessageBegin("make", TMessageType.CALL, 4)
    METHODS["make"][0](n=1).write(proto)
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(trans.getvalue())
        reply = _read_some(sock)
    tp_proto: Any = TpBinaryProtocol if protocol == "binary" else TpCompactProtocol
    result = app.classes.result("u.Uuids", "make")()
    reader = tp_proto(TMemoryBuffer(legacy_message(protocol, reply)))
    assert reader.read_message_begin()[2] == 4
    reader.read_struct(result)
    assert (result.success.id, result.success.names, result.success.child.id) == (
        MADE.bytes,
        {MADE.bytes: "made"},
        MADE.bytes,
    )
