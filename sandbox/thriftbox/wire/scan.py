"""Pure-Python structural scans of Thrift messages: where a message ends, and whether it is well formed.

Buffered transports carry no length, so the end of a message is found by walking it. The same walk guards the
Cython decoder, which trusts sizes: a list claiming 2**31 elements in a 40-byte frame would otherwise allocate
or spin for seconds. Every container's claimed size is checked against the bytes that could follow it, so a
scan is linear in the bytes it has seen.

Scans are resumable: when the buffer ends early they raise :class:`NeedMore` carrying the position reached
and the stack of open containers, and the caller continues from there once more bytes arrived.
"""

from __future__ import annotations

import re
from struct import Struct

MAX_DEPTH = 64  # nesting of structs and containers, as thriftpy2's decoders allow

_I32 = Struct(">i")
_I16 = Struct(">h")
_I32_I32 = Struct(">ii")

# A frame of the stack of open containers: [kind, type_a, type_b, remaining]. kind 0 = struct,
# 1 = list/set of type_a, 2 = map of type_a -> type_b where ``remaining`` counts keys and values.
Frame = list[int]
Buf = bytes | bytearray


class NeedMore(Exception):
    """The buffer ends inside the message: at least ``needed`` bytes (from the buffer start) are required."""

    def __init__(self, needed: int, pos: int = 0, stack: list[Frame] | None = None, depth: int = 0) -> None:
        super().__init__(needed)
        self.needed = needed
        self.pos = pos  # where to resume
        self.stack = stack  # binary/compact: the open containers at ``pos``
        self.depth = depth  # JSON: the nesting depth at ``pos``


class Malformed(Exception):
    """Bytes that can never become a valid message; the message says why."""


class UuidSeen(Malformed):
    """A uuid value (binary type 16, compact type 13): the message needs :mod:`thriftbox.wire.uuidwire`."""


def _unknown(t: int, uuid: int, what: str) -> Malformed:
    return UuidSeen(what) if t == uuid else Malformed(f"unknown {what} {t}")


# -- binary ---------------------------------------------------------------------------------------------

_BIN_FIXED = [-1] * 256  # value size of fixed-width types, 0 for variable width, -1 for invalid
for _t, _n in ((2, 1), (3, 1), (4, 8), (6, 2), (8, 4), (10, 8)):
    _BIN_FIXED[_t] = _n
for _t in (11, 12, 13, 14, 15):
    _BIN_FIXED[_t] = 0
_BIN_MIN = [max(n, 1) for n in _BIN_FIXED]  # smallest encoding of a value, for size plausibility checks
_BIN_MIN[11], _BIN_MIN[13], _BIN_MIN[14], _BIN_MIN[15] = 4, 6, 5, 5


def binary_envelope(buf: Buf, pos: int, end: int) -> tuple[str, int, int, int]:
    """(name, message type, seqid, args offset) of a strict or non-strict binary message at ``pos``."""
    if pos + 8 > end:  # shorter than any message
        raise NeedMore(pos + 8)
    head, size = _I32_I32.unpack_from(buf, pos)
    if head < 0:  # strict: version word, name length, name, seqid
        if head & 0xFFFF0000 != 0x80010000 or size < 0:
            raise Malformed(f"bad binary protocol version 0x{head & 0xFFFFFFFF:08x} or name length {size}")
        start = pos + 8
        stop = start + size
        if stop + 4 > end:
            raise NeedMore(stop + 4)
        mtype = head & 0xFF
        seqid = _I32.unpack_from(buf, stop)[0]
        args = stop + 4
    else:  # non-strict: name length, name, type byte, seqid
        start = pos + 4
        stop = start + head
        if stop + 5 > end:
            raise NeedMore(stop + 5)
        mtype = buf[stop]
        seqid = _I32.unpack_from(buf, stop + 1)[0]
        args = stop + 5
    if not 0 < mtype < 5:
        raise Malformed(f"bad message type {mtype}")
    try:
        name = str(buf[start:stop], "utf-8")
    except UnicodeDecodeError:
        raise Malformed("method name is not UTF-8") from None
    return name, mtype, seqid, args


