"""A flood of bad connections gives a bounded log (issue 16, item 8: one warning line per malformed connection
grew a host log to 88 MB): the first warnings of a window are logged, the rest counted and summed up."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator

import pytest

from tests.wire.test_support import EchoApp
from thriftbox.wire import ServerThread, ThriftServer
from thriftbox.wire.ratelog import RateLimited


def test_the_first_warnings_of_a_window_pass_the_rest_are_counted(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.ratelog")
    limited = RateLimited(logger, window=0.3, burst=3)
    with caplog.at_level(logging.WARNING, logger="test.ratelog"):
        for i in range(10):
            limited.warning("bad client %d", i)
        assert [r.getMessage() for r in caplog.records] == ["bad client 0", "bad client 1", "bad client 2"]
        assert limited.held == 7
        time.sleep(0.35)
        limited.warning("bad client %d", 10)
    messages = [r.getMessage() for r in caplog.records]
    assert messages[3:] == [
        "7 more warning(s) like the above in the last 0 s were not logged",
        "bad client 10",
    ]


@pytest.fixture
def server() -> Iterator[ThriftServer]:
    with ServerThread() as thread:
        yield thread.serve(EchoApp())


def test_a_thousand_garbage_connections_log_a_few_lines(
    server: ThriftServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="thriftbox.wire"):
        for _ in range(1000):
            with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
                sock.sendall(b"\x80\x01\x00\x09" + b"\xff" * 60)  # a bad binary version
                sock.shutdown(socket.SHUT_WR)
                while sock.recv(4096):
                    pass
        deadline = time.monotonic() + 5
        while server.warnings.held < 900 and time.monotonic() < deadline:
            time.sleep(0.05)
    lines = [r for r in caplog.records if r.name == "thriftbox.wire"]
    assert 1 <= len(lines) <= 25
    assert server.warnings.held >= 900
