"""Forwarding a mock's calls to the real backend (``serve --proxy users.Users=HOST:PORT``).

A :class:`Backend` speaks to one backend in its own protocol and framing (``proxy_protocol``,
``proxy_framing``: binary and buffered unless told otherwise; framed and THeader too), over TLS when told
(``proxy_tls``, ``proxy_ca``, ``proxy_cert``); the mock answers its client with what came back, in the client's
protocol and framing. Connections are asyncio streams: each exchange runs on the event loop, encoded and read
with the wire's own codec, frame codecs and message readers, within ``timeout_ms``.

Connections are pooled: a call takes an idle one or opens a new one, and gives it back when the exchange went
well (one that failed is closed). The pool never holds more connections than clients hold to the mock: a call
waits for a connection when as many are in use as the mock has clients, and a returned connection beyond that
number is closed.

Every failure (refused, reset, timed out, a failed TLS handshake, garbage, a reply in another protocol) becomes
a ``TApplicationException(INTERNAL_ERROR)`` naming the backend and the reason; the mock keeps serving.
"""

from __future__ import annotations

import asyncio
import errno
import functools
import logging
import os
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from thriftpy2.thrift import TApplicationException, TMessageType
from thriftpy2.transport import TTransportException

from thriftbox.client.transport import Tls
from thriftbox.errors import ConfigError
from thriftbox.host.config import DEFAULT_MAX_FRAME, HostConfig, ProxyTarget
from thriftbox.idl.model import Kind, Method
from thriftbox.stubs.record import DEFAULT_REDACT, Recorder
from thriftbox.wire import header
from thriftbox.wire.app import AppError, Framing, ProtocolName, Raise, Reply, Success
from thriftbox.wire.codec import make_codec
from thriftbox.wire.framing import BufferedReader, FramedReader, Message, Reader, frame_plain

logger = logging.getLogger(__name__)


