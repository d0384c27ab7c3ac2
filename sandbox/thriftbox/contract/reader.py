"""Schema-less readers for binary and compact replies.

thriftpy2's decoders silently skip fields whose id or wire type the IDL does not expect, which would hide
exactly what contract verification is looking for. These readers decode a reply into raw form first, every
field kept with its id and wire type, so that :mod:`thriftbox.contract.decode` can report what it drops.

Wire types are normalised to :class:`thriftpy2.thrift.TType` codes for both protocols.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any, Protocol

from thriftpy2.thrift import TType

from thriftbox.idl.ttypes import TTYPE_UUID
from thriftbox.wire.codec import TYPE_NAMES
from thriftbox.wire.scan import COMPACT_TTYPES

MAX_SIZE = 64 * 2**20  # no honest reply holds a string or container bigger than this
MAX_DEPTH = 64
# wire types by name; a string and a binary look the same on the wire
TTYPE_NAMES = {**TYPE_NAMES, TType.STRING: "string/binary", TTYPE_UUID: "uuid"}
_COMPACT_TYPES = {**COMPACT_TTYPES, 13: TTYPE_UUID}


class MalformedReply(Exception):
    """The bytes on the wire are not a well-formed message of the chosen protocol."""


@dataclass(frozen=True)
class RawList:
    etype: int
    items: list[Any]


@dataclass(frozen=True)
class RawMap:
    ktype: int | None  # None for an empty compact map, which carries no types
    vtype: int | None
    items: list[tuple[Any, Any]]


RawStruct = dict[int, tuple[int, Any]]  # field id -> (wire type, raw value)


class Readable(Protocol):
    def read(self, sz: int) -> bytes: ...


def type_name(ttype: int | None) -> str:
    return TTYPE_NAMES.get(ttype or 0, f"type {ttype}")


class BinaryReader:
    """TBinaryProtocol, strict or not (version-less) messages."""

    def __init__(self, trans: Readable) -> None:
        self.trans = trans

    def _unpack(self, fmt: str, size: int) -> Any:
        return struct.unpack(fmt, self.trans.read(size))[0]

    def _size(self) -> int:
        size: int = self._unpack("!i", 4)
        if not 0 <= size <= MAX_SIZE:
            raise MalformedReply(f"implausible length {size}")
        return size

    def message_begin(self) -> tuple[str, int, int]:
        first: int = self._unpack("!i", 4)
        if first < 0:
            if first & 0xFFFF0000 != 0x80010000:
                raise MalformedReply(f"bad binary protocol version 0x{first & 0xFFFFFFFF:08x}")
            name = self.trans.read(self._size())
            return name.decode("utf-8", "replace"), first & 0xFF, self._unpack("!i", 4)
        if first > MAX_SIZE:
            raise MalformedReply(f"implausible method name length {first}")
        name = self.trans.read(first)
        mtype: int = self._unpack("!b", 1)
        return name.decode("utf-8", "replace"), mtype, self._unpack("!i", 4)

    def struct(self, depth: int = 0) -> RawStruct:
        if depth > MAX_DEPTH:
            raise MalformedReply("structs nested too deeply")
        fields: RawStruct = {}
        while True:
            ttype: int = self._unpack("!b", 1)
            if ttype == TType.STOP:
                return fields
            fid: int = self._unpack("!h", 2)
            fields[fid] = (ttype, self.value(ttype, depth))

    def value(self, ttype: int, depth: int) -> Any:
        fixed = {TType.BOOL: ("!?", 1), TType.BYTE: ("!b", 1), TType.I16: ("!h", 2), TType.I32: ("!i", 4)}
        fixed |= {TType.I64: ("!q", 8), TType.DOUBLE: ("!d", 8)}
        if ttype in fixed:
            return self._unpack(*fixed[ttype])
        if ttype == TType.STRING:
            return self.trans.read(self._size())
        if ttype == TTYPE_UUID:
            return self.trans.read(16)
        if ttype == TType.STRUCT:
            return self.struct(depth + 1)
        if ttype in (TType.LIST, TType.SET):
            etype: int = self._unpack("!b", 1)
            return RawList(etype, [self.value(etype, depth + 1) for _ in range(self._size())])
        if ttype == TType.MAP:
            ktype: int = self._unpack("!b", 1)
            vtype: int = self._unpack("!b", 1)
            size = self._size()
            items = [(self.value(ktype, depth + 1), self.value(vtype, depth + 1)) for _ in range(size)]
            return RawMap(ktype, vtype, items)
        raise MalformedReply(f"unknown wire type {ttype}")


class CompactReader:
    """TCompactProtocol."""

    def __init__(self, trans: Readable) -> None:
        self.trans = trans

    def _byte(self) -> int:
        value: int = struct.unpack("!B", self.trans.read(1))[0]
        return value

    def _varint(self) -> int:
        result = shift = 0
        while True:
            b = self._byte()
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7
            if shift > 63:
                raise MalformedReply("varint longer than 10 bytes")

    def _zigzag(self) -> int:
        n = self._varint()
        return (n >> 1) ^ -(n & 1)

    def _size(self) -> int:
        size = self._varint()
        if size > MAX_SIZE:
            raise MalformedReply(f"implausible length {size}")
        return size

    def _ttype(self, ctype: int) -> int:
        if ctype not in _COMPACT_TYPES:
            raise MalformedReply(f"unknown compact type {ctype}")
        return _COMPACT_TYPES[ctype]

    def message_begin(self) -> tuple[str, int, int]:
        proto_id = self._byte()
        if proto_id != 0x82:
            raise MalformedReply(f"bad compact protocol id 0x{proto_id:02x}")
        ver_type = self._byte()
        if ver_type & 0x1F != 1:
            raise MalformedReply(f"bad compact protocol version {ver_type & 0x1F}")
        seqid = self._varint()
        name = self.trans.read(self._size()).decode("utf-8", "replace")
        return name, (ver_type >> 5) & 0x07, seqid

    def struct(self, depth: int = 0) -> RawStruct:
        if depth > MAX_DEPTH:
            raise MalformedReply("structs nested too deeply")
        fields: RawStruct = {}
        last = 0
        while True:
            header = self._byte()
            if header == 0:
                return fields
            delta, ctype = header >> 4, header & 0x0F
            fid = last + delta if delta else self._zigzag()
            last = fid
            ttype = self._ttype(ctype)
            value = ctype == 1 if ttype == TType.BOOL else self.value(ttype, depth)
            fields[fid] = (ttype, value)

    def value(self, ttype: int, depth: int) -> Any:
        if ttype == TType.BOOL:
            return self._byte() == 1
        if ttype == TType.BYTE:
            return struct.unpack("!b", self.trans.read(1))[0]
        if ttype in (TType.I16, TType.I32, TType.I64):
            return self._zigzag()
        if ttype == TType.DOUBLE:
            return struct.unpack("<d", self.trans.read(8))[0]
        if ttype == TType.STRING:
            return self.trans.read(self._size())
        if ttype == TTYPE_UUID:
            return self.trans.read(16)
        if ttype == TType.STRUCT:
            return self.struct(depth + 1)
        if ttype in (TType.LIST, TType.SET):
            header = self._byte()
            size = header >> 4 if header >> 4 != 15 else self._size()
            etype = self._ttype(header & 0x0F)
            return RawList(etype, [self.value(etype, depth + 1) for _ in range(size)])
        assert ttype == TType.MAP
        size = self._size()
        if not size:
            return RawMap(None, None, [])
        types = self._byte()
        ktype, vtype = self._ttype(types >> 4), self._ttype(types & 0x0F)
        items = [(self.value(ktype, depth + 1), self.value(vtype, depth + 1)) for _ in range(size)]
        return RawMap(ktype, vtype, items)


READERS: dict[str, type[BinaryReader] | type[CompactReader]] = {
    "binary": BinaryReader,
    "compact": CompactReader,
}
