"""TTwitter: Finagle's upgrade of a plain binary (or compact) connection, from finagle-thrift's ``tracing.thrift``.

A Finagle client's first call on a connection is ``__can__finagle__trace__v3__`` with a ``ConnectionOptions``
struct. Any reply but an EXCEPTION accepts the upgrade: from then on every request is a ``RequestHeader``
struct followed by the usual message, and every reply a ``ResponseHeader`` struct followed by the usual
message, in the same framing (framed by default, buffered with ``withBufferedTransport``). The header's trace
id, span id, parent span id, sampled flag, flags, client id and destination reach the App through
:class:`~thriftbox.wire.app.CallContext`. Replies carry an empty ``ResponseHeader`` (Finagle fills it only for
debugged requests, with spans a mock has none of).
"""

from __future__ import annotations

from typing import Any

from thriftpy2.thrift import TPayload, TType, gen_init

from thriftbox.wire.app import CallContext, Framing, ProtocolName
from thriftbox.wire.codec import Codec, make_codec
from thriftbox.wire.framing import Message, Reader, TooLarge, frame_plain, parse_message, with_context
from thriftbox.wire.scan import Buf, Malformed, NeedMore, binary_struct, compact_struct

UPGRADE = "__can__finagle__trace__v3__"
EMPTY_STRUCT = b"\x00"  # an empty struct (UpgradeReply, ResponseHeader) in binary and in compact alike


def _payload(name: str, spec: dict[int, tuple[Any, ...]]) -> Any:
    cls: Any = type(name, (TPayload,), {})
    return gen_init(cls, spec, [(field[1], None) for field in spec.values()])


ClientId: Any = _payload("ClientId", {1: (TType.STRING, "name", False)})
RequestHeader: Any = _payload(
    "RequestHeader",
    {  # the fields a mock reports; contexts (8) and delegations (10) are skipped by the decoder
        1: (TType.I64, "trace_id", False),
        2: (TType.I64, "span_id", False),
        3: (TType.I64, "parent_span_id", False),
        5: (TType.BOOL, "sampled", False),
        6: (TType.STRUCT, "client_id", ClientId, False),
        7: (TType.I64, "flags", False),
        9: (TType.STRING, "dest", False),
        11: (TType.I64, "trace_id_high", False),
    },
)
UpgradeReply: Any = _payload("UpgradeReply", {})


def can_upgrade(framing: Framing, protocol: ProtocolName) -> bool:
    """Whether a connection of this framing and protocol can take the TTwitter upgrade."""
    return framing in ("framed", "buffered") and protocol in ("binary", "compact")


def context_of(header: Any) -> CallContext:
    client = header.client_id
    return CallContext(
        "ttwitter",
        trace_id=header.trace_id,
        trace_id_high=header.trace_id_high,
        span_id=header.span_id,
        parent_span_id=header.parent_span_id,
        sampled=header.sampled,
        flags=header.flags,
        client_id=client.name if client is not None else None,
        dest=header.dest,
    )


class TTwitterReader(Reader):
    """An upgraded connection: ``RequestHeader`` + message, framed or buffered as before the upgrade."""

    framing = "ttwitter"

    def __init__(self, inner: Framing, protocol: ProtocolName, max_size: int) -> None:
        self.inner = inner
        self.protocol = protocol
        self.max_size = max_size
        self._struct_end = binary_struct if protocol == "binary" else compact_struct
        self._codec: Codec = make_codec(protocol)

    def _parse(self, buf: Buf, pos: int, end: int) -> tuple[Message, int]:
        header_end = self._struct_end(buf, pos, end)
        msg, stop = parse_message(self.protocol, buf, header_end, end)  # type: ignore[arg-type]
        header = RequestHeader()
        try:
            self._codec.decode_args(bytes(buf[pos:header_end]), header)
        except Exception as exc:
            raise Malformed(f"TTwitter: undecodable RequestHeader: {type(exc).__name__}: {exc}") from None
        return with_context(msg, context_of(header)), stop

    def feed(self, buf: Buf, out: list[Message]) -> int:
        pos, end = 0, len(buf)
        if self.inner == "framed":
            while end - pos >= 4:
                size = int.from_bytes(buf[pos : pos + 4], "big", signed=True)
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
                    raise Malformed("TTwitter: message truncated by its frame") from None
                out.append(msg)
                pos = stop
            return pos
        while pos < end:
            try:
                msg, stop = self._parse(buf, pos, end)
            except NeedMore as more:
                if more.needed - pos > self.max_size:
                    raise TooLarge(f"message exceeds the limit of {self.max_size} bytes") from None
                return pos
            out.append(msg)
            pos = stop
        return pos

    def frame_reply(self, msg: Message, payload: bytes) -> bytes:
        return frame_plain(self.inner, EMPTY_STRUCT + payload)
