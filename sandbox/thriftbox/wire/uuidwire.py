"""The ``uuid`` wire type (Apache >= 0.19) for a runtime without it: rewriting binary and compact bytes.

thriftpy2 0.7.1 has no uuid type; payload classes carry a uuid as its 16 bytes in a ``binary`` field. A client
of Apache >= 0.19 writes it as type 16 (binary protocol: 16 raw bytes) or compact type 13 (16 raw bytes).

* Requests: :func:`to_legacy` rewrites every uuid value of a struct into a 16-byte binary value. It needs no
  IDL: the wire types say where the uuids are. The scans raise :class:`UuidSeen` at the first uuid, so a
  message without one costs nothing extra.
* Replies: :func:`thriftbox.wire.uuidreply.to_modern` rewrites the binary values that the IDL declares ``uuid``
  (the payload classes' ``thrift_uuids``, see :mod:`thriftbox.host.uuids`) into uuid values.
"""

from __future__ import annotations

from struct import Struct

from thriftpy2.thrift import TPayload

from thriftbox.wire import scan
from thriftbox.wire.scan import Buf, Malformed, NeedMore, UuidSeen

_I32 = Struct(">i")
_I16 = Struct(">h")
BINARY_UUID, COMPACT_UUID = 16, 13
COMPACT_BINARY = 8
UUID_LEAF = True


# The codecs ask every args and result class where its uuids are, on every call. A failed attribute lookup on a
# class costs a formatted AttributeError (about a microsecond); with the "none" answer on thriftpy2's base class
# of all payloads, the question costs a plain attribute read.
setattr(TPayload, "thrift_uuids", None)  # noqa: B010 - a class thriftpy2 declares without it
setattr(TPayload, "thrift_has_uuids", False)  # noqa: B010


class UuidBytes(bytes):
    """An argument payload that was rewritten from uuid values: its client speaks the uuid type."""


__all__ = ["UuidBytes", "UuidSeen", "legacy_message", "one_value_end", "to_legacy"]


# -- requests: uuid values -> 16-byte binary values ---------------------------------------------------------


def to_legacy(protocol: str, buf: Buf, pos: int, end: int) -> tuple[UuidBytes, int]:
    """The struct at ``pos`` with its uuid values as binary, and where it ended in ``buf``."""
    out = bytearray()
    walk = _Legacy(buf, end, out, protocol == "compact")
    stop = walk.struct(pos, 0)
    return UuidBytes(out), stop


