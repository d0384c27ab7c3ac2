"""Opening a client connection in a protocol and framing the mocks speak: the one place thriftbox's clients
(``call``, ``verify``, the pytest fixture, tests) build a thriftpy2 transport and protocol.

Framings: ``buffered``, ``framed`` and ``header`` (THeader, written here with the wire's own frame codec, as
thriftpy2 has none); any of them inside TLS (``tls``)."""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from typing import Any

from thriftpy2.protocol import TCompactProtocol, TCyBinaryProtocol
from thriftpy2.protocol.binary import TBinaryProtocol
from thriftpy2.transport import (
    TCyBufferedTransport,
    TCyFramedTransport,
    TSocket,
    TTransportBase,
    TTransportException,
)
from thriftpy2.transport.base import readall

from thriftbox.errors import ConfigError
from thriftbox.wire import header

PROTOCOLS = ("binary", "compact")
FRAMINGS = ("buffered", "framed", "header")
_HEADER_PROTOCOL_IDS = {"binary": 0, "compact": 2}


def check_transport(protocol: str, framing: str) -> None:
    """Raise ConfigError unless thriftbox's clients can speak ``protocol`` over ``framing``."""
    if protocol not in PROTOCOLS:
        raise ConfigError(f"unknown protocol {protocol!r}", hint="choose one of: " + ", ".join(PROTOCOLS))
    if framing not in FRAMINGS:
        raise ConfigError(f"unknown framing {framing!r}", hint="choose one of: " + ", ".join(FRAMINGS))


@dataclass(frozen=True)
class Tls:
    """Speak TLS: ``ca`` (PEM) verifies the server, without it any certificate is taken (a mock's is usually
    self-signed); ``cert`` and ``key`` (PEM) are the client certificate a server asking for one gets."""

    ca: str | None = None
    cert: str | None = None
    key: str | None = None

    def context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=self.ca)
        if self.ca is None:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        if self.cert is not None:
            try:
                ctx.load_cert_chain(self.cert, self.key)
            except (OSError, ssl.SSLError) as exc:
                raise ConfigError(f"cannot load the client certificate {self.cert}: {exc}") from None
        return ctx


@dataclass(frozen=True)
class ClientTransport:
    """An open connection: ``transport`` to flush and close, ``protocol`` to write (and read) messages on it."""

    transport: Any  # thriftpy2's transports and protocols are untyped
    protocol: Any

    def close(self) -> None:
        self.transport.close()


class _Socket(TSocket):
    """A TSocket that may connect from a given local address (``source``), so that a server can tell its
    clients apart (the pytest fixture's xdist workers), and may speak TLS."""

    def __init__(self, host: str, port: int, ms: int, source: str | None, tls: ssl.SSLContext | None) -> None:
        super().__init__(host, port, socket_timeout=ms, connect_timeout=ms)  # type: ignore[no-untyped-call]
        self.source = source
        self.tls = tls

    def _init_sock(self) -> None:
        super()._init_sock()  # type: ignore[no-untyped-call]
        if self.source is not None:
            self.sock.bind((self.source, 0))

    def open(self) -> None:
        super().open()  # type: ignore[no-untyped-call]
        if self.tls is None:
            return
        try:  # the handshake, here rather than in connect: thriftpy2 would say only "Could not connect"
            self.sock = self.tls.wrap_socket(self.sock, server_hostname=self.host)
        except (ssl.SSLError, OSError) as exc:
            self.close()  # type: ignore[no-untyped-call]
            reason = getattr(exc, "reason", None) or exc
            raise TTransportException(
                TTransportException.NOT_OPEN, f"TLS handshake with {self.host}:{self.port} failed: {reason}"
            ) from None


@dataclass
class HeaderTransport(TTransportBase):
    """THeader framing over ``inner`` (a thriftpy2 socket): each flushed message goes out as one header frame
    with the info ``headers`` (zlib-compressed with ``zlib``); replies are read frame by frame, and the info
    headers of the last one are kept in ``reply_headers``."""

    inner: Any
    protocol_id: int
    headers: dict[str, str] = field(default_factory=dict)
    zlib: bool = False
    max_size: int = 16 * 2**20
    reply_headers: dict[str, str] = field(default_factory=dict)
    _wbuf: bytearray = field(default_factory=bytearray)
    _rbuf: memoryview = field(default_factory=lambda: memoryview(b""))
    _seq: int = 0

    def is_open(self) -> bool:
        return bool(self.inner.is_open())

    def open(self) -> None:
        self.inner.open()

    def close(self) -> None:
        self.inner.close()

    def write(self, buf: bytes) -> None:
        self._wbuf += buf

    def flush(self) -> None:
        self._seq += 1
        frame = header.HeaderFrame(0, self._seq, self.protocol_id, (header.ZLIB,) if self.zlib else ())
        data, self._wbuf = bytes(self._wbuf), bytearray()
        self.inner.write(header.encode_frame(frame, self.headers, data))
        self.inner.flush()

    def _read(self, sz: int) -> bytes:
        if not self._rbuf:
            size = int.from_bytes(readall(self.inner.read, 4), "big", signed=True)
            if not 0 < size <= self.max_size:
                raise ConfigError(f"not a THeader reply: a frame of {size} bytes")
            body = readall(self.inner.read, size)
            _, self.reply_headers, payload = header.read_frame(body, 0, size, self.max_size)
            self._rbuf = memoryview(payload)
        out, self._rbuf = bytes(self._rbuf[:sz]), self._rbuf[sz:]
        return out


def open_transport(
    host: str,
    port: int,
    protocol: str,
    framing: str,
    timeout: float,
    *,
    source: str | None = None,
    tls: Tls | None = None,
    headers: dict[str, str] | None = None,
) -> ClientTransport:
    """Connect to ``host:port`` (in TLS with ``tls``; ``headers``: THeader info headers of every call). Raises
    ConfigError for an unknown protocol or framing, and thriftpy2's TTransportException when nothing answers
    there within ``timeout`` seconds or the TLS handshake fails (a server that refuses the client's certificate
    in TLS 1.3 says so on the first read instead: ssl.SSLError)."""
    check_transport(protocol, framing)
    ms = max(1, int(timeout * 1000))  # thriftpy2 reads 0 ms as "wait forever"
    sock = _Socket(host, port, ms, source, tls.context() if tls is not None else None)
    sock.open()
    transport: Any
    if framing == "header":
        transport = HeaderTransport(sock, _HEADER_PROTOCOL_IDS[protocol], dict(headers or {}))
        proto = (TCompactProtocol if protocol == "compact" else TBinaryProtocol)(transport)
        return ClientTransport(transport, proto)
    transport = (TCyFramedTransport if framing == "framed" else TCyBufferedTransport)(sock)
    return ClientTransport(
        transport, (TCompactProtocol if protocol == "compact" else TCyBinaryProtocol)(transport)
    )