class Proxies:
    """A host's real backends (one per proxying mock; they outlive reloads) and the recorder of their answers,
    which writes once a second while calls come in, and on close."""

    def __init__(self, config: HostConfig, clients: Callable[[str], int]) -> None:
        self.backends = {
            sid: Backend(target, functools.partial(clients, sid)) for sid, target in config.proxies.items()
        }
        self.recorder: Recorder | None = None
        if config.record_dir is not None and config.proxies:
            self.recorder = Recorder(config.record_dir, config.redact or DEFAULT_REDACT)
        self._flusher: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.recorder is not None:
            self._flusher = asyncio.get_running_loop().create_task(self._flush_every_second())

    async def _flush_every_second(self) -> None:
        """A write is a reload of a watching serve: one per call would be too many."""
        while True:
            await asyncio.sleep(1.0)
            self.flush()

    def flush(self) -> None:
        if self.recorder is not None:
            for path in self.recorder.flush():
                _own_like_folder(path)
                logger.info("recorded %s", path)

    def close(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            self._flusher = None
        self.flush()
        for backend in self.backends.values():
            backend.close()


def _own_like_folder(path: Path) -> None:
    """A file written as root (the host of a container, where the record folder is mounted) gets the owner of
    its folder: the user's ``mocks/recorded``. The attribute change lands in the same watch batch as the write."""
    if os.geteuid() != 0:
        return
    folder = path.parent.stat()
    try:
        os.chown(path, folder.st_uid, folder.st_gid)
    except OSError as err:
        logger.warning("could not give %s the owner of its folder: %s", path, err)


@dataclass(frozen=True)
class Forwarded:
    """What one forwarded call got: the ``reply`` for the client, the decoded ``result`` (None on failure, for
    the contract check) and how long the backend took."""

    reply: Reply
    result: Any
    latency_ms: float
    failed: bool = False


class BackendError(Exception):
    """The backend did not answer a call properly; the message says why."""


class CutOff(BackendError):
    """The backend closed the connection without answering."""


class _Conn:
    """A connection to the backend (an asyncio stream, inside TLS when told), with the wire's own codec and
    message reader for its framing."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, protocol: ProtocolName, framing: str
    ) -> None:
        self.stream, self.writer = reader, writer
        self.framing = framing
        self.protocol: ProtocolName = protocol
        self.codec = make_codec(protocol)
        self.reader: Reader = (
            header.HeaderReader(DEFAULT_MAX_FRAME)
            if framing == "header"
            else (FramedReader if framing == "framed" else BufferedReader)(protocol, DEFAULT_MAX_FRAME)
        )
        self.buf = bytearray()
        self.ready: list[Message] = []
        self._seq = 0

    def frame(self, seqid: int, payload: bytes) -> bytes:
        """One request as the backend's framing wants it."""
        if self.framing == "header":
            self._seq = (self._seq + 1) & 0x7FFFFFFF
            proto_id = _HEADER_PROTOCOL_IDS[self.protocol]
            return header.encode_frame(header.HeaderFrame(0, self._seq, proto_id, ()), {}, payload)
        return frame_plain(cast(Framing, self.framing), payload)

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def read_message(self) -> Message:
        while not self.ready:
            data = await self.stream.read(65536)
            if not data:
                raise CutOff("the backend closed the connection" + _GUESS)
            self.buf += data
            used = self.reader.feed(self.buf, self.ready)
            del self.buf[:used]
        return self.ready.pop(0)

    def close(self) -> None:
        self.writer.close()


_GUESS = " (wrong protocol or framing?)"
_HEADER_PROTOCOL_IDS = {protocol: pid for pid, protocol in header.PROTOCOLS.items()}


class Backend:
    """One real backend and its connection pool."""

    def __init__(self, target: ProxyTarget, clients: Callable[[], int]) -> None:
        self.target = target
        self.clients = clients  # how many client connections the mock has right now (the pool's bound)
        self.idle: list[_Conn] = []
        self.in_use = 0
        self._waiting: list[asyncio.Future[None]] = []  # calls waiting for a connection, oldest first
        self._seqid = 0
        self._tls: ssl.SSLContext | None = None  # built at the first connection, once: loading files is slow

    @property
    def open_connections(self) -> int:
        return self.in_use + len(self.idle)

    async def forward(self, method: Method, args: Any, result_cls: type) -> Forwarded:
        """Send one call and return the backend's answer (or an AppError naming the backend and the reason)."""
        t0 = time.perf_counter()
        timeout = self.target.timeout_ms / 1000.0
        try:
            conn = await self._take(timeout)
            try:
                # not asyncio.timeout(): handle runs its first step outside a task (see thriftbox.wire.app)
                reply, result = await asyncio.wait_for(
                    self._exchange(conn, method, args, result_cls), timeout
                )
            except BaseException:
                self._drop(conn)
                raise
            self._give(conn)
        except Exception as exc:  # whatever the backend sent or did: the client gets a clear error
            message = f"proxy backend {self.target.address}: {reason(exc, self.target)}"
            latency = (time.perf_counter() - t0) * 1000.0
            return Forwarded(AppError(TApplicationException.INTERNAL_ERROR, message), None, latency, True)
        return Forwarded(reply, result, (time.perf_counter() - t0) * 1000.0)

    async def _exchange(self, conn: _Conn, method: Method, args: Any, result_cls: type) -> tuple[Reply, Any]:
        """One request and its reply on ``conn``, on the event loop (the socket is non-blocking)."""
        self._seqid = seqid = (self._seqid + 1) & 0x7FFFFFFF
        mtype = TMessageType.ONEWAY if method.oneway else TMessageType.CALL
        await conn.send(conn.frame(seqid, conn.codec.encode(method.name, mtype, seqid, args)))
        if method.oneway:
            return Success(None), None
        msg = await conn.read_message()
        codec = (
            conn.codec if msg.protocol == conn.protocol else make_codec(msg.protocol)
        )  # THeader says which
        if msg.mtype == TMessageType.EXCEPTION:
            x = TApplicationException()
            codec.decode_args(msg.payload, x)
            return AppError(x.type, f"proxy backend {self.target.address}: {x.message}"), None
        if msg.mtype != TMessageType.REPLY or msg.name != method.name or msg.seqid != seqid:
            found = f"got {msg.name!r}, type {msg.mtype}, seqid {msg.seqid}"
            raise BackendError(f"not the reply to {method.name} ({found})")
        result = result_cls()
        codec.decode_args(msg.payload, result)
        return _reply(method, result), result

    async def _take(self, timeout: float) -> _Conn:
        """An idle connection, else a new one while fewer are in use than the mock has clients; else wait (up to
        ``timeout``) for one to come back. No lock: all of this runs on the event loop's thread."""
        while not self.idle and self.in_use >= max(1, self.clients()):
            waiter = asyncio.get_running_loop().create_future()
            self._waiting.append(waiter)
            try:
                # not asyncio.timeout(): handle runs its first step outside a task (see thriftbox.wire.app)
                await asyncio.wait_for(waiter, timeout)
            except TimeoutError:
                raise TimeoutError(f"no free connection within {timeout:g} s") from None
            finally:
                if waiter in self._waiting:
                    self._waiting.remove(waiter)
        self.in_use += 1
        if self.idle:
            return self.idle.pop()
        try:
            return await asyncio.wait_for(self._open(), timeout)
        except BaseException:
            self._drop(None)
            raise

    async def _open(self) -> _Conn:
        t = self.target
        if t.tls and self._tls is None:
            try:
                self._tls = Tls(t.ca, t.cert, t.key).context()
            except ConfigError as exc:  # a file that is not PEM: each call says so
                raise BackendError(exc.message) from None
        try:
            reader, writer = await asyncio.open_connection(
                t.host,
                t.port,
                ssl=self._tls,
                server_hostname=t.server_name if self._tls is not None else None,
            )
        except ssl.SSLError as exc:
            detail = getattr(exc, "verify_message", None)  # e.g. "unable to get local issuer certificate"
            why = getattr(exc, "reason", None) or exc
            raise BackendError(f"TLS handshake failed: {why}" + (f" ({detail})" if detail else "")) from None
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return _Conn(reader, writer, cast(ProtocolName, t.protocol), t.framing)

    def _give(self, conn: _Conn) -> None:
        """A connection whose exchange went well: idle, unless the mock has fewer clients than that now."""
        self.in_use -= 1
        if self.open_connections < self.clients():
            self.idle.append(conn)
        else:
            conn.close()
        self._wake()

    def _drop(self, conn: _Conn | None) -> None:
        """A connection that failed (or never opened): close it and let a waiting call open another."""
        self.in_use -= 1
        if conn is not None:
            conn.close()
        self._wake()

    def _wake(self) -> None:
        while self._waiting:
            waiter = self._waiting.pop(0)
            if not waiter.done():
                waiter.set_result(None)
                return

    def close(self) -> None:
        for conn in self.idle:
            conn.close()
        self.idle.clear()


def _reply(method: Method, result: Any) -> Reply:
    """The client's reply from a decoded ``<method>_result``: a declared exception, else the value."""
    for f in method.throws:
        exc = getattr(result, f.name, None)
        if exc is not None:
            return Raise(f.name, exc)
    if method.returns.kind is Kind.VOID:
        return Success(None)
    value = getattr(result, "success", None)
    if value is None:
        raise BackendError(f"the reply to {method.name} carries no result")
    return Success(value)


def reason(exc: BaseException, target: ProxyTarget) -> str:
    """Why a backend failed, in a few words (refused, reset, timed out, closed, a TLS failure, not a Thrift reply),
    and what to check when it cut the connection off: a TLS backend does so to a client without the certificate
    it wants, and to plain TCP (not said through a relay, which resets for any failure of the backend)."""
    why, cut_off = _what(exc, target.timeout_ms)
    if target.tls and target.cert is None and (cut_off or "CERTIFICATE_REQ" in why):
        return why + " (a TLS backend does so when it wants a client certificate: give proxy_cert)"
    if cut_off and not target.tls and not target.configured:
        return (
            why.removesuffix(_GUESS)
            + " (wrong protocol or framing? a TLS backend does so to plain TCP: proxy_tls = true)"
        )
    return why


def _what(exc: BaseException, timeout_ms: int) -> tuple[str, bool]:
    """What happened, and whether the backend cut the connection off (reset or closed it without answering)."""
    if isinstance(exc, CutOff):
        return str(exc), True
    if isinstance(exc, BackendError):  # said in full where it was raised
        return str(exc), False
    chain: list[BaseException] = []
    e: BaseException | None = exc
    while e is not None and len(chain) < 5:
        chain.append(e)
        e = e.__cause__ or e.__context__
    for e in chain:
        if isinstance(e, ssl.SSLError):  # after the handshake: an alert, e.g. the backend wants a certificate
            return f"TLS: {getattr(e, 'reason', None) or e}", False
        if isinstance(e, ConnectionRefusedError) or getattr(e, "errno", None) == errno.ECONNREFUSED:
            return "connection refused", False
        if isinstance(e, ConnectionResetError | BrokenPipeError):
            return "connection reset", True
        if isinstance(e, TimeoutError | socket.timeout):
            return f"no answer within {timeout_ms} ms (timed out)", False
    text = str(exc)
    low = text.lower()
    if "timed out" in low:
        return f"no answer within {timeout_ms} ms (timed out)", False
    if (
        "refused" in low or "could not connect" in low or "connect call failed" in low
    ):  # asyncio, every address
        return "connection refused", False
    if "reset" in low:
        return "connection reset", True
    if isinstance(exc, TTransportException) and exc.type == TTransportException.END_OF_FILE:
        return "the backend closed the connection" + _GUESS, True
    return f"not a Thrift reply in {type(exc).__name__}: {text or 'undecodable'}" + _GUESS, False
