"""The one check a ControlServer makes before any route (issue 16): token, Host, Origin, content type."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from thriftbox.control.auth import TOKEN_HEADER, is_loopback
from thriftbox.control.client import HostClient, HostRefused
from thriftbox.control.server import ControlServer, Request


class Running:
    def __init__(self, server: ControlServer) -> None:
        self.server = server
        self.loop = asyncio.new_event_loop()
        self.calls: list[str] = []
        ready = threading.Event()

        @server.route("GET", "/health")
        async def health(_: Request) -> tuple[int, Any]:
            return 200, {"ok": True}

        @server.route("POST", "/stubs")
        async def add(request: Request) -> tuple[int, Any]:
            self.calls.append("add")
            return 201, {"id": "api:1"}

        def run() -> None:
            self.loop.run_until_complete(server.start())
            ready.set()
            self.loop.run_forever()
            self.loop.run_until_complete(server.close())
            self.loop.close()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        ready.wait(5)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture
def guarded() -> Iterator[Running]:
    running = Running(ControlServer(token="s3cret", open_paths=frozenset({"/health"})))
    yield running
    running.stop()


def test_a_host_client_without_the_token_is_refused_and_nothing_runs(guarded: Running) -> None:
    with pytest.raises(HostRefused) as caught:
        HostClient(guarded.url, token="wrong").add_stub({"service": "Users"})
    assert caught.value.status == 403
    assert guarded.calls == []
    assert HostClient(guarded.url, token="s3cret").add_stub({"service": "Users"}) == {"id": "api:1"}
    assert guarded.calls == ["add"]


def test_health_is_open(guarded: Running) -> None:
    assert HostClient(guarded.url, token="").health() == {"ok": True}


def test_the_header_name_is_the_documented_one() -> None:
    assert TOKEN_HEADER == "X-Thriftbox-Token"


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("10.1.2.3", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_own_hosts_name_the_server_only() -> None:
    server = ControlServer("10.1.2.3", 4000)
    assert server.own_hosts() == {"127.0.0.1:4000", "localhost:4000", "[::1]:4000", "10.1.2.3:4000"}
    assert ControlServer("0.0.0.0", 4000).own_hosts() == {"127.0.0.1:4000", "localhost:4000", "[::1]:4000"}
