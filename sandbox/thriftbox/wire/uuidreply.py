"""Replies with uuids: the binary values the IDL declares ``uuid`` become uuid values (binary type 16, compact
type 13), guided by the payload classes' marks (:mod:`thriftbox.host.uuids`). See :mod:`thriftbox.wire.uuidwire`
for requests.
"""

from __future__ import annotations

from struct import Struct
from typing import Any

from thriftbox.wire import scan
from thriftbox.wire.uuidwire import BINARY_UUID, COMPACT_UUID, UUID_LEAF, one_value_end

_I32 = Struct(">i")
_I16 = Struct(">h")


def to_modern(protocol: str, data: bytes, pos: int, cls: Any) -> bytes:
    """The message ``data`` whose struct of class ``cls`` starts at ``pos``, with its uuids as uuid values."""
    out = bytearray(data[:pos])
    walk = _Modern(data, out, protocol == "compact")
    stop = walk.struct(pos, cls)
    out += data[stop:]
    return bytes(out)


def elem_spec(spec: Any) -> tuple[int, Any]:
    """(ttype, nested spec) of a container's element spec in thriftpy2's notation (a bare ttype, or a pair)."""
    return (spec, None) if isinstance(spec, int) else (spec[0], spec[1])


class _Modern:
    def __init__(self, data: bytes, out: bytearray, compact: bool) -> None:
        self.data, self.out, self.compact = data, out, compact
        self.end = len(data)

    def skip(self, pos: int, t: int) -> int:
        stop = one_value_end(self.data, pos, self.end, t, compact=self.compact)
        self.out += self.data[pos:stop]
        return stop

    def struct(self, pos: int, cls: Any) -> int:
        data, out = self.data, self.out
        if not getattr(cls, "thrift_has_uuids", False):
            return self.skip(pos, 12)
        marks: dict[int, Any] = getattr(cls, "thrift_uuids", {})
        spec: dict[int, Any] = cls.thrift_spec
        last = 0
        while True:
            head = data[pos]
            if not self.compact:
                if head == 0:
                    out.append(0)
                    return pos + 1
                fid = _I16.unpack_from(data, pos + 1)[0]
                t, at = head, pos + 3
            else:
                t = head & 0x0F
                if t == 0:
                    out.append(0)
                    return pos + 1
                at = pos + 1
                if head >> 4:
                    fid = last + (head >> 4)
                else:
                    raw, at = scan._varint(data, pos, self.end, None, at)
                    fid = (raw >> 1) ^ -(raw & 1)
                last = fid
            field = spec.get(fid)
            mark = marks.get(fid)
            leaf = mark is UUID_LEAF
            if not self.compact:
                out.append(BINARY_UUID if leaf else head)
                out += data[pos + 1 : at]
            else:
                out.append(head & 0xF0 | COMPACT_UUID if leaf else head)
                out += data[pos + 1 : at]
                if t <= 2:
                    pos = at
                    continue
            inner = field[2] if field is not None and len(field) > 3 else None
            pos = self.value(at, t, mark, inner)

    def value(self, pos: int, t: int, mark: Any, inner: Any) -> int:
        data, out = self.data, self.out
        if mark is UUID_LEAF:
            if self.compact:
                n, at = scan._varint(data, pos, self.end, None, pos)
            else:
                n, at = _I32.unpack_from(data, pos)[0], pos + 4
            if n != 16:
                raise ValueError(f"a uuid must be 16 bytes, not {n}")
            out += data[at : at + 16]
            return at + 16
        if t == 12 and inner is not None:
            return self.struct(pos, inner)
        if mark is None and not reaches_uuid(inner):
            return self.skip(pos, t)
        return self._container(pos, t, mark, inner)

    def _container(self, pos: int, t: int, mark: Any, inner: Any) -> int:
        data, out = self.data, self.out
        if (not self.compact and t in (14, 15)) or (self.compact and t in (9, 10)):
            emark = mark[1] if mark else None
            _, e_inner = elem_spec(inner)
            if self.compact:
                head = data[pos]
                n, et, at = head >> 4, head & 0x0F, pos + 1
                if n == 15:
                    n, at = scan._varint(data, pos, self.end, None, at)
                out.append(head & 0xF0 | COMPACT_UUID if emark is UUID_LEAF else head)
            else:
                et, n, at = data[pos], _I32.unpack_from(data, pos + 1)[0], pos + 5
                out.append(BINARY_UUID if emark is UUID_LEAF else et)
            out += data[pos + 1 : at]
            pos = at
            for _ in range(n):
                pos = self.value(pos, et, emark, e_inner)
            return pos
        # a map
        kmark, vmark = (mark[1], mark[2]) if mark else (None, None)
        (_, k_inner), (_, v_inner) = elem_spec(inner[0]), elem_spec(inner[1])
        if self.compact:
            n, at = scan._varint(data, pos, self.end, None, pos)
            out += data[pos:at]
            if not n:
                return at
            kt, vt = data[at] >> 4, data[at] & 0x0F
            out.append(
                (COMPACT_UUID if kmark is UUID_LEAF else kt) << 4
                | (COMPACT_UUID if vmark is UUID_LEAF else vt)
            )
            pos = at + 1
        else:
            kt, vt, n = data[pos], data[pos + 1], _I32.unpack_from(data, pos + 2)[0]
            out.append(BINARY_UUID if kmark is UUID_LEAF else kt)
            out.append(BINARY_UUID if vmark is UUID_LEAF else vt)
            out += data[pos + 2 : pos + 6]
            pos += 6
        for _ in range(n):
            pos = self.value(pos, kt, kmark, k_inner)
            pos = self.value(pos, vt, vmark, v_inner)
        return pos


def reaches_uuid(inner: Any) -> bool:
    """Whether a container's element spec leads to a struct with uuids."""
    if inner is None or isinstance(inner, int):
        return False
    if isinstance(inner, type):
        return bool(getattr(inner, "thrift_has_uuids", False))
    if isinstance(inner, tuple):
        return any(reaches_uuid(part) for part in inner)
    return False