class _Legacy:
    def __init__(self, buf: Buf, end: int, out: bytearray, compact: bool) -> None:
        self.buf, self.end, self.out, self.compact = buf, end, out, compact

    def need(self, pos: int) -> None:
        if pos > self.end:
            raise NeedMore(pos)

    def varint(self, pos: int) -> tuple[int, int]:
        value = shift = 0
        while True:
            self.need(pos + 1)
            b = self.buf[pos]
            pos += 1
            value |= (b & 0x7F) << shift
            if b < 0x80:
                return value, pos
            shift += 7
            if shift > 63:
                raise Malformed("varint longer than 10 bytes")

    def count(self, pos: int, values: int) -> None:
        """A container of ``values`` values at ``pos``: each takes a byte at least, so its bytes must come
        (asking for them all at once lets the reader refuse a claimed size beyond its limit)."""
        if values < 0:
            raise Malformed("negative container size")
        self.need(pos + values)

    def copy(self, pos: int, stop: int) -> int:
        self.need(stop)
        self.out += self.buf[pos:stop]
        return stop

    def struct(self, pos: int, depth: int) -> int:
        if depth > scan.MAX_DEPTH:
            raise Malformed(f"nested deeper than {scan.MAX_DEPTH} levels")
        buf = self.buf
        while True:
            self.need(pos + 1)
            t = buf[pos]
            if not self.compact:
                if t == 0:
                    self.out.append(0)
                    return pos + 1
                self.need(pos + 3)
                self.out.append(11 if t == BINARY_UUID else t)
                self.out += buf[pos + 1 : pos + 3]
                pos = self.value(pos + 3, t, depth)
                continue
            kind = t & 0x0F
            if kind == 0:
                self.out.append(0)
                return pos + 1
            self.out.append(t & 0xF0 | COMPACT_BINARY if kind == COMPACT_UUID else t)
            at = pos + 1
            if t < 0x10:  # the field id follows
                _, at = self.varint(at)
                self.out += buf[pos + 1 : at]
            pos = at if kind <= 2 else self.value(at, kind, depth)

    def value(self, pos: int, t: int, depth: int) -> int:
        buf, out = self.buf, self.out
        if (t == BINARY_UUID and not self.compact) or (t == COMPACT_UUID and self.compact):
            self.need(pos + 16)
            out += b"\x00\x00\x00\x10" if not self.compact else b"\x10"
            out += buf[pos : pos + 16]
            return pos + 16
        if self.compact:
            return self._compact_value(pos, t, depth)
        if t == 12:
            return self.struct(pos, depth + 1)
        if t in (14, 15):
            self.need(pos + 5)
            et, n = buf[pos], _I32.unpack_from(buf, pos + 1)[0]
            out.append(11 if et == BINARY_UUID else et)
            out += buf[pos + 1 : pos + 5]
            pos += 5
            self.count(pos, n)
            for _ in range(n):
                pos = self.value(pos, et, depth + 1)
            return pos
        if t == 13:
            self.need(pos + 6)
            kt, vt, n = buf[pos], buf[pos + 1], _I32.unpack_from(buf, pos + 2)[0]
            out.append(11 if kt == BINARY_UUID else kt)
            out.append(11 if vt == BINARY_UUID else vt)
            out += buf[pos + 2 : pos + 6]
            pos += 6
            self.count(pos, 2 * n)
            for _ in range(n):
                pos = self.value(pos, kt, depth + 1)
                pos = self.value(pos, vt, depth + 1)
            return pos
        stop = one_value_end(buf, pos, self.end, t, compact=False)
        return self.copy(pos, stop)

    def _compact_value(self, pos: int, t: int, depth: int) -> int:
        buf, out = self.buf, self.out
        if t == 12:
            return self.struct(pos, depth + 1)
        if t in (9, 10):
            self.need(pos + 1)
            head = buf[pos]
            n, et, at = head >> 4, head & 0x0F, pos + 1
            if n == 15:
                n, at = self.varint(at)
            out.append(head & 0xF0 | COMPACT_BINARY if et == COMPACT_UUID else head)
            out += buf[pos + 1 : at]
            pos = at
            self.count(pos, n)
            for _ in range(n):
                pos = self.value(pos, et, depth + 1)
            return pos
        if t == 11:
            n, at = self.varint(pos)
            out += buf[pos:at]
            if not n:
                return at
            self.need(at + 1)
            kt, vt = buf[at] >> 4, buf[at] & 0x0F
            out.append(_legacy_compact(kt) << 4 | _legacy_compact(vt))
            pos = at + 1
            self.count(pos, 2 * n)
            for _ in range(n):
                pos = self.value(pos, kt, depth + 1)
                pos = self.value(pos, vt, depth + 1)
            return pos
        stop = one_value_end(buf, pos, self.end, t, compact=True)
        return self.copy(pos, stop)


def _legacy_compact(t: int) -> int:
    return COMPACT_BINARY if t == COMPACT_UUID else t


def one_value_end(buf: Buf, pos: int, end: int, t: int, *, compact: bool) -> int:
    """Where the single value of wire type ``t`` at ``pos`` ends (a scalar or a string)."""
    struct_end = scan.compact_struct if compact else scan.binary_struct
    try:
        return struct_end(buf, pos, end, [[1, t, 0, 1]])
    except NeedMore as more:  # without the scan's resume point: a reader must not resume in the middle
        raise NeedMore(more.needed) from None


def legacy_message(protocol: str, data: bytes) -> bytes:
    """A whole binary or compact message (a reply, say) with its uuid values as 16-byte binary: what a thriftpy2
    client (thriftbox's own) decodes. Unchanged when it holds no uuid."""
    envelope, struct_end = (
        (scan.compact_envelope, scan.compact_struct)
        if protocol == "compact"
        else (scan.binary_envelope, scan.binary_struct)
    )
    at = envelope(data, 0, len(data))[3]
    try:
        struct_end(data, at, len(data))
    except UuidSeen:
        payload, stop = to_legacy(protocol, data, at, len(data))
        return data[:at] + payload + data[stop:]
    return data