def binary_struct(buf: Buf, pos: int, end: int, stack: list[Frame] | None = None) -> int:
    """The end of the binary struct at ``pos`` (or of the open containers in ``stack``, when resuming)."""
    fixed, least, i32 = _BIN_FIXED, _BIN_MIN, _I32.unpack_from
    if stack is None:
        # fast lane: leading fields of fixed width or strings, as most argument structs are
        while pos < end:
            t = buf[pos]
            if t == 0:
                return pos + 1
            size = fixed[t]
            if size > 0:
                nxt = pos + 3 + size
            elif t == 11 and pos + 7 <= end:
                n = i32(buf, pos + 3)[0]
                if n < 0:
                    break
                nxt = pos + 7 + n
            else:
                break
            if nxt > end:
                break
            pos = nxt
        stack = [[0, 0, 0, 0]]
    while stack:
        top = stack[-1]
        if top[0] == 0:
            if pos >= end:
                raise NeedMore(pos + 1, pos, stack)
            t = buf[pos]
            if t == 0:
                pos += 1
                stack.pop()
                continue
            at = pos + 3
        else:
            left = top[3]
            if left == 0:
                stack.pop()
                continue
            t = top[1] if top[0] == 1 or left % 2 == 0 else top[2]
            at = pos
        size = fixed[t]
        child = None
        if size > 0:
            nxt = at + size
        elif size < 0:
            raise _unknown(t, 16, "field type")
        elif t == 11:
            if at + 4 > end:
                raise NeedMore(at + 4, pos, stack)
            n = i32(buf, at)[0]
            if n < 0:
                raise Malformed("negative string length")
            nxt = at + 4 + n
        elif t == 12:
            nxt = at
            child = [0, 0, 0, 0]
        elif t == 13:
            if at + 6 > end:
                raise NeedMore(at + 6, pos, stack)
            kt, vt, n = buf[at], buf[at + 1], i32(buf, at + 2)[0]
            nxt = at + 6
            if n < 0:
                raise Malformed("negative map size")
            if n:
                ks, vs = fixed[kt], fixed[vt]
                if ks < 0 or vs < 0:
                    raise _unknown(16 if 16 in (kt, vt) else kt, 16, "map key or value type")
                if ks and vs:
                    nxt += n * (ks + vs)
                else:
                    if nxt + n * (least[kt] + least[vt]) > end:
                        raise NeedMore(nxt + n * (least[kt] + least[vt]), pos, stack)
                    child = [2, kt, vt, 2 * n]
        else:  # 14 set, 15 list
            if at + 5 > end:
                raise NeedMore(at + 5, pos, stack)
            et, n = buf[at], i32(buf, at + 1)[0]
            nxt = at + 5
            if n < 0:
                raise Malformed("negative list size")
            if n:
                es = fixed[et]
                if es < 0:
                    raise _unknown(et, 16, "element type")
                if es:
                    nxt += n * es
                else:
                    if nxt + n * least[et] > end:
                        raise NeedMore(nxt + n * least[et], pos, stack)
                    child = [1, et, 0, n]
        if nxt > end:
            raise NeedMore(nxt, pos, stack)
        if top[0]:
            top[3] -= 1
        pos = nxt
        if child is not None:
            if len(stack) >= MAX_DEPTH:
                raise Malformed(f"nested deeper than {MAX_DEPTH} levels")
            stack.append(child)
    return pos


def binary_fields(buf: bytes, pos: int = 0) -> dict[int, int]:
    """Field id -> wire type of the top-level fields of the (complete, scanned) binary struct at ``pos``."""
    fields: dict[int, int] = {}
    end = len(buf)
    while (t := buf[pos]) != 0:
        fields[_I16.unpack_from(buf, pos + 1)[0]] = t
        pos = binary_struct(buf, pos + 3, end, [[1, t, 0, 1]])
    return fields


# -- compact --------------------------------------------------------------------------------------------

# compact type -> TType, and the encoded size of fixed-width values (0: varint or variable, -1: invalid)
COMPACT_TTYPES = {1: 2, 2: 2, 3: 3, 4: 6, 5: 8, 6: 10, 7: 4, 8: 11, 9: 15, 10: 14, 11: 13, 12: 12}
_CMP_FIXED = [-1] * 16
for _t, _n in ((1, 1), (2, 1), (3, 1), (7, 8)):
    _CMP_FIXED[_t] = _n
for _t in (4, 5, 6, 8, 9, 10, 11, 12):
    _CMP_FIXED[_t] = 0


def _varint(buf: Buf, pos: int, end: int, stack: list[Frame] | None, at: int) -> tuple[int, int]:
    """(value, next position) of the varint at ``at``; ``pos``/``stack`` are the resume point."""
    value = shift = 0
    while True:
        if at >= end:
            raise NeedMore(at + 1, pos, stack)
        b = buf[at]
        at += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, at
        shift += 7
        if shift > 63:
            raise Malformed("varint longer than 10 bytes")


def compact_envelope(buf: Buf, pos: int, end: int) -> tuple[str, int, int, int]:
    """(name, message type, seqid, args offset) of the compact message at ``pos``."""
    if pos + 2 > end:
        raise NeedMore(pos + 2)
    if buf[pos] != 0x82 or buf[pos + 1] & 0x1F != 1:
        raise Malformed("bad compact protocol id or version")
    mtype = buf[pos + 1] >> 5
    if not 1 <= mtype <= 4:
        raise Malformed(f"bad message type {mtype}")
    seqid, at = _varint(buf, pos, end, None, pos + 2)
    if seqid >= 2**32:
        raise Malformed("seqid out of range")
    size, at = _varint(buf, pos, end, None, at)
    if at + size > end:
        raise NeedMore(at + size)
    try:
        name = bytes(buf[at : at + size]).decode()
    except UnicodeDecodeError:
        raise Malformed("method name is not UTF-8") from None
    return name, mtype, seqid, at + size


