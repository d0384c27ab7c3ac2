"""The asyncio Thrift server: one listening port, every client protocol and transport on it.

One event loop can run many :class:`ThriftServer` s. ``server.app`` may be replaced at any time (hot reload):
the port and open connections stay, calls already running finish with the App they started with, and the
next message is bound with the new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
import ssl
from collections.abc import Callable

from thriftbox.errors import ConfigError, PortInUse
from thriftbox.wire.app import App
from thriftbox.wire.connection import IDLE_TIMEOUT, MAX_BUFFERED, Connection
from thriftbox.wire.ratelog import RateLimited
from thriftbox.wire.stream import ReadBuffer
from thriftbox.wire.tls import PEEK, TlsConnection, starts_tls

log = logging.getLogger("thriftbox.wire")

DEFAULT_MAX_FRAME = 16 * 2**20
BACKOFF_FIRST, BACKOFF_MAX = 0.05, 1.0  # seconds accepting pauses once out of file descriptors
LOG_EVERY = 10.0  # seconds between two warnings about it
_OUT_OF_RESOURCES = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}


def raise_open_file_limit() -> None:
    """Raise this process's soft limit of open files to its hard limit: every client connection holds one."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not on Windows
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
    if soft < target:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


class ThriftServer:
    """Serves ``app`` on ``host:port`` (port 0: any free port, see :attr:`port`); with ``tls`` (a server
    context, see :func:`thriftbox.wire.tls.server_context`) clients that start a TLS handshake get TLS."""

    def __init__(
        self,
        app: App,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        max_frame: int = DEFAULT_MAX_FRAME,
        idle_timeout: float = IDLE_TIMEOUT,
        max_buffered: int = MAX_BUFFERED,
        tls: ssl.SSLContext | None = None,
    ):
        self.app = app
        self.tls = tls
        self._sniffing: set[socket.socket] = set()  # TLS or not: waiting for the first bytes
        self.host = host
        self.max_frame = max_frame
        self.idle_timeout = idle_timeout
        self.max_buffered = max_buffered
        self.buffered = 0  # bytes of unfinished messages its connections hold
        self.warnings = RateLimited(log)  # the port's warnings about its clients' bad input
        self.connections: set[Connection] = set()
        self._port = port
        self._socks: list[socket.socket] = []
        self._rbuf = ReadBuffer()
        self._loop: asyncio.AbstractEventLoop | None = None
        # A host with worker processes passes accepted connections on: handoff(sock) -> True when it took
        # the socket (the caller then closes its copy), False to serve the connection here.
        self.handoff: Callable[[socket.socket], bool] | None = None
        self._backoff = 0.0  # seconds accepting is paused for, once out of descriptors (0: not paused)
        self._paused = 0  # pauses since the last warning
        self._next_report = 0.0  # loop time before which pauses are counted, not logged

    @property
    def port(self) -> int:
        """The port listened on; the one chosen by the OS once started with port 0."""
        return self._port

    @property
    def started(self) -> bool:
        return bool(self._socks)

    def attach(self) -> None:
        """Serve connections passed in with :meth:`adopt`, without listening (a worker process of a host)."""
        self._loop = asyncio.get_running_loop()

    async def start(self) -> None:
        """Bind and listen. Raises :class:`~thriftbox.errors.PortInUse` when the port is taken."""
        loop = self._loop = asyncio.get_running_loop()
        self._socks = bind_sockets(self.host, self._port)
        self._port = self._socks[0].getsockname()[1]
        for sock in self._socks:
            loop.add_reader(sock.fileno(), self._accept, sock)
        log.debug("listening on %s:%d", self.host, self._port)

    def _accept(self, listener: socket.socket) -> None:
        assert self._loop is not None
        for _ in range(64):  # a burst of connections, without starving the loop
            try:
                sock, _ = listener.accept()
            except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                return
            except OSError as exc:
                if exc.errno in _OUT_OF_RESOURCES:
                    self._back_off(listener, exc)
                else:
                    log.warning("%s:%d: cannot accept a connection: %s", self.host, self._port, exc)
                return
            self._backoff = 0.0
            handoff = self.handoff
            if handoff is not None and handoff(sock):
                sock.close()
                continue
            self.adopt(sock)

    def _back_off(self, listener: socket.socket, exc: OSError) -> None:
        """Out of descriptors: stop accepting for a moment (doubling up to a second) instead of spinning on a
        listener that stays readable, and say so at most once every LOG_EVERY seconds, with a count."""
        loop = self._loop
        assert loop is not None
        loop.remove_reader(listener.fileno())
        self._backoff = min(max(self._backoff * 2, BACKOFF_FIRST), BACKOFF_MAX)
        self._paused += 1
        now = loop.time()
        if now >= self._next_report:
            log.warning(
                "%s:%d: cannot accept connections: %s; paused %d time(s) since the last report "
                "(raise the open-file limit: ulimit -n)",
                self.host,
                self._port,
                exc.strerror or exc,
                self._paused,
            )
            self._next_report, self._paused = now + LOG_EVERY, 0
        loop.call_later(self._backoff, self._resume, listener)

    def _resume(self, listener: socket.socket) -> None:
        if self._loop is not None and listener in self._socks and listener.fileno() != -1:
            self._loop.add_reader(listener.fileno(), self._accept, listener)

    def adopt(self, sock: socket.socket) -> None:
        """Serve an accepted connection (from this server's port, or passed in by the host's main process)."""
        assert self._loop is not None, "start() or attach() first"
        sock.setblocking(False)
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.tls is None:
            Connection(self, self._loop, sock, self._rbuf)
        else:  # decided by the first bytes, in whichever process serves the connection
            self._sniffing.add(sock)
            self._loop.add_reader(sock.fileno(), self._sniff, sock)

    def _sniff(self, sock: socket.socket) -> None:
        """The first bytes of a connection arrived (or its end): serve it in TLS or in plaintext."""
        assert self._loop is not None
        try:
            first = sock.recv(PEEK, socket.MSG_PEEK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            first = b""
        self._loop.remove_reader(sock.fileno())
        self._sniffing.discard(sock)
        if self.tls is not None and first and starts_tls(first):
            TlsConnection(self, self._loop, sock, self._rbuf, self.tls)
        else:  # plaintext, or already closed: the connection reads it as usual
            Connection(self, self._loop, sock, self._rbuf)

    async def close(self) -> None:
        """Stop listening and drop every open connection."""
        self.handoff = None
        for sock in self._socks:
            if self._loop is not None:
                self._loop.remove_reader(sock.fileno())
            sock.close()
        self._socks.clear()
        for sock in list(self._sniffing):
            if self._loop is not None:
                self._loop.remove_reader(sock.fileno())
            sock.close()
        self._sniffing.clear()
        for conn in list(self.connections):
            conn.shutdown()
        await asyncio.sleep(0)  # let cancelled calls unwind

    async def __aenter__(self) -> ThriftServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def bind_sockets(host: str, port: int, backlog: int = 1024) -> list[socket.socket]:
    """Listening sockets for every address of ``host`` (all on one port, also when ``port`` is 0).

    No ``SO_REUSEPORT``: a port someone else listens on is an error, never silently shared."""
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ConfigError(
            f"cannot listen on {host}:{port}: {exc.strerror}", hint="use an IP address or a known host name"
        ) from None
    socks: list[socket.socket] = []
    seen: set[object] = set()
    try:
        for family, kind, proto, _, addr in infos:
            if addr in seen:
                continue
            seen.add(addr)
            if socks:  # the same port on every address, also the one the OS picked
                addr = (addr[0], socks[0].getsockname()[1], *addr[2:])
            sock = socket.socket(family, kind, proto)
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if family == socket.AF_INET6:
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                sock.bind(addr)
                sock.listen(backlog)
                sock.setblocking(False)
            except OSError as exc:
                sock.close()
                if socks and port == 0:  # another address of the host; the first one is enough
                    log.debug("not listening on %s: %s", addr, exc)
                    continue
                if exc.errno == errno.EADDRINUSE:
                    raise PortInUse(
                        f"{host}:{port} is already in use",
                        hint="stop what listens there (see `ss -ltnp`) or choose another port",
                    ) from None
                raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
            socks.append(sock)
    except BaseException:
        for sock in socks:
            sock.close()
        raise
    return socks
