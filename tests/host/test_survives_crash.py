"""What a host learned at run time survives kill -9 of the host process (issue 16, item 6): a stub added through
the admin API, simulated state, and the journal are back in the restarted host before it takes calls, and
`serve` says so. (The Docker runtime's `docker kill`: tests/runtime/test_docker_persist.py.)"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import docker
import pytest
from thriftpy2.rpc import make_client

from tests.docker_support import mock_image
from tests.serve_support import Served, cli_env, fresh_module, serve, thriftbox_cmd
from thriftbox.control.client import request_json

IDL = """
struct Item { 1: i64 id, 2: string name }
exception NotFound { 1: string message }
service Shelf {
  Item createItem(1: Item item)
  Item getItem(1: i64 id) throws (1: NotFound missing)
  string hello(1: string who)
}
"""
STUBS = "service: Shelf\nstate: {key: id}\n"


def admin(served: Served, path: str, method: str = "GET", body: Any = None) -> Any:
    state = served.state()
    return request_json(state["admin_url"] + path, method, body, token=state["admin_token"])


def host_pid(served: Served) -> int:
    """The mock host's pid, as `thriftbox status --json` shows it."""
    out = subprocess.run(
        thriftbox_cmd("status", "--json"),
        cwd=served.root,
        env=cli_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    rows = json.loads(out.stdout)
    details = {row["detail"] for row in rows}
    assert len(details) == 1, details
    return int(details.pop().split()[1])


def project(root: Path) -> Any:
    (root / "idl").mkdir()
    (root / "idl" / "shelf.thrift").write_text(IDL)
    (root / "mocks").mkdir()
    (root / "mocks" / "shelf.yaml").write_text(STUBS)
    return fresh_module(root / "idl" / "shelf.thrift")


def test_stubs_state_and_journal_survive_kill_9_of_the_host(tmp_path: Path) -> None:
    module = project(tmp_path)
    with serve(tmp_path, ["idl"], "--mocks", "mocks") as served:
        port = served.port("shelf.Shelf")
        admin(
            served,
            "/stubs",
            "POST",
            {"service": "shelf.Shelf", "method": "hello", "rule": {"return": "hi, stub"}},
        )
        client = make_client(module.Shelf, "127.0.0.1", port, timeout=10_000)
        created = client.createItem(module.Item(name="kept across a crash"))
        assert client.hello("a") == "hi, stub"
        client.close()
        before = admin(served, "/journal?service=shelf.Shelf")["entries"]
        assert len(before) == 2
        time.sleep(1.2)  # written twice a second

        old = host_pid(served)
        os.kill(old, signal.SIGKILL)
        served.wait_for_output("restored", timeout=30)
        deadline = time.monotonic() + 10
        while host_pid(served) == old and time.monotonic() < deadline:
            time.sleep(0.1)

        client = make_client(module.Shelf, "127.0.0.1", port, timeout=10_000)
        try:
            assert client.hello("b") == "hi, stub"  # the run-time stub
            again = client.getItem(created.id)  # the simulated state
            assert (again.id, again.name) == (created.id, "kept across a crash")
        finally:
            client.close()
        after = admin(served, "/journal?service=shelf.Shelf")["entries"]
        assert [e["id"] for e in after[:2]] == [e["id"] for e in before]  # the journal, with its ids
        assert [e["method"] for e in after] == ["createItem", "hello", "hello", "getItem"]
        assert len({e["id"] for e in after}) == 4
        rules = admin(served, "/stubs?service=shelf.Shelf")
        assert [r["id"] for r in rules if r["source"] == "api"] == ["api:1"]
        output = served.output()
    assert "mock host exited" in output
    assert "run-time stubs, state and journal restored" in output
    assert not (tmp_path / ".thriftbox" / "hosts" / "process").exists()  # removed when serve stopped


def test_a_new_serve_starts_clean(tmp_path: Path) -> None:
    module = project(tmp_path)
    with serve(tmp_path, ["idl"], "--mocks", "mocks") as served:
        admin(
            served,
            "/stubs",
            "POST",
            {"service": "shelf.Shelf", "method": "hello", "rule": {"return": "stub"}},
        )
        time.sleep(1.2)
    with serve(tmp_path, ["idl"], "--mocks", "mocks") as served:
        client = make_client(module.Shelf, "127.0.0.1", served.port("shelf.Shelf"), timeout=10_000)
        try:
            assert client.hello("x") != "stub"
        finally:
            client.close()
        assert admin(served, "/journal")["entries"][-1]["method"] == "hello"
        assert len(admin(served, "/journal")["entries"]) == 1


@pytest.mark.docker
def test_stubs_state_and_journal_survive_docker_kill_of_the_container(tmp_path: Path) -> None:
    image = mock_image()  # skips (or fails under THRIFTBOX_REQUIRE_DOCKER=1) without an engine
    module = project(tmp_path)
    engine = docker.from_env()
    try:
        with serve(
            tmp_path, ["idl"], "--mocks", "mocks", "--runtime", "docker", "--base-image", image.base
        ) as served:
            port = served.port("shelf.Shelf")
            rule = {"service": "shelf.Shelf", "method": "hello", "rule": {"return": "hi, stub"}}
            admin(served, "/stubs", "POST", rule)
            client = make_client(module.Shelf, "127.0.0.1", port, timeout=10_000)
            created = client.createItem(module.Item(name="kept across a crash"))
            client.close()
            time.sleep(1.2)  # written twice a second
            label = "thriftbox.service=shelf.Shelf"
            (container,) = engine.containers.list(filters={"label": label})
            container.kill()
            served.wait_for_output("restarted", timeout=60)
            deadline = time.monotonic() + 30
            while True:
                try:
                    client = make_client(module.Shelf, "127.0.0.1", port, timeout=5_000)
                    break
                except Exception:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
            try:
                assert client.hello("b") == "hi, stub"
                again = client.getItem(created.id)
                assert (again.id, again.name) == (created.id, "kept across a crash")
            finally:
                client.close()
            methods = [e["method"] for e in admin(served, "/journal?service=shelf.Shelf")["entries"]]
            assert methods == ["createItem", "hello", "getItem"]
            assert "restarted; run-time stubs, state and journal restored" in served.output()
    finally:
        engine.close()