def compact_struct(buf: Buf, pos: int, end: int, stack: list[Frame] | None = None) -> int:
    """The end of the compact struct at ``pos`` (or of the open containers in ``stack``, when resuming)."""
    if stack is None:
        stack = [[0, 0, 0, 0]]
    fixed = _CMP_FIXED
    while stack:
        top = stack[-1]
        if top[0] == 0:
            if pos >= end:
                raise NeedMore(pos + 1, pos, stack)
            head = buf[pos]
            t = head & 0x0F
            if t == 0:
                pos += 1
                stack.pop()
                continue
            at = pos + 1
            if head < 0x10:  # no delta: the field id follows as a zigzag varint
                _, at = _varint(buf, pos, end, stack, at)
            if t <= 2:  # a bool field carries its value in the type
                pos = at
                continue
        else:
            left = top[3]
            if left == 0:
                stack.pop()
                continue
            t = top[1] if top[0] == 1 or left % 2 == 0 else top[2]
            at = pos
        size = fixed[t]
        child = None
        if size > 0:
            nxt = at + size
        elif size < 0:
            raise _unknown(t, 13, "compact type")
        elif t <= 6:  # i16, i32, i64
            _, nxt = _varint(buf, pos, end, stack, at)
        elif t == 8:
            n, nxt = _varint(buf, pos, end, stack, at)
            nxt += n
        elif t == 12:
            nxt = at
            child = [0, 0, 0, 0]
        elif t == 11:
            n, nxt = _varint(buf, pos, end, stack, at)
            if n:
                if nxt >= end:
                    raise NeedMore(nxt + 1, pos, stack)
                kt, vt = buf[nxt] >> 4, buf[nxt] & 0x0F
                nxt += 1
                ks, vs = fixed[kt], fixed[vt]
                if ks < 0 or vs < 0:
                    raise _unknown(13 if 13 in (kt, vt) else kt, 13, "compact map key or value type")
                if ks and vs:
                    nxt += n * (ks + vs)
                else:
                    if nxt + 2 * n > end:  # every key and value takes a byte at least
                        raise NeedMore(nxt + 2 * n, pos, stack)
                    child = [2, kt, vt, 2 * n]
        else:  # 9 list, 10 set
            if at >= end:
                raise NeedMore(at + 1, pos, stack)
            n, et = buf[at] >> 4, buf[at] & 0x0F
            nxt = at + 1
            if n == 15:
                n, nxt = _varint(buf, pos, end, stack, nxt)
            if n:
                es = fixed[et]
                if es < 0:
                    raise _unknown(et, 13, "compact element type")
                if es:
                    nxt += n * es
                else:
                    if nxt + n > end:
                        raise NeedMore(nxt + n, pos, stack)
                    child = [1, et, 0, n]
        if nxt > end:
            raise NeedMore(nxt, pos, stack)
        if top[0]:
            top[3] -= 1
        pos = nxt
        if child is not None:
            if len(stack) >= MAX_DEPTH:
                raise Malformed(f"nested deeper than {MAX_DEPTH} levels")
            stack.append(child)
    return pos


def compact_fields(buf: bytes, pos: int = 0) -> dict[int, int]:
    """Field id -> TType of the top-level fields of the (complete, scanned) compact struct at ``pos``."""
    fields: dict[int, int] = {}
    last, end = 0, len(buf)
    while (head := buf[pos]) & 0x0F:
        t = head & 0x0F
        pos += 1
        if head >> 4:
            fid = last + (head >> 4)
        else:
            raw, pos = _varint(buf, pos, end, None, pos)
            fid = (raw >> 1) ^ -(raw & 1)
        fields[fid] = COMPACT_TTYPES.get(t, -1)
        last = fid
        if t > 2:  # bool fields have no value bytes
            pos = compact_struct(buf, pos, end, [[1, t, 0, 1]])
    return fields


# -- JSON -----------------------------------------------------------------------------------------------

_JSON_TOKEN = re.compile(rb'["\[\]{}]')
_JSON_STRING_END = re.compile(rb'(?:[^"\\]|\\.)*"', re.DOTALL)
_JSON_MAX_DEPTH = 4 * MAX_DEPTH


def json_end(buf: Buf, pos: int, end: int, depth: int = 0) -> int:
    """The end of the JSON array that starts at ``pos`` (resuming: ``pos`` inside it at ``depth``)."""
    search, string_end = _JSON_TOKEN.search, _JSON_STRING_END.match
    while True:
        m = search(buf, pos, end)
        if m is None:
            raise NeedMore(end + 1, end, None, depth)
        c = buf[m.start()]
        if c == 0x22:  # '"'
            s = string_end(buf, m.end(), end)
            if s is None:
                raise NeedMore(end + 1, m.start(), None, depth)
            pos = s.end()
            continue
        pos = m.end()
        if c in b"[{":
            depth += 1
            if depth > _JSON_MAX_DEPTH:
                raise Malformed(f"JSON nested deeper than {_JSON_MAX_DEPTH} levels")
        else:
            depth -= 1
            if depth < 0:
                raise Malformed("unbalanced JSON")
            if depth == 0:
                return pos
