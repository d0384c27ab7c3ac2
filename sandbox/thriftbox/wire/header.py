"""THeader, as Apache's ``doc/specs/HeaderFormat.md`` defines it and fbthrift and Apache's libraries speak it.

One frame per message::

    int32 LENGTH | 0x0FFF | u16 FLAGS | int32 SEQUENCE NUMBER | u16 HEADER SIZE (in 4-byte words)
    header: varint protocol id, varint transform count, varint transform ids, info blocks, zero padding
    payload: one binary (protocol id 0) or compact (2) message, deflated once per zlib transform (id 1)

Info blocks of type 1 (``INFO_KEYVALUE``) carry key/value pairs of varint-length strings; they reach the App
through :attr:`CallContext.headers`. A reply repeats the request's flags, sequence number, protocol id and
transforms, and carries the headers the App put into :attr:`CallContext.reply_headers` (the spec asks no
server to echo the request's). A frame with an unknown protocol id or transform cannot be read: it is answered
as Apache's servers answer it (:class:`Unreadable`), and the connection closes.
"""

from __future__ import annotations

import zlib
from struct import Struct
from typing import NamedTuple

from thriftpy2.thrift import TApplicationException, TMessageType

from thriftbox.wire.app import APP_ERROR_TYPES, CallContext, ProtocolName
from thriftbox.wire.codec import make_codec
from thriftbox.wire.framing import Message, Reader, TooLarge, parse_message, with_context
from thriftbox.wire.scan import Buf, Malformed, NeedMore

MAGIC = 0x0FFF
PROTOCOLS: dict[int, ProtocolName] = {0: "binary", 2: "compact"}
ZLIB = 1
TRANSFORM_NAMES = {ZLIB: "zlib"}
INFO_KEYVALUE = 1
_I32 = Struct(">i")
_PREFIX = Struct(">HHiH")  # magic, flags, sequence number, header size / 4
_FRAME_HEAD = Struct(">iHHiH")  # length, then the same


class HeaderFrame(NamedTuple):
    """What a reply frame repeats from its request frame."""

    flags: int
    seqid: int
    protocol_id: int
    transforms: tuple[int, ...]


class Unreadable(Malformed):
    """A frame whose payload cannot be read (unknown transform or protocol). As Apache's servers do, the
    connection answers it with a ``TApplicationException`` (empty name, seqid 0) in a plain THeader frame,
    ``farewell``, then closes."""

    def __init__(self, message: str, frame: HeaderFrame, kind: int) -> None:
        super().__init__(message)
        self.frame = frame
        self.kind = kind
        self.farewell = b""


def read_varint(buf: Buf, pos: int, end: int) -> tuple[int, int]:
    """(value, next position) of the unsigned varint at ``pos``, which must end before ``end``."""
    value = shift = 0
    while pos < end:
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, pos
        shift += 7
        if shift > 35:
            break
    raise Malformed("THeader: bad varint in the header")


def write_varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def inflate(data: bytes, limit: int) -> bytes:
    """``data`` decompressed, refusing more than ``limit`` bytes of output (a zlib bomb stays a small one)."""
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, limit)
    except zlib.error as exc:
        raise Malformed(f"THeader: the zlib transform does not decompress: {exc}") from None
    if inflater.unconsumed_tail:
        raise TooLarge(f"THeader: a payload that inflates beyond the limit of {limit} bytes")
    return out


def _text(raw: Buf) -> str:
    return bytes(raw).decode("utf-8", "surrogateescape")


def parse_frame(buf: Buf, pos: int, stop: int, max_size: int) -> Message:
    """The message in the THeader frame ``buf[pos:stop]`` (after its length word), with its context."""
    frame, headers, payload = read_frame(buf, pos, stop, max_size)
    protocol = PROTOCOLS[frame.protocol_id]
    try:
        msg, _ = parse_message(protocol, payload, 0, len(payload))
    except NeedMore:
        raise Malformed("THeader: message truncated by its frame") from None
    names = tuple(TRANSFORM_NAMES[t] for t in frame.transforms)
    ctx = CallContext("header", headers=headers, transforms=names)
    return with_context(msg, ctx, frame)


