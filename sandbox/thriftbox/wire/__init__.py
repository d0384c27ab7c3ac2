"""The wire layer: one asyncio server per service port that speaks every common Thrift client's dialect.

Binary (strict and non-strict), compact and Apache JSON; buffered, framed and HTTP; multiplexed names. What a
call means is up to an :class:`App` (see :mod:`thriftbox.wire.app`).
"""

from thriftbox.wire.app import App, AppError, Binding, Call, Fault, NoReply, Raise, Reply, Success
from thriftbox.wire.server import DEFAULT_MAX_FRAME, ThriftServer
from thriftbox.wire.thread import ServerThread

__all__ = [
    "DEFAULT_MAX_FRAME",
    "App",
    "AppError",
    "Binding",
    "Call",
    "Fault",
    "NoReply",
    "Raise",
    "Reply",
    "ServerThread",
    "Success",
    "ThriftServer",
]
