"""Byte relays that let containers reach proxy backends as this machine reaches them (``serve --runtime docker
--proxy users.Users=localhost:9090``).

Runs in ``serve``'s process. A backend given as ``localhost:9090``, a ``kubectl port-forward`` on 127.0.0.1 or a
name only this machine's VPN resolves is out of a container's reach. For each proxied service the Docker
runtime opens a :class:`Relay` listener on the project network's gateway address (this machine's side of the
network's bridge: containers on the network reach it, loopback and other machines' traffic is not relayed,
connections from outside the network's subnet are closed at once), and gives the container's host the
listener's address as its target, with the backend's configured address beside it
(:attr:`ProxyTarget.configured`: messages, the journal and TLS name the backend, not the relay).

Bytes only, never decoded: whatever the host speaks to the backend (any protocol, framing, TLS) passes as is.
Each connection a container opens gets one backend connection of its own, so the relay holds exactly as many
backend connections as containers hold to it; when either side closes, both are closed. A backend that cannot be
reached makes the relay reset the container's connection (the host then answers its client with a
``TApplicationException`` naming the backend), and one line is reported per run of failures.

One thread runs an asyncio loop for every listener; :meth:`Relay.stop` closes the listeners and every
connection, so nothing stays listening after ``serve``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket
import struct
import threading
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from thriftbox.client.target import ProxyTarget
from thriftbox.errors import MockStartError

logger = logging.getLogger(__name__)

T = TypeVar("T")
_CHUNK = 65536


def start_relay(
    gateway: str, subnet: str, proxies: Mapping[str, ProxyTarget]
) -> tuple[Relay, dict[str, ProxyTarget]]:
    """A relay on the network's ``gateway`` for every backend of ``proxies``, and the targets containers dial."""
    relay = Relay(gateway, subnet)
    try:
        return relay, {sid: relay.add(sid, target) for sid, target in sorted(proxies.items())}
    except OSError as err:  # the gateway is not this machine's (rootless Docker, an engine in a VM)
        relay.stop()
        raise MockStartError(
            f"cannot relay the proxy backends to the containers: listening on the project network's gateway "
            f"{gateway} failed ({err.strerror or err})",
            hint="serve proxies with --runtime process, or give backends the containers can reach",
        ) from None


@dataclass
class _Listener:
    service_id: str
    target: ProxyTarget  # the backend, as configured
    server: asyncio.Server
    failing: bool = False  # the last connection to the backend failed (reported once per run of failures)


class Relay:
    """Listeners on ``bind`` (the project network's gateway) forwarding to backends; accepts only ``allowed``."""

    def __init__(self, bind: str, allowed: str) -> None:
        self.bind = bind
        self.allowed = ipaddress.ip_network(allowed, strict=False)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="thriftbox-relay", daemon=True)
        self._thread.start()
        self._listeners: dict[str, _Listener] = {}
        self._pairs: set[asyncio.Task[None]] = set()
        self._events: list[str] = []
        self._lock = threading.Lock()
        self.relayed = 0  # connections relayed so far

    def _run(self, coro: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def add(self, service_id: str, target: ProxyTarget) -> ProxyTarget:
        """Listen for ``service_id``'s containers; the target their host dials (the relay, naming ``target``)."""
        port = self._run(self._listen(service_id, target))
        return replace(target, host=self.bind, port=port, configured=target.address)

    async def _listen(self, service_id: str, target: ProxyTarget) -> int:
        server = await asyncio.start_server(
            lambda r, w: self._accepted(service_id, r, w), host=self.bind, port=0, reuse_address=True
        )
        self._listeners[service_id] = _Listener(service_id, target, server)
        return int(server.sockets[0].getsockname()[1])

    @property
    def connections(self) -> int:
        """Container connections being relayed now (each with its one backend connection)."""
        return len(self._pairs)

    def events(self) -> list[str]:
        """Lines worth reporting since the last call (a backend that stopped or started answering)."""
        with self._lock:
            lines, self._events = self._events, []
        return lines

    def _event(self, line: str) -> None:
        logger.info("%s", line)
        with self._lock:
            self._events.append(line)

    def _accepted(self, service_id: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        pair = asyncio.ensure_future(self._relay(service_id, reader, writer))
        self._pairs.add(pair)
        pair.add_done_callback(self._pairs.discard)

    async def _relay(
        self, service_id: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        listener = self._listeners[service_id]
        peer = writer.get_extra_info("peername")
        try:
            if peer is None or ipaddress.ip_address(peer[0]) not in self.allowed:
                _reset(writer)  # not from the project network: never relayed
                return
        except ValueError:
            _reset(writer)
            return
        target = listener.target
        try:
            backend_reader, backend_writer = await asyncio.wait_for(
                asyncio.open_connection(target.host, target.port), target.timeout_ms / 1000.0
            )
        except (OSError, TimeoutError) as err:
            _reset(writer)  # the host answers its client with an error naming the backend
            if not listener.failing:
                listener.failing = True
                why = (
                    "refused the connection" if isinstance(err, ConnectionRefusedError) else f"failed: {err}"
                )
                self._event(f"{service_id}: the backend {target.address} {why} (relayed from its container)")
            return
        if listener.failing:
            listener.failing = False
            self._event(f"{service_id}: the backend {target.address} answers again")
        self.relayed += 1
        try:
            await _pipe_both(reader, writer, backend_reader, backend_writer)
        finally:
            for w in (writer, backend_writer):
                w.close()

    def stop(self) -> None:
        """Close every listener and connection, then the loop's thread. Idempotent."""
        if self._loop.is_closed():
            return
        with contextlib.suppress(Exception):
            self._run(self._close_all())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        if not self._thread.is_alive():
            self._loop.close()

    async def _close_all(self) -> None:
        for listener in self._listeners.values():
            listener.server.close()
        pairs = list(self._pairs)
        for pair in pairs:
            pair.cancel()
        await asyncio.gather(*pairs, return_exceptions=True)
        for listener in self._listeners.values():
            await listener.server.wait_closed()
        self._listeners.clear()


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with an RST (not a FIN, which would read as a backend that closed the connection after a call)."""
    sock = writer.get_extra_info("socket")
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def _pipe_both(
    a_reader: asyncio.StreamReader,
    a_writer: asyncio.StreamWriter,
    b_reader: asyncio.StreamReader,
    b_writer: asyncio.StreamWriter,
) -> None:
    """Copy bytes both ways until either side closes (or fails); the caller then closes both."""
    ab = asyncio.ensure_future(_copy(a_reader, b_writer))
    ba = asyncio.ensure_future(_copy(b_reader, a_writer))
    try:
        await asyncio.wait({ab, ba}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (ab, ba):
            task.cancel()
        await asyncio.gather(ab, ba, return_exceptions=True)


async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError):
        while data := await reader.read(_CHUNK):
            writer.write(data)
            await writer.drain()
