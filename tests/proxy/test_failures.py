"""A backend that fails: the client gets a TApplicationException naming the backend and the reason, within
the timeout; the mock keeps serving; the journal says what happened. One test per kind of failure."""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from thriftpy2.rpc import make_client

from tests.proxy.support import SID, apache, client, journal, project, provider
from tests.serve_support import free_base_port, fresh_module, serve

TIMEOUT_MS = 600


@contextmanager
def misbehaving(act: Callable[[socket.socket], None]) -> Iterator[int]:
    """A backend on a free port that reads a request, then does ``act`` with the connection."""
    listener = socket.create_server(("127.0.0.1", free_base_port(2)))
    stop = threading.Event()
    held: list[socket.socket] = []

    def run() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            held.append(conn)
            conn.recv(65536)
            act(conn)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(5)
        for conn in held:
            conn.close()
        listener.close()


def reset(conn: socket.socket) -> None:
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()  # an RST, not a FIN


def garbage(conn: socket.socket) -> None:
    conn.sendall(b"\xde\xad\xbe\xef" + bytes(range(60)))


def silent(conn: socket.socket) -> None:
    pass  # keeps the connection open and never answers


@contextmanager
def refused_backend() -> Iterator[int]:
    yield free_base_port(2)  # nothing listens there


def call_fails(tmp_path: Path, backend: int, reason: str, keys: str = "") -> None:
    """Serve People proxied to ``backend`` (thriftbox.toml, 600 ms timeout, more ``keys`` of the service); a
    call fails with ``reason`` in time; the mock keeps serving; the journal has the failure."""
    gen = apache(tmp_path)
    root = project(tmp_path / "p")
    (root / "thriftbox.toml").write_text(
        f'[services."{SID}"]\nproxy = "127.0.0.1:{backend}"\nproxy_timeout_ms = {TIMEOUT_MS}\n{keys}'
    )
    from thrift.Thrift import TApplicationException

    with serve(root, ["idl"]) as served:
        for _ in range(2):  # a second client after the failure: the mock still serves
            with client(gen, served.port(SID)) as people:
                t0 = time.monotonic()
                with pytest.raises(TApplicationException) as failed:
                    people.getPerson(1)
                took = time.monotonic() - t0
                assert f"proxy backend 127.0.0.1:{backend}" in str(failed.value.message)
                assert reason in str(failed.value.message)
                assert failed.value.type == TApplicationException.INTERNAL_ERROR
                assert took < TIMEOUT_MS / 1000 + 1.0
        entries = [e for e in journal(served) if e["method"] == "getPerson"]
        assert len(entries) == 2
        assert reason in entries[0]["proxied"]["error"]
        assert entries[0]["reply"]["kind"] == "app_error"
        clock = make_client(
            fresh_module(root / "idl" / "people.thrift").Clock, "127.0.0.1", served.port("people.Clock")
        )
        try:
            assert isinstance(clock.now(), str)  # the host's other mock is untouched
        finally:
            clock.close()


def test_refused(tmp_path: Path) -> None:
    with refused_backend() as port:
        call_fails(tmp_path, port, "connection refused")


def test_reset(tmp_path: Path) -> None:
    with misbehaving(reset) as port:
        call_fails(tmp_path, port, "connection reset")


def test_timeout(tmp_path: Path) -> None:
    with misbehaving(silent) as port:
        call_fails(tmp_path, port, f"no answer within {TIMEOUT_MS} ms")


def test_garbage(tmp_path: Path) -> None:
    with misbehaving(garbage) as port:
        call_fails(tmp_path, port, "not a Thrift reply")


def test_wrong_protocol(tmp_path: Path) -> None:
    with provider(tmp_path, protocol="compact") as port:  # the proxy speaks binary unless told otherwise
        call_fails(tmp_path, port, "wrong protocol or framing")


def test_in_fallback_mode_stubbed_calls_do_not_notice_a_dead_backend(tmp_path: Path) -> None:
    gen = apache(tmp_path)
    root = project(tmp_path / "p")
    (root / "mocks" / "people.yaml").write_text(
        "service: People\nmethods:\n  getPerson:\n    - when: {id: 3}\n      return: {id: 3, name: stubbed}\n"
    )
    from thrift.Thrift import TApplicationException

    with (
        refused_backend() as port,
        serve(
            root,
            ["idl"],
            "--mocks",
            "mocks",
            "--proxy",
            f"{SID}=127.0.0.1:{port}",
            "--proxy-mode",
            "fallback",
        ) as served,
        client(gen, served.port(SID)) as people,
    ):
        with pytest.raises(TApplicationException, match="connection refused"):
            people.getPerson(4)
        assert people.getPerson(3).name == "stubbed"
