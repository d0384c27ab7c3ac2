"""Decoding arguments and encoding replies from memory with thriftpy2's codecs, one codec per connection.

Messages reach a codec complete and structurally checked (see :mod:`thriftbox.wire.scan`), so decoding never
waits for bytes and never trusts a size that the bytes cannot back. Binary uses the Cython protocol over a
``TCyMemoryBuffer`` (lenient read, strict write, as Apache servers do); compact uses thriftpy2's pure-Python
protocol; JSON reads with ``TApacheJSONProtocol``, fresh for every message because it caches the request it read,
and writes with :mod:`thriftbox.wire.jsonwrite`.
"""

from __future__ import annotations

import json
from typing import Any

import thriftpy2.protocol
import thriftpy2.transport
from thriftpy2.thrift import TType

from thriftbox.wire import jsonwrite, scan, uuidjson, uuidreply, uuidwire
from thriftbox.wire.app import ProtocolName

# thriftpy2's protocol classes are untyped; they are used through these names.
TCyBinaryProtocol: Any = thriftpy2.protocol.TCyBinaryProtocol
TCompactProtocol: Any = thriftpy2.protocol.TCompactProtocol
TApacheJSONProtocol: Any = thriftpy2.protocol.TApacheJSONProtocol
TCyMemoryBuffer: Any = thriftpy2.transport.TCyMemoryBuffer

TYPE_NAMES = {
    TType.BOOL: "bool",
    TType.BYTE: "byte",
    TType.DOUBLE: "double",
    TType.I16: "i16",
    TType.I32: "i32",
    TType.I64: "i64",
    TType.STRING: "string",
    TType.BINARY: "binary",
    TType.STRUCT: "struct",
    TType.MAP: "map",
    TType.SET: "set",
    TType.LIST: "list",
}


JSON_TYPES = {  # Apache TJSONProtocol's type tags
    "tf": TType.BOOL,
    "i8": TType.BYTE,
    "i16": TType.I16,
    "i32": TType.I32,
    "i64": TType.I64,
    "dbl": TType.DOUBLE,
    "str": TType.STRING,
    "rec": TType.STRUCT,
    "map": TType.MAP,
    "set": TType.SET,
    "lst": TType.LIST,
}
_TEXT = (TType.STRING, TType.BINARY)


def same_wire_type(wire: int, declared: int) -> bool:
    """Whether a value sent as ``wire`` decodes into a field declared as ``declared`` (string ~ binary)."""
    return wire == declared or (wire in _TEXT and declared in _TEXT)


def uuid_evidence(payload: Any, args: Any, marks: dict[int, Any], modern: bool) -> bool:
    """Whether the client of ``args`` (a payload class with uuid fields) speaks the uuid type: yes when its
    uuids came as uuid values, no when an argument declared ``uuid`` came as binary; else as before."""
    if isinstance(payload, uuidwire.UuidBytes | uuidjson.UuidArgs):
        return True
    spec = args.thrift_spec
    for fid, mark in marks.items():
        if mark is uuidwire.UUID_LEAF and getattr(args, spec[fid][1]) is not None:
            return False
    return modern


class Codec:
    """Decodes argument payloads and encodes replies in one protocol.

    ``uuid_modern``: whether replies carry IDL ``uuid`` values as the uuid wire type (Apache >= 0.19) or as
    16-byte binary (clients without the type). One codec serves one connection, so this is the connection's
    setting: uuid until its client sends a uuid argument as binary (see :func:`uuid_evidence`)."""

    protocol: ProtocolName
    uuid_modern = True

    def decode_args(self, payload: Any, args: Any) -> None:
        """Fill the payload instance ``args`` from ``payload`` (the args bytes, or for JSON the args dict)."""
        raise NotImplementedError

    def wire_types(self, payload: Any) -> dict[int, int]:
        """Field id -> TType of the top-level fields as they were sent."""
        raise NotImplementedError

    def encode(self, name: str, mtype: int, seqid: int, struct: Any) -> bytes:
        """One whole message: envelope and ``struct``."""
        raise NotImplementedError


class _StreamCodec(Codec):
    """Binary and compact: one reusable writer over one buffer, and the uuid rewrite after its envelope."""

    def __init__(self) -> None:
        self._in = TCyMemoryBuffer()
        self._out = TCyMemoryBuffer()
        self._writer = self._new_writer(self._out)

    def _new_writer(self, out: Any) -> Any:
        raise NotImplementedError

    def _envelope_end(self, data: bytes) -> int:
        """Where the reply struct starts in an encoded message."""
        raise NotImplementedError

    def encode(self, name: str, mtype: int, seqid: int, struct: Any) -> bytes:
        out = self._out
        try:
            self._writer.write_message_begin(name, mtype, seqid)
            self._writer.write_struct(struct)
            data: bytes = out.getvalue()
        except BaseException:
            self._writer = self._new_writer(out)  # compact's field-id stack is left half way
            raise
        finally:
            out.clean()
        if self.uuid_modern and getattr(type(struct), "thrift_has_uuids", False):
            data = uuidreply.to_modern(self.protocol, data, self._envelope_end(data), type(struct))
        return data


