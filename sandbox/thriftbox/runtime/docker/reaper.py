"""Nothing left behind when ``serve`` dies: a reaper container in the style of Testcontainers' Ryuk.

Two processes use this module. In ``serve`` (the supervisor), :func:`hold` opens a TCP connection to the
reaper of the session and keeps it for the session's life. In the reaper container (``thriftbox reaper``,
started from the mock image with the engine's socket mounted), :func:`watch` accepts such connections and
returns once the last one has been closed for :data:`GRACE` seconds, or none came within :data:`FIRST_WAIT`;
then the command removes every container and the network of that session (the reaper's own container goes with
``auto_remove``). The kernel closes a connection whatever ends its process, ``kill -9`` included, so a crashed
``serve`` leaves nothing running for more than a few seconds. A clean stop removes everything itself first.

Stdlib only: the removal itself is :func:`thriftbox.runtime.docker.sdk.reap`, called by ``thriftbox reaper``.
"""

from __future__ import annotations

import selectors
import socket
import time

PORT = 7399  # where the reaper listens inside its container (published on a random loopback port)
GRACE = 3.0  # seconds without any connection after the last one closed, before reaping
FIRST_WAIT = 60.0  # seconds to wait for a first connection (serve died while starting) before reaping
ACK = b"thriftbox-reaper\n"  # sent on accept: the connection reached the reaper, not only Docker's proxy


def hold(host: str, port: int, timeout: float = 20.0) -> socket.socket:
    """Connect to the reaper at ``host:port`` and read its greeting; the open socket to keep.

    Docker's port proxy accepts connections before the process inside listens, then drops them: retry until
    the greeting arrives. Raises OSError when the reaper does not answer within ``timeout``.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            sock = socket.create_connection((host, port), timeout=2)
            try:
                greeting = sock.recv(len(ACK))
                if greeting == ACK:
                    sock.settimeout(None)
                    return sock
            except OSError:
                pass
            sock.close()
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise OSError(f"the reaper at {host}:{port} did not answer within {timeout:g} s")
        time.sleep(0.1)


def watch(listener: socket.socket, grace: float = GRACE, first_wait: float = FIRST_WAIT) -> int:
    """Accept connections on ``listener`` until none has been open for ``grace`` seconds (``first_wait``
    before the first one); the number of connections seen."""
    selector = selectors.DefaultSelector()
    listener.setblocking(False)
    selector.register(listener, selectors.EVENT_READ)
    open_ = 0
    seen = 0
    alone_since = time.monotonic()
    try:
        while True:
            limit = grace if seen else first_wait
            if open_ == 0:
                left = alone_since + limit - time.monotonic()
                if left <= 0:
                    return seen
            else:
                left = None
            for key, _ in selector.select(left):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                if sock is listener:
                    try:
                        conn, _addr = listener.accept()
                    except OSError:
                        continue
                    try:
                        conn.sendall(ACK)
                    except OSError:
                        conn.close()
                        continue
                    conn.setblocking(False)
                    selector.register(conn, selectors.EVENT_READ)
                    open_ += 1
                    seen += 1
                    continue
                try:
                    data = sock.recv(4096)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if not data:  # closed: its serve stopped or died
                    selector.unregister(sock)
                    sock.close()
                    open_ -= 1
                    if open_ == 0:
                        alone_since = time.monotonic()
    finally:
        for key in list(selector.get_map().values()):
            if key.fileobj is not listener:
                key.fileobj.close()  # type: ignore[union-attr]
        selector.close()


def listen(port: int = PORT) -> socket.socket:
    """The reaper's listening socket (every address of its container: its port is published on loopback)."""
    return socket.create_server(("0.0.0.0", port))
