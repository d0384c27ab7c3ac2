"""Opening a client connection in a protocol and framing the mocks speak: the one place thriftbox's clients
(``call``, ``verify``, the pytest fixture, tests) build a thriftpy2 transport and protocol."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from thriftpy2.protocol import TCompactProtocol, TCyBinaryProtocol
from thriftpy2.transport import TCyBufferedTransport, TCyFramedTransport, TSocket

from thriftbox.errors import ConfigError

PROTOCOLS = ("binary", "compact")
FRAMINGS = ("buffered", "framed")


def check_transport(protocol: str, framing: str) -> None:
    """Raise ConfigError unless thriftbox's clients can speak ``protocol`` over ``framing``."""
    if protocol not in PROTOCOLS:
        raise ConfigError(f"unknown protocol {protocol!r}", hint="choose one of: " + ", ".join(PROTOCOLS))
    if framing not in FRAMINGS:
        raise ConfigError(f"unknown framing {framing!r}", hint="choose one of: " + ", ".join(FRAMINGS))


@dataclass(frozen=True)
class ClientTransport:
    """An open connection: ``transport`` to flush and close, ``protocol`` to write (and read) messages on it."""

    transport: Any  # thriftpy2's transports and protocols are untyped
    protocol: Any

    def close(self) -> None:
        self.transport.close()


class _Socket(TSocket):
    """A TSocket that may connect from a given local address (``source``), so that a server can tell its
    clients apart (the pytest fixture's xdist workers)."""

    def __init__(self, host: str, port: int, ms: int, source: str | None) -> None:
        super().__init__(host, port, socket_timeout=ms, connect_timeout=ms)  # type: ignore[no-untyped-call]
        self.source = source

    def _init_sock(self) -> None:
        super()._init_sock()  # type: ignore[no-untyped-call]
        if self.source is not None:
            self.sock.bind((self.source, 0))


def open_transport(
    host: str, port: int, protocol: str, framing: str, timeout: float, *, source: str | None = None
) -> ClientTransport:
    """Connect to ``host:port``. Raises ConfigError for an unknown protocol or framing, and thriftpy2's
    TTransportException when nothing answers there within ``timeout`` seconds."""
    check_transport(protocol, framing)
    ms = max(1, int(timeout * 1000))  # thriftpy2 reads 0 ms as "wait forever"
    sock = _Socket(host, port, ms, source)
    sock.open()  # type: ignore[no-untyped-call]
    transport = (TCyFramedTransport if framing == "framed" else TCyBufferedTransport)(sock)
    return ClientTransport(
        transport, (TCompactProtocol if protocol == "compact" else TCyBinaryProtocol)(transport)
    )