class BinaryCodec(_StreamCodec):
    protocol: ProtocolName = "binary"

    def __init__(self) -> None:
        super().__init__()
        self._reader = TCyBinaryProtocol(self._in, strict_read=False)

    def _new_writer(self, out: Any) -> Any:
        return TCyBinaryProtocol(out, strict_read=False, strict_write=True)

    def _envelope_end(self, data: bytes) -> int:
        return int(scan.binary_envelope(data, 0, len(data))[3])

    def decode_args(self, payload: bytes, args: Any) -> None:
        self._in.setvalue(payload)
        self._reader.read_struct(args)
        marks = getattr(type(args), "thrift_uuids", None)
        if marks:
            self.uuid_modern = uuid_evidence(payload, args, marks, self.uuid_modern)

    def wire_types(self, payload: bytes) -> dict[int, int]:
        return scan.binary_fields(payload)


class CompactCodec(_StreamCodec):
    protocol: ProtocolName = "compact"

    def __init__(self) -> None:
        super().__init__()
        self._reader = TCompactProtocol(self._in)

    def _new_writer(self, out: Any) -> Any:
        return TCompactProtocol(out)

    def _envelope_end(self, data: bytes) -> int:
        return int(scan.compact_envelope(data, 0, len(data))[3])

    def decode_args(self, payload: bytes, args: Any) -> None:
        self._in.setvalue(payload)
        try:
            self._reader.read_struct(args)
        except BaseException:
            self._reader = TCompactProtocol(self._in)  # its field-id stack is left half way
            raise
        marks = getattr(type(args), "thrift_uuids", None)
        if marks:
            self.uuid_modern = uuid_evidence(payload, args, marks, self.uuid_modern)

    def wire_types(self, payload: bytes) -> dict[int, int]:
        return scan.compact_fields(payload)


class JsonCodec(Codec):
    """Apache ``TJSONProtocol``. Unknown field ids and mistyped fields are dropped before decoding (thriftpy2
    would fail on the first and silently mis-decode the second); :meth:`wire_types` still reports them."""

    protocol: ProtocolName = "json"

    def decode_args(self, payload: dict[str, Any], args: Any) -> None:
        spec = args.thrift_spec
        kept: dict[str, Any] = {}
        for key, typed in payload.items():
            fid = int(key)
            if (
                fid in spec
                and len(typed) == 1
                and same_wire_type(JSON_TYPES[next(iter(typed))], spec[fid][0])
            ):
                kept[key] = typed
        proto = TApacheJSONProtocol(None)
        proto._req = [1, "", 1, 0, kept]
        proto.read_struct(args)
        marks = getattr(type(args), "thrift_uuids", None)
        if marks:
            self.uuid_modern = uuid_evidence(payload, args, marks, self.uuid_modern)

    def wire_types(self, payload: dict[str, Any]) -> dict[int, int]:
        return {int(key): JSON_TYPES[next(iter(typed))] for key, typed in payload.items()}

    def __init__(self) -> None:
        self._check = BinaryCodec()
        self._check.uuid_modern = False

    def encode(self, name: str, mtype: int, seqid: int, struct: Any) -> bytes:
        # the JSON writer writes any value it is given; the binary writer checks types (not the seqid: a JSON
        # client may send one beyond i32, and gets it back as it sent it).
        self._check.encode(name, mtype, seqid if -(2**31) <= seqid < 2**31 else 0, struct)
        data = jsonwrite.message(name, mtype, seqid, struct)
        if self.uuid_modern and getattr(type(struct), "thrift_has_uuids", False):
            data = uuidjson.to_modern(data, type(struct))
        return data


def parse_json_message(data: bytes) -> tuple[str, int, int, dict[str, Any]]:
    """(name, message type, seqid, args dict) of a complete Apache JSON message; :class:`scan.Malformed` if
    it is not one."""
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise scan.Malformed(f"invalid JSON: {exc}") from None
    if not (
        isinstance(doc, list)
        and len(doc) >= 5
        and doc[0] == 1
        and isinstance(doc[1], str)
        and type(doc[2]) is int
        and type(doc[3]) is int
        and isinstance(doc[4], dict)
    ):
        raise scan.Malformed("not an Apache JSON message: [1, name, type, seqid, {args}] expected")
    if not 1 <= doc[2] <= 4:
        raise scan.Malformed(f"bad message type {doc[2]}")
    args: dict[str, Any] = doc[4]
    if uuidjson.has_uuid(data):  # Apache >= 0.19's uuid type: read as the 16-byte binary it is carried in
        args = uuidjson.to_legacy(args)
    for key, typed in args.items():
        if not (key.lstrip("-").isdigit() and isinstance(typed, dict) and len(typed) == 1):
            raise scan.Malformed(f"bad JSON field {key!r}")
        if next(iter(typed)) not in JSON_TYPES:
            raise scan.Malformed(f"unknown JSON type {next(iter(typed))!r}")
    return doc[1], doc[2], doc[3], args


def make_codec(protocol: ProtocolName) -> Codec:
    if protocol == "binary":
        return BinaryCodec()
    if protocol == "compact":
        return CompactCodec()
    return JsonCodec()
