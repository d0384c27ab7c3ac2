"""Malformed HTTP on a control endpoint or the admin API gets a 4xx answer, never a dropped connection or a
traceback (issue 16, items 8 and 10): bad Content-Length, too many or too large headers, a bad `wait`."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from tests.control.test_server_guard import Running
from thriftbox.control.messages import HttpError, JournalQuery
from thriftbox.control.server import MAX_HEADER_BYTES, MAX_HEADERS, ControlServer, Request


@pytest.fixture
def server() -> Iterator[Running]:
    running = Running(ControlServer())

    @running.server.route("GET", "/journal")
    async def journal(request: Request) -> tuple[int, Any]:
        return 200, {"wait": JournalQuery.from_params(request.query).wait}

    yield running
    running.stop()


def exchange(running: Running, raw: bytes) -> bytes:
    """Send raw bytes, read until the server closes or answers in full."""
    with socket.create_connection(("127.0.0.1", running.server.port), timeout=5) as sock:
        sock.sendall(raw)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


def status_of(answer: bytes) -> int:
    assert answer.startswith(b"HTTP/1.1 "), answer[:80]
    return int(answer.split()[1])


@pytest.mark.parametrize("length", [b"-5", b"abc", b"1e3", b" "])
def test_a_bad_content_length_is_a_400(server: Running, length: bytes) -> None:
    answer = exchange(server, b"POST /stubs HTTP/1.1\r\nHost: x\r\nContent-Length: " + length + b"\r\n\r\n{}")
    assert status_of(answer) == 400
    assert b"Content-Length" in answer


def test_too_many_headers_is_a_431(server: Running) -> None:
    headers = b"".join(b"X-H%d: v\r\n" % i for i in range(MAX_HEADERS + 1))
    answer = exchange(server, b"GET /journal HTTP/1.1\r\n" + headers + b"\r\n")
    assert status_of(answer) == 431


def test_headers_over_the_byte_limit_are_a_431(server: Running) -> None:
    big = b"X-Big: " + b"a" * 8000 + b"\r\n"
    answer = exchange(server, b"GET /journal HTTP/1.1\r\n" + big * (MAX_HEADER_BYTES // 8000 + 1) + b"\r\n")
    assert status_of(answer) == 431


def test_one_header_line_longer_than_the_read_buffer_is_a_431(server: Running) -> None:
    answer = exchange(server, b"GET /journal HTTP/1.1\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n")
    assert status_of(answer) == 431


def test_the_server_still_answers_after_bad_requests(server: Running) -> None:
    exchange(server, b"POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n")
    answer = exchange(server, b"GET /journal?wait=0 HTTP/1.1\r\nConnection: close\r\n\r\n")
    assert status_of(answer) == 200


@pytest.mark.parametrize("wait", ["abc", "nan", "inf", "-inf", "-1", "1e999"])
def test_a_wait_that_is_not_a_finite_non_negative_number_is_a_400(wait: str) -> None:
    with pytest.raises(HttpError) as raised:
        JournalQuery.from_params({"wait": wait})
    assert raised.value.status == 400
    assert "wait" in str(raised.value.body())


def test_a_wait_over_the_bound_is_cut_to_it() -> None:
    assert JournalQuery.from_params({"wait": "1000000"}).wait <= 60


def test_a_bad_wait_over_http_is_a_400(server: Running) -> None:
    answer = exchange(server, b"GET /journal?wait=nan HTTP/1.1\r\nConnection: close\r\n\r\n")
    assert status_of(answer) == 400


def test_a_body_nested_beyond_reason_is_a_400_not_a_traceback(
    server: Running, caplog: pytest.LogCaptureFixture
) -> None:
    @server.server.route("POST", "/stubs")
    async def add(request: Request) -> tuple[int, Any]:
        return 201, {"ok": True}

    body = b"[" * 100_000 + b"]" * 100_000
    head = f"POST /stubs HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    answer = exchange(server, head.encode() + body)
    assert status_of(answer) == 400
    assert b"nested" in answer
    assert not [r for r in caplog.records if r.exc_info]
