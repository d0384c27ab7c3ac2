"""The reaper's watch (runtime.docker.reaper) without an engine: it waits while a serve holds a connection,
reaps a grace period after the last one closes, and reaps a session whose serve never connected."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from thriftbox.runtime.docker.reaper import ACK, hold, watch


class Watching:
    def __init__(self, grace: float, first_wait: float) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.done = threading.Event()
        self.seen = -1
        self.finished_at = 0.0

        def run() -> None:
            self.seen = watch(self.listener, grace=grace, first_wait=first_wait)
            self.finished_at = time.monotonic()
            self.done.set()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.thread.join(5)
        self.listener.close()


def test_it_waits_while_held_and_reaps_a_grace_period_after_the_last_connection_closes() -> None:
    w = Watching(grace=0.3, first_wait=0.3)
    try:
        first = hold("127.0.0.1", w.port)
        second = hold("127.0.0.1", w.port)
        assert not w.done.wait(1.0)  # held well past grace and first_wait
        first.close()
        assert not w.done.wait(0.6)  # one still open
        closed = time.monotonic()
        second.close()
        assert w.done.wait(3)
        assert w.finished_at - closed >= 0.25
        assert w.seen == 2
    finally:
        w.close()


def test_a_reconnect_within_the_grace_period_keeps_it_waiting() -> None:
    w = Watching(grace=0.5, first_wait=5)
    try:
        hold("127.0.0.1", w.port).close()
        time.sleep(0.1)
        again = hold("127.0.0.1", w.port)
        assert not w.done.wait(1.0)
        again.close()
        assert w.done.wait(3)
        assert w.seen == 2
    finally:
        w.close()


def test_a_serve_that_never_connects_is_reaped_after_the_first_wait() -> None:
    w = Watching(grace=10, first_wait=0.3)
    try:
        assert w.done.wait(3)
        assert w.seen == 0
    finally:
        w.close()


def test_the_greeting_tells_the_reaper_from_a_port_that_only_accepts() -> None:
    mute = socket.create_server(("127.0.0.1", 0))  # like Docker's proxy before the reaper listens
    port = mute.getsockname()[1]

    def drop() -> None:
        while True:
            try:
                conn, _ = mute.accept()
            except OSError:
                return
            conn.close()

    threading.Thread(target=drop, daemon=True).start()
    t0 = time.monotonic()
    try:
        with pytest.raises(OSError, match="did not answer"):
            hold("127.0.0.1", port, timeout=0.5)
        assert time.monotonic() - t0 < 3
    finally:
        mute.close()
    assert ACK.endswith(b"\n")
