"""Cutting a connection's byte stream into complete messages: buffered and framed transports.

A :class:`Reader` is fed the connection's unread bytes and appends every complete :class:`Message` it finds;
it returns how many bytes it consumed, keeps what it needs to resume an unfinished message, and raises
:class:`~thriftbox.wire.scan.Malformed` (or :class:`TooLarge`) when the stream can never make sense.
"""

from __future__ import annotations

from struct import Struct
from typing import Any, NamedTuple

from thriftbox.wire import scan, uuidwire
from thriftbox.wire.app import CallContext, Framing, ProtocolName
from thriftbox.wire.codec import parse_json_message
from thriftbox.wire.scan import Buf, Frame, Malformed, NeedMore, UuidSeen

_I32 = Struct(">i")


class Message(NamedTuple):
    """A complete request: envelope, and the args payload (bytes; a dict for JSON)."""

    protocol: ProtocolName
    name: str
    mtype: int
    seqid: int
    payload: Any
    close_after: bool = False  # HTTP: ``Connection: close`` or HTTP/1.0


class ContextMessage(Message):
    """A message that arrived with a :class:`CallContext` (THeader, TTwitter) and the state its reply needs
    (``frame``, read by the reader's :meth:`Reader.frame_reply`)."""

    ctx: CallContext | None
    frame: Any


def with_context(msg: Message, ctx: CallContext | None, frame: Any = None) -> ContextMessage:
    out = tuple.__new__(ContextMessage, msg)
    out.ctx = ctx
    out.frame = frame
    return out


def new_message(fields: tuple[ProtocolName, str, int, int, Any, bool]) -> Message:
    """A :class:`Message` from a plain tuple, without NamedTuple's slower keyword-aware constructor."""
    return tuple.__new__(Message, fields)


class TooLarge(Malformed):
    """A message longer than the connection's limit."""


class Reader:
    framing: Framing
    protocol: ProtocolName | None

    def feed(self, buf: Buf, out: list[Message]) -> int:
        """Append the complete messages at the start of ``buf`` to ``out``; return the bytes consumed."""
        raise NotImplementedError

    def frame_reply(self, msg: Message, payload: bytes) -> bytes:
        """The bytes that carry the reply ``payload`` to ``msg`` (framings other than buffered, framed, HTTP)."""
        raise NotImplementedError


def frame_plain(framing: Framing, payload: bytes) -> bytes:
    """``payload`` as a buffered or framed transport sends it."""
    return _I32.pack(len(payload)) + payload if framing == "framed" else payload


def parse_binary(buf: Buf, pos: int, end: int) -> tuple[Message, int]:
    name, mtype, seqid, args = scan.binary_envelope(buf, pos, end)
    try:
        stop = scan.binary_struct(buf, args, end)
    except UuidSeen:  # Apache >= 0.19's uuid type: rewritten as 16-byte binary, which the codec reads
        payload, stop = uuidwire.to_legacy("binary", buf, args, end)
        return new_message(("binary", name, mtype, seqid, payload, False)), stop
    return tuple.__new__(Message, ("binary", name, mtype, seqid, buf[args:stop], False)), stop


def parse_compact(buf: Buf, pos: int, end: int) -> tuple[Message, int]:
    name, mtype, seqid, args = scan.compact_envelope(buf, pos, end)
    try:
        stop = scan.compact_struct(buf, args, end)
    except UuidSeen:
        payload, stop = uuidwire.to_legacy("compact", buf, args, end)
        return new_message(("compact", name, mtype, seqid, payload, False)), stop
    return new_message(("compact", name, mtype, seqid, bytes(buf[args:stop]), False)), stop


def parse_json(buf: Buf, pos: int, end: int) -> tuple[Message, int]:
    stop = scan.json_end(buf, pos, end)
    name, mtype, seqid, fields = parse_json_message(bytes(buf[pos:stop]))
    return new_message(("json", name, mtype, seqid, fields, False)), stop


PARSERS = {"binary": parse_binary, "compact": parse_compact, "json": parse_json}


def parse_message(protocol: ProtocolName, buf: Buf, pos: int, end: int) -> tuple[Message, int]:
    """The message at ``pos`` and where it ends; raises :class:`NeedMore` or :class:`Malformed`."""
    return PARSERS[protocol](buf, pos, end)


class FramedReader(Reader):
    """``TFramedTransport``: a big-endian int32 length, then one message."""

    framing: Framing = "framed"

    def __init__(self, protocol: ProtocolName, max_size: int) -> None:
        self.protocol = protocol
        self.max_size = max_size
        self._parse = PARSERS[protocol]

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
            try:
                msg, _ = self._parse(buf, pos + 4, stop)
            except NeedMore:
                raise Malformed("message truncated by its frame") from None
            out.append(msg)
            pos = stop
        return pos


class BufferedReader(Reader):
    """Unframed transports: a message ends where its structure ends."""

    framing: Framing = "buffered"

    def __init__(self, protocol: ProtocolName, max_size: int) -> None:
        self.protocol = protocol
        self.max_size = max_size
        self._parse = PARSERS[protocol]
        # an unfinished message: (envelope, resume offset from the message start, open containers, JSON depth)
        self._resume: tuple[tuple[str, int, int, int], int, list[Frame] | None, int] | None = None

    def feed(self, buf: Buf, out: list[Message]) -> int:
        pos, end = 0, len(buf)
        while pos < end:
            try:
                if self._resume is None:
                    msg, stop = self._parse(buf, pos, end)
                else:
                    msg, stop = self._continue(buf, end)
            except NeedMore as more:
                if more.needed - pos > self.max_size:
                    raise TooLarge(f"message exceeds the limit of {self.max_size} bytes") from None
                self._save(buf, pos, end, more)
                return pos
            if stop - pos > self.max_size:
                raise TooLarge(f"message of {stop - pos} bytes exceeds the limit of {self.max_size}")
            out.append(msg)
            pos = stop
        return pos

    def _save(self, buf: Buf, pos: int, end: int, more: NeedMore) -> None:
        """Remember how far an unfinished message was scanned, so the next feed does not start over."""
        if self._resume is not None:
            envelope, _, _, _ = self._resume
            self._resume = (envelope, more.pos, more.stack, more.depth)
            return
        if self.protocol == "json":
            if more.pos > pos:
                self._resume = (("", 0, 0, 0), more.pos - pos, None, more.depth)
            return
        if more.stack is None:  # still inside the envelope: cheap to parse again
            return
        envelope_of = scan.binary_envelope if self.protocol == "binary" else scan.compact_envelope
        name, mtype, seqid, args = envelope_of(buf, pos, end)
        self._resume = ((name, mtype, seqid, args - pos), more.pos - pos, more.stack, 0)

    def _continue(self, buf: Buf, end: int) -> tuple[Message, int]:
        assert self._resume is not None
        (name, mtype, seqid, args), at, stack, depth = self._resume
        if self.protocol == "json":
            stop = scan.json_end(buf, at, end, depth)
            self._resume = None
            name, mtype, seqid, fields = parse_json_message(bytes(buf[:stop]))
            return Message("json", name, mtype, seqid, fields), stop
        struct_end = scan.binary_struct if self.protocol == "binary" else scan.compact_struct
        try:
            stop = struct_end(buf, at, end, stack)
        except UuidSeen:  # start over: the uuid rewrite reads the message from its start
            self._resume = None
            return self._parse(buf, 0, end)
        self._resume = None
        return Message(self.protocol, name, mtype, seqid, bytes(buf[args:stop])), stop  # type: ignore[arg-type]
