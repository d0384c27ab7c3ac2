"""Answers that are not JSON (issue 14): a page or a style sheet (``Raw``), and an endless event stream
(``Stream``) that ends when its reader goes away."""

from __future__ import annotations

import asyncio
import http.client
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from thriftbox.control.server import ControlServer, Raw, Request, Stream


@pytest.fixture
def server() -> Iterator[tuple[ControlServer, dict[str, Any]]]:
    control = ControlServer("127.0.0.1", 0, token="secret", token_for_reads=False, same_origin=True)
    seen: dict[str, Any] = {"closed": threading.Event(), "sent": 0}

    @control.route("GET", "/")
    async def page(_: Request) -> tuple[int, Any]:
        return 200, Raw(
            b"<!doctype html><p>hi</p>", "text/html; charset=utf-8", (("Cache-Control", "no-store"),)
        )

    async def ticks() -> AsyncIterator[bytes]:
        try:
            while True:
                seen["sent"] += 1
                yield f"data: {seen['sent']}\n\n".encode()
                await asyncio.sleep(0.02)
        finally:
            seen["closed"].set()

    @control.route("GET", "/events")
    async def events(_: Request) -> tuple[int, Any]:
        return 200, Stream(ticks())

    loop = asyncio.new_event_loop()
    ready = threading.Event()

    def run() -> None:
        loop.run_until_complete(control.start())
        ready.set()
        loop.run_forever()
        loop.run_until_complete(control.close())
        loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(5)
    yield control, seen
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)


def test_a_raw_body_keeps_its_type_and_headers(server: tuple[ControlServer, dict[str, Any]]) -> None:
    control, _ = server
    conn = http.client.HTTPConnection("127.0.0.1", control.port, timeout=5)
    conn.request("GET", "/")
    resp = conn.getresponse()
    assert resp.status == 200
    assert resp.getheader("Content-Type") == "text/html; charset=utf-8"
    assert resp.getheader("Cache-Control") == "no-store"
    assert resp.read() == b"<!doctype html><p>hi</p>"
    conn.close()


def test_a_stream_flows_until_its_reader_leaves_then_stops(
    server: tuple[ControlServer, dict[str, Any]],
) -> None:
    control, seen = server
    sock = socket.create_connection(("127.0.0.1", control.port), timeout=5)
    sock.sendall(f"GET /events HTTP/1.1\r\nHost: 127.0.0.1:{control.port}\r\n\r\n".encode())
    got = b""
    while got.count(b"data: ") < 3:
        got += sock.recv(4096)
    assert got.startswith(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n")
    assert b"data: 1\n\ndata: 2\n\n" in got
    sock.close()
    assert seen["closed"].wait(5), "the stream kept running for a reader that left"
    sent = seen["sent"]
    time.sleep(0.2)
    assert seen["sent"] == sent
