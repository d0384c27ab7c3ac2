"""A mock host that stops answering (here: SIGSTOP, as a deadlock or a stuck GC would look) is shown as
`unresponsive` by `thriftbox status`, then replaced after a grace period (issue 16: health that means something);
it said `ready` for as long as the process existed."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest

from tests.docker_support import mock_image, wait_until
from tests.serve_support import Served, cli_env, serve, thriftbox_cmd
from thriftbox.client.probe import probe
from thriftbox.runtime import process

IDL = Path(__file__).parent / "docker_fixtures" / "idl"


def status(served: Served) -> list[dict[str, Any]]:
    out = subprocess.run(
        thriftbox_cmd("status", "--json"), cwd=served.root, env=cli_env(), capture_output=True, text=True
    )
    return list(json.loads(out.stdout))


def test_a_silent_host_is_reported_unresponsive_then_replaced(tmp_path: Path) -> None:
    shutil.copytree(IDL, tmp_path / "idl")
    with serve(tmp_path, ["idl"]) as served:
        rows = status(served)
        assert {r["state"] for r in rows} == {"ready"}
        pid = int(rows[0]["detail"].split()[1])
        os.kill(pid, signal.SIGSTOP)
        try:
            wait_until(
                lambda: {r["state"] for r in status(served)} == {"unresponsive"}, 15, "shown unresponsive"
            )
            t0 = time.monotonic()
            wait_until(
                lambda: "killed and restarted" in served.output(), process.UNRESPONSIVE_GRACE + 15, "replaced"
            )
            waited = time.monotonic() - t0
        finally:
            with contextlib.suppress(ProcessLookupError):  # gone, as it should be
                os.kill(pid, signal.SIGCONT)
        rows = status(served)
        assert {r["state"] for r in rows} == {"ready"}
        assert int(rows[0]["detail"].split()[1]) != pid
        assert probe("127.0.0.1", served.port("users.Users"), timeout=2)
        print(f"\nreplaced {waited:.1f} s after it was first shown unresponsive")
    assert "does not answer its health check" in served.output()


@pytest.mark.docker
def test_a_paused_container_is_reported_unresponsive_then_replaced(tmp_path: Path) -> None:
    image = mock_image()  # skips (or fails under THRIFTBOX_REQUIRE_DOCKER=1) without an engine
    shutil.copytree(IDL, tmp_path / "idl")
    engine = docker.from_env()
    try:
        with serve(tmp_path, ["idl"], "--runtime", "docker", "--base-image", image.base) as served:
            (container,) = engine.containers.list(filters={"label": "thriftbox.service=users.Users"})
            container.pause()  # it exists, and answers nothing
            try:
                wait_until(
                    lambda: states(served).get("users.Users") == "unresponsive", 20, "shown unresponsive"
                )
                assert states(served)["orders.Orders"] == "ready"  # only the silent one
                wait_until(
                    lambda: "s: replaced" in served.output(),
                    process.UNRESPONSIVE_GRACE + 30,
                    "replaced",
                )
            finally:
                with contextlib.suppress(docker.errors.APIError):
                    container.unpause()
            wait_until(lambda: states(served).get("users.Users") == "ready", 30, "ready again")
            assert probe("127.0.0.1", served.port("users.Users"), timeout=2)
    finally:
        engine.close()


def states(served: Served) -> dict[str, str]:
    return {r["service"]: r["state"] for r in status(served)}
