"""Proxying in the container runtime against a fake engine whose network gateway is loopback: the relay starts
with the runtime, the container's host dials it (with the backend as configured beside it), a dead backend is
reported once by supervision, the relay stops with the runtime; a remote engine gets the backend unchanged, said
once. The real engine: ``tests/proxy/test_docker.py``."""

from __future__ import annotations

import socket
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest

from tests.docker_support import wait_until
from tests.runtime.test_docker_reload import CLOCK, FakeEngine, FakeRuntime
from tests.runtime.test_relay import assert_reset
from tests.serve_support import free_base_port
from thriftbox.client.target import ProxyTarget
from thriftbox.control import client as control
from thriftbox.runtime.base import MockSpec, Project
from thriftbox.runtime.docker import plan as names


class LoopbackGatewayEngine(FakeEngine):
    def network_gateway(self, network_id: str) -> tuple[str, str]:
        return "127.0.0.1", "127.0.0.0/8"

    def copy_in(self, container_id: str, folders: Sequence[names.Folder], replace: bool) -> None:
        pass


def answer_health(
    url: str, method: str, body: dict[str, Any], timeout: float, token: str | None = None
) -> Any:
    return {"services": {}}


@pytest.fixture
def started(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeRuntime, int, Path]]:
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    (tmp_path / "idl").mkdir()
    (tmp_path / "idl" / "clock.thrift").write_text(CLOCK)
    dead = free_base_port(4)
    project = Project(
        root=tmp_path,
        name="shop",
        idl_dirs=(tmp_path / "idl",),
        proxies={"clock.Clock": ProxyTarget("localhost", dead, timeout_ms=1000)},
    )
    runtime = FakeRuntime(LoopbackGatewayEngine())
    with patch.object(control, "request_json", side_effect=answer_health):
        runtime.start(project, [MockSpec("clock.Clock", dead + 1)])
        yield runtime, dead, tmp_path
        runtime.stop()


def test_the_host_dials_the_relay_and_a_dead_backend_is_reported_once(
    started: tuple[FakeRuntime, int, Path],
) -> None:
    runtime, dead, _ = started
    command = runtime.mocks["clock.Clock"].plan.command
    spec = command[command.index("--proxy") + 1]
    relay = ProxyTarget.parse(spec.split("=", 1)[1])
    assert (relay.host, relay.configured) == ("127.0.0.1", f"localhost:{dead}")
    assert_reset(relay.port)  # what the container's host would see: the backend is dead
    wanted = f"clock.Clock: the backend localhost:{dead} refused the connection (relayed from its container)"
    lines: list[str] = []
    wait_until(lambda: bool(lines.extend(runtime.supervise()) or wanted in lines), 5, "the report")
    assert lines.count(wanted) == 1
    runtime.stop()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", relay.port), timeout=2)


def test_a_remote_engine_dials_the_backend_as_given_and_says_so_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", "tcp://builder.example:2376")
    (tmp_path / "idl").mkdir()
    (tmp_path / "idl" / "clock.thrift").write_text(CLOCK)
    project = Project(
        root=tmp_path,
        name="shop",
        idl_dirs=(tmp_path / "idl",),
        proxies={"clock.Clock": ProxyTarget("staging-clock", 9090)},
        record_dir=tmp_path / "mocks" / "recorded",
    )
    runtime = FakeRuntime(LoopbackGatewayEngine())
    with patch.object(control, "request_json", side_effect=answer_health):
        runtime.start(project, [MockSpec("clock.Clock", free_base_port(2))])
        try:
            assert runtime.relay is None
            command = runtime.mocks["clock.Clock"].plan.command
            assert command[command.index("--proxy") + 1].startswith("clock.Clock=staging-clock:9090,")
            first, again = runtime.supervise(), runtime.supervise()
        finally:
            runtime.stop()
    assert first == [
        "the Docker engine runs on builder.example: its containers reach the proxy backends by the addresses "
        "given (staging-clock:9090), not through this machine; --record writes nothing here"
    ]
    assert again == []
