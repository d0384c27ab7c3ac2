"""The wire layer: one asyncio server per service port that speaks every common Thrift client's dialect.

Binary (strict and non-strict), compact and Apache JSON; buffered, framed, HTTP, THeader and zlib; Finagle's
TTwitter upgrade; multiplexed names; the uuid wire type. What a call means is up to an :class:`App` (see
:mod:`thriftbox.wire.app`); what a THeader or TTwitter transport carried beside a call is its
:class:`CallContext`. :func:`thriftbox.host.uuids.mark_classes` tells the wire which binary values of a
catalog are uuids.
"""

from thriftbox.wire.app import (
    App,
    AppError,
    Binding,
    Call,
    CallContext,
    Fault,
    NoReply,
    Raise,
    Reply,
    Success,
)
from thriftbox.wire.server import DEFAULT_MAX_FRAME, ThriftServer
from thriftbox.wire.thread import ServerThread

__all__ = [
    "DEFAULT_MAX_FRAME",
    "App",
    "AppError",
    "Binding",
    "Call",
    "CallContext",
    "Fault",
    "NoReply",
    "Raise",
    "Reply",
    "ServerThread",
    "Success",
    "ThriftServer",
]
