"""TLS on a mock port, beside plaintext: a connection whose first byte is a TLS handshake record is served in TLS.

A server given a context (``serve --tls-cert --tls-key``) peeks at each new connection's first bytes before
serving it (:func:`starts_tls`; the plain ``Connection`` never sees the difference, so its hot path is the
same). A TLS client gets a :class:`TlsConnection`: the socket's bytes go through an ``ssl.SSLObject`` over two
``MemoryBIO`` s, driven by the event loop like every other read, and the decrypted bytes go into the usual
``Connection.data_received``, where detection picks protocol and framing as for any client. Replies are
encrypted on their way out. With a client CA (``--tls-client-ca``) a client must present a certificate that
CA signed; a handshake that fails closes only its connection, with one warning.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
from pathlib import Path

from thriftbox.errors import ConfigError
from thriftbox.wire.connection import Connection, Listener
from thriftbox.wire.stream import READ_SIZE, ReadBuffer, Stream

log = logging.getLogger("thriftbox.wire")

HANDSHAKE = 0x16  # a TLS record of type handshake: the ClientHello; never a Thrift message's first byte
PEEK = 3  # record type and the record's major version (0x03) decide


def starts_tls(first: bytes) -> bool:
    """Whether a connection whose first bytes are ``first`` (at least one) begins a TLS handshake."""
    return first[0] == HANDSHAKE and (len(first) < 2 or first[1] == 0x03)


def server_context(cert: str | Path, key: str | Path, client_ca: str | Path | None = None) -> ssl.SSLContext:
    """The TLS context of the mock ports: ``cert`` (PEM, the chain) and ``key`` (PEM); with ``client_ca`` a
    client must present a certificate it signed. ConfigError, naming the file, when one does not load."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    for what, path in (("certificate", cert), ("key", key), ("client CA", client_ca)):
        if path is not None and not Path(path).is_file():
            raise ConfigError(f"{path}: no such file (the TLS {what})", hint="give the path of a PEM file")
    try:
        ctx.load_cert_chain(str(cert), str(key))
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"{cert}: cannot use it as the TLS certificate with the key {key}: {_reason(exc)}",
            hint="give a PEM certificate (chain) and the PEM private key that belongs to it, unencrypted",
        ) from None
    if client_ca is not None:
        try:
            ctx.load_verify_locations(cafile=str(client_ca))
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                f"{client_ca}: cannot use it as the client CA: {_reason(exc)}",
                hint="give the PEM certificate(s) of the CA that signs your clients' certificates",
            ) from None
        ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def _reason(exc: Exception) -> str:
    return str(getattr(exc, "reason", None) or getattr(exc, "strerror", None) or exc)


class TlsConnection(Connection):
    """A client connection that started a TLS handshake: TLS records in and out, Thrift inside."""

    def __init__(
        self,
        server: Listener,
        loop: asyncio.AbstractEventLoop,
        sock: socket.socket,
        rbuf: ReadBuffer,
        context: ssl.SSLContext,
    ) -> None:
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self.ssl = context.wrap_bio(self._incoming, self._outgoing, server_side=True)
        self.secure = False  # the handshake is done
        super().__init__(server, loop, sock, rbuf)
        # a client that stops in the middle of its handshake is closed like one that stops mid-message
        self._handshake_timer: asyncio.TimerHandle | None = loop.call_later(
            server.idle_timeout, self._handshake_idle
        )

    # -- bytes from the socket -------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if self.closed:
            return
        self._incoming.write(data)
        if not self.secure and not self._handshake():
            return
        chunks: list[bytes] = []
        ended = False
        failure: ssl.SSLError | None = None
        while True:
            try:
                chunk = self.ssl.read(READ_SIZE)
            except ssl.SSLWantReadError:
                break
            except ssl.SSLZeroReturnError:  # the client's close_notify
                ended = True
                break
            except ssl.SSLError as exc:
                failure = exc
                break
            if not chunk:
                ended = True
                break
            chunks.append(chunk)
        if chunks:
            super().data_received(chunks[0] if len(chunks) == 1 else b"".join(chunks))
        if failure is not None:
            self._flush()  # the alert, if any
            self._refuse(f"TLS error: {_reason(failure)}")
            return
        self._flush()
        if ended and not self.closed:
            super().eof_received()

    def _handshake(self) -> bool:
        try:
            self.ssl.do_handshake()
        except ssl.SSLWantReadError:
            self._flush()
            return False
        except ssl.SSLError as exc:
            self._flush()  # the alert tells the client why
            self._refuse(f"TLS handshake failed: {_reason(exc)}")
            return False
        self.secure = True
        self.tls = self.ssl.version() or "TLS"
        if self._handshake_timer is not None:
            self._handshake_timer.cancel()
            self._handshake_timer = None
        self._flush()
        return True

    def _handshake_idle(self) -> None:
        self._handshake_timer = None
        if not self.secure and not self.closed:
            self._refuse(f"no TLS handshake within {self.server.idle_timeout:g} s")

    def _refuse(self, reason: str) -> None:
        self._warn(f"closing the connection: {reason}")
        self.closed = True
        self.queue.clear()
        Stream.close(self)

    def eof_received(self) -> None:
        if not self.secure:  # gone before the handshake finished (a port scan, a client giving up)
            self.closed = True
            self.abort()
            return
        self._incoming.write_eof()
        super().eof_received()

    def connection_lost(self) -> None:
        if self._handshake_timer is not None:
            self._handshake_timer.cancel()
            self._handshake_timer = None
        super().connection_lost()

    # -- bytes to the socket ---------------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        if self.gone or self._closing:
            return
        try:
            self.ssl.write(data)
        except ssl.SSLError:
            self.abort()
            return
        self._flush()

    def close(self) -> None:
        if self.secure and not self.gone and not self._closing:
            with contextlib.suppress(ssl.SSLError):
                self.ssl.unwrap()  # writes our close_notify; the client's may never come
            self._flush()
        Stream.close(self)

    def _flush(self) -> None:
        data = self._outgoing.read()
        if data:
            Stream.write(self, data)
