"""The Docker runtime's relay to proxy backends (runtime.docker.relay), over real sockets on loopback: bytes pass
both ways, one backend connection per container connection, both closed when one side closes, an unreachable
backend resets the connection and is reported once, a peer outside the network is refused, and nothing listens
after stop."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from tests.docker_support import wait_until
from tests.serve_support import free_base_port
from thriftbox.client.target import ProxyTarget
from thriftbox.errors import MockStartError
from thriftbox.runtime.docker.relay import Relay, start_relay


class Echo:
    """A backend that echoes, and counts the connections it holds."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", free_base_port(2)))
        self.port = self.listener.getsockname()[1]
        self.open = 0
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._echo, args=(conn,), daemon=True).start()

    def _echo(self, conn: socket.socket) -> None:
        with self._lock:
            self.open += 1
        with conn:
            while data := conn.recv(65536):
                conn.sendall(data)
        with self._lock:
            self.open -= 1


def first_bytes(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        return conn.recv(10)


def assert_reset(port: int) -> None:
    """The relay resets the connection (an RST: a FIN would read as b"", a backend that closed after a call).
    On a busy machine the RST can arrive before ``connect`` returns: then it fails there."""
    with pytest.raises(ConnectionResetError):
        first_bytes(port)


@pytest.fixture
def echo() -> Iterator[Echo]:
    backend = Echo()
    yield backend
    backend.listener.close()


def test_bytes_pass_one_backend_connection_each_and_both_close(echo: Echo) -> None:
    relay = Relay("127.0.0.1", "127.0.0.0/8")
    try:
        target = relay.add("people.People", ProxyTarget("127.0.0.1", echo.port, timeout_ms=2000))
        assert (target.host, target.configured, target.address) == (
            "127.0.0.1",
            f"127.0.0.1:{echo.port}",
            f"127.0.0.1:{echo.port}",
        )
        assert target.port != echo.port
        assert ProxyTarget.parse(target.spec()) == target  # the host's command line carries both addresses
        conns = [socket.create_connection(("127.0.0.1", target.port), timeout=5) for _ in range(3)]
        big = bytes(range(256)) * 4096  # 1 MiB: more than one read's worth
        for conn in conns:
            conn.sendall(big)
            got = b""
            while len(got) < len(big):
                got += conn.recv(65536)
            assert got == big
        wait_until(lambda: echo.open == 3 and relay.connections == 3, 5, "three relayed connections")
        conns.pop().close()  # the container side closes: so does its backend connection
        wait_until(lambda: echo.open == 2 and relay.connections == 2, 5, "the backend side closed too")
    finally:
        relay.stop()
    wait_until(lambda: echo.open == 0, 5, "stop closes every backend connection")
    for conn in conns:
        assert conn.recv(10) == b""  # and every container connection
        conn.close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", target.port), timeout=2)


def test_an_unreachable_backend_resets_the_connection_and_is_reported_once() -> None:
    dead = free_base_port(2)
    relay = Relay("127.0.0.1", "127.0.0.0/8")
    try:
        target = relay.add("people.People", ProxyTarget("localhost", dead, timeout_ms=2000))
        for _ in range(3):
            assert_reset(target.port)
        time.sleep(0.1)
        assert relay.events() == [
            f"people.People: the backend localhost:{dead} refused the connection (relayed from its container)"
        ]
        assert relay.events() == []
    finally:
        relay.stop()


def test_a_peer_outside_the_network_is_not_relayed(echo: Echo) -> None:
    relay = Relay("127.0.0.1", "172.30.0.0/16")  # loopback is not on that network
    try:
        target = relay.add("people.People", ProxyTarget("127.0.0.1", echo.port))
        assert_reset(target.port)
        assert echo.open == 0
        assert relay.relayed == 0
    finally:
        relay.stop()


def test_a_gateway_that_is_not_this_machines_stops_serve_with_a_hint() -> None:
    with pytest.raises(MockStartError, match=r"gateway 198\.51\.100\.7 failed") as failed:
        start_relay("198.51.100.7", "198.51.100.0/24", {"people.People": ProxyTarget("localhost", 9090)})
    assert "--runtime process" in failed.value.hint
