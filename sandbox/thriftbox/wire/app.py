"""The seam between the wire layer and whatever answers calls: :class:`App`, :class:`Call` and the replies.

The wire layer decodes a message, asks :meth:`App.bind` which payload classes the method uses, decodes the
arguments into an instance of ``Binding.args_cls`` and awaits :meth:`App.handle`. The :data:`Reply` it gets
back decides what goes on the wire.

``handle`` runs eagerly: its first step executes right where the message was read (as with Python 3.12's eager
tasks) and only a call that really suspends (``await asyncio.sleep(...)``, awaiting a future) continues as an
asyncio task. During that first step ``asyncio.current_task()`` is ``None`` (or the task of the call before it
on the same connection), so ``asyncio.timeout()`` must not be the first thing ``handle`` enters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol, TypeAlias

ProtocolName = Literal["binary", "compact", "json"]
Framing = Literal["buffered", "framed", "http", "header", "zlib", "ttwitter"]


@dataclass(frozen=True, slots=True)
class Binding:
    """How to decode and answer one method: thriftpy2 payload classes (``<m>_args`` / ``<m>_result``)."""

    args_cls: type
    result_cls: type
    oneway: bool = False
    required: tuple[str, ...] = ()  # names of the arguments declared ``required``
    # Optional synchronous fast path for a plain success of a method that returns a value (not oneway, not
    # void): ``answer(call)`` returns the value for the result's ``success`` field, or :data:`NOT_NOW` to have
    # the call go through ``App.handle`` as usual.
    answer: Callable[[Call], object] | None = None


NOT_NOW = object()
"""What ``Binding.answer`` returns when the call needs :meth:`App.handle` (a stub, a delay, an error...)."""


@dataclass(slots=True)
class Call:
    """One decoded request. ``service`` is the ``TMultiplexedProtocol`` prefix, ``None`` without one."""

    service: str | None
    method: str
    seqid: int
    args: object
    protocol: ProtocolName
    framing: Framing
    peer: tuple[str, int]
    received_at: float  # time.perf_counter() when the message was complete
    context: CallContext | None = None  # what a THeader or TTwitter transport carried beside the message
    size: int = 0  # bytes of the encoded arguments (0: not known)
    tls: str | None = None  # the TLS version of the connection ("TLSv1.3"); None in plaintext


@dataclass(slots=True)
class CallContext:
    """What a call's transport carried beside the message (``None`` on plain transports).

    ``transport`` is ``"header"`` (THeader) or ``"ttwitter"`` (Finagle's upgraded binary). ``headers`` are a
    THeader request's info key/value headers as sent (UTF-8, undecodable bytes kept as surrogate escapes);
    an App may put headers into ``reply_headers`` and they travel in the THeader reply. The trace fields are
    TTwitter's ``RequestHeader`` (``client_id`` is its ``ClientId.name``). ``transforms`` names the THeader
    transforms the request used (and its reply uses), e.g. ``("zlib",)``.
    """

    transport: Literal["header", "ttwitter"]
    headers: dict[str, str] = field(default_factory=dict)
    reply_headers: dict[str, str] = field(default_factory=dict)
    transforms: tuple[str, ...] = ()
    trace_id: int | None = None
    trace_id_high: int | None = None
    span_id: int | None = None
    parent_span_id: int | None = None
    sampled: bool | None = None
    flags: int | None = None
    client_id: str | None = None
    dest: str | None = None

    def describe(self) -> dict[str, object]:
        """A JSON-ready summary for a journal entry: only what was sent; ids as 16 hex digits, as Zipkin
        and Finagle print them."""
        out: dict[str, object] = {"transport": self.transport}
        if self.headers:
            out["headers"] = dict(self.headers)
        if self.transforms:
            out["transforms"] = list(self.transforms)
        for name in ("trace_id", "trace_id_high", "span_id", "parent_span_id"):
            value = getattr(self, name)
            if value is not None:
                out[name] = f"{value & 0xFFFFFFFFFFFFFFFF:016x}"
        for name in ("sampled", "flags", "client_id", "dest"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out


@dataclass(slots=True)  # not frozen: built for every call, and a frozen __init__ costs twice as much
class Success:
    """A normal answer; ``value`` goes into the result's ``success`` field (ignored for void methods)."""

    value: object = None


@dataclass(frozen=True, slots=True)
class Raise:
    """A declared exception: ``exc`` goes into the result field named ``field_name``."""

    field_name: str
    exc: object


# TApplicationException types by name, as Apache Thrift numbers them (stub files and JSON use the names)
APP_ERROR_TYPES: dict[str, int] = {
    "UNKNOWN": 0,
    "UNKNOWN_METHOD": 1,
    "INVALID_MESSAGE_TYPE": 2,
    "WRONG_METHOD_NAME": 3,
    "BAD_SEQUENCE_ID": 4,
    "MISSING_RESULT": 5,
    "INTERNAL_ERROR": 6,
    "PROTOCOL_ERROR": 7,
    "INVALID_TRANSFORM": 8,
    "INVALID_PROTOCOL": 9,
    "UNSUPPORTED_CLIENT_TYPE": 10,
}
APP_ERROR_NAMES: dict[int, str] = {number: name for name, number in APP_ERROR_TYPES.items()}


@dataclass(frozen=True, slots=True)
class AppError:
    """A ``TApplicationException`` of ``type`` (see ``thriftpy2.thrift.TApplicationException``)."""

    type: int
    message: str


@dataclass(frozen=True, slots=True)
class Fault:
    """Misbehave on purpose: ``close`` drops the connection, ``garbage`` writes random bytes then closes,
    ``stall`` keeps the connection silent for ``seconds`` then closes it."""

    kind: Literal["close", "garbage", "stall"]
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class NoReply:
    """Answer nothing (the client is left waiting); what oneway methods get anyway."""


Reply: TypeAlias = Success | Raise | AppError | Fault | NoReply


class App(Protocol):
    """What a server serves. ``bind`` is called for every message, with the App current at that moment.

    An App may also define ``rejected(call, problem: str) -> None``: the server calls it for a call it answered
    itself with ``PROTOCOL_ERROR`` because the arguments break the IDL (so a journal can record it too).
    """

    def bind(self, service: str | None, method: str) -> Binding | None:
        """The method's payload classes, or ``None`` for a method this App does not serve."""
        ...

    async def handle(self, call: Call) -> Reply:
        """Answer one call. Exceptions escaping here become ``INTERNAL_ERROR`` replies."""
        ...