def read_frame(buf: Buf, pos: int, stop: int, max_size: int) -> tuple[HeaderFrame, dict[str, str], bytes]:
    """The frame fields, info headers and (inflated) payload of the THeader frame ``buf[pos:stop]``; also what
    a client reads its replies with."""
    if stop - pos < _PREFIX.size:
        raise Malformed("THeader: frame shorter than its fixed header")
    magic, flags, seqid, words = _PREFIX.unpack_from(buf, pos)
    if magic != MAGIC:
        raise Malformed(f"THeader: a frame without the 0x0FFF magic (0x{magic:04x})")
    at = pos + _PREFIX.size
    header_end = at + 4 * words
    if header_end > stop:
        raise Malformed("THeader: header size beyond the frame")
    protocol_id, at = read_varint(buf, at, header_end)
    protocol = PROTOCOLS.get(protocol_id)
    if protocol is None:
        raise Unreadable(
            f"THeader: protocol id {protocol_id} is not supported (binary 0 and compact 2 are)",
            HeaderFrame(flags, seqid, 0, ()),
            APP_ERROR_TYPES["INVALID_PROTOCOL"],
        )
    count, at = read_varint(buf, at, header_end)
    transforms: list[int] = []
    for _ in range(count):
        transform, at = read_varint(buf, at, header_end)
        if transform not in TRANSFORM_NAMES:
            raise Unreadable(
                f"THeader: transform {transform} is not supported (zlib, 1, is)",
                HeaderFrame(flags, seqid, protocol_id, ()),
                APP_ERROR_TYPES["INVALID_TRANSFORM"],
            )
        transforms.append(transform)
    headers: dict[str, str] = {}
    while at < header_end:  # info blocks, oldest type first; padding (0) or an unknown type ends them
        info, at = read_varint(buf, at, header_end)
        if info != INFO_KEYVALUE:
            break
        pairs, at = read_varint(buf, at, header_end)
        for _ in range(pairs):
            size, at = read_varint(buf, at, header_end)
            key, at = buf[at : at + size], at + size
            size, at = read_varint(buf, at, header_end)
            value, at = buf[at : at + size], at + size
            if at > header_end:
                raise Malformed("THeader: an info header runs past the header")
            headers[_text(key)] = _text(value)
    payload = bytes(buf[header_end:stop])
    for _ in transforms:  # zlib is the only transform read, so the order does not matter
        payload = inflate(payload, max_size)
    return HeaderFrame(flags, seqid, protocol_id, tuple(transforms)), headers, payload


def encode_frame(frame: HeaderFrame, headers: dict[str, str], payload: bytes) -> bytes:
    """A THeader frame carrying ``payload`` (transformed as ``frame`` says) and the info ``headers``."""
    for _ in frame.transforms:
        payload = zlib.compress(payload)
    head = bytearray(write_varint(frame.protocol_id))
    head += write_varint(len(frame.transforms))
    for transform in frame.transforms:
        head += write_varint(transform)
    if headers:
        head += write_varint(INFO_KEYVALUE) + write_varint(len(headers))
        for key, value in headers.items():
            for text in (key, value):
                raw = text.encode("utf-8", "surrogateescape")
                head += write_varint(len(raw)) + raw
    head += bytes(-len(head) % 4)
    length = _PREFIX.size + len(head) + len(payload)
    words = len(head) // 4
    return _FRAME_HEAD.pack(length, MAGIC, frame.flags, frame.seqid, words) + bytes(head) + payload


class HeaderReader(Reader):
    """A THeader connection: every frame is a header frame (``framed``: each inside one more frame, as a
    THeader protocol over Apache's ``TFramedTransport`` sends it, and reads its replies)."""

    framing = "header"
    protocol = None

    def __init__(self, max_size: int, *, framed: bool = False) -> None:
        self.max_size = max_size
        self.framed = framed

    def feed(self, buf: Buf, out: list[Message]) -> int:
        pos, end = 0, len(buf)
        while end - pos >= 4:
            size = _I32.unpack_from(buf, pos)[0]
            if size > self.max_size:
                raise TooLarge(f"frame of {size} bytes exceeds the limit of {self.max_size}")
            if size <= 0:
                raise Malformed(f"frame size {size}")
            stop = pos + 4 + size
            if stop > end:
                break
            at = pos + 4
            if self.framed:
                if size < 4 or _I32.unpack_from(buf, at)[0] != size - 4:
                    raise Malformed("THeader: a frame whose inner frame does not fill it")
                at += 4
            try:
                out.append(parse_frame(buf, at, stop, self.max_size))
            except Unreadable as exc:
                exc.farewell = self._refusal(exc)
                raise
            pos = stop
        return pos

    def _refusal(self, exc: Unreadable) -> bytes:
        codec = make_codec(PROTOCOLS[exc.frame.protocol_id])
        error = codec.encode("", TMessageType.EXCEPTION, 0, TApplicationException(exc.kind, str(exc)))
        data = encode_frame(exc.frame, {}, error)
        return _I32.pack(len(data)) + data if self.framed else data

    def frame_reply(self, msg: Message, payload: bytes) -> bytes:
        ctx: CallContext | None = getattr(msg, "ctx", None)
        frame: HeaderFrame = getattr(msg, "frame")  # noqa: B009 - only header messages reach here
        data = encode_frame(frame, ctx.reply_headers if ctx is not None else {}, payload)
        return _I32.pack(len(data)) + data if self.framed else data
