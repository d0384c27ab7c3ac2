"""While an IDL file is broken, the running serve keeps the last good definitions, and the commands say so:
``status`` shows that the last reload failed and where, ``call`` still reaches the services that file does not
define."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.serve_support import cli_env, serve, thriftbox_cmd
from tests.supervisor.test_reload_process import (
    GREETER_BROKEN,
    GREETER_V1,
    make_project,
    save_by_rename,
    save_in_place,
    wait_for_count,
)


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        thriftbox_cmd(*args), cwd=cwd, env=cli_env(), capture_output=True, text=True, timeout=60
    )


def test_a_broken_idl_file_shows_in_status_and_spares_other_services_calls(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    greeter = root / "idl" / "greeter.thrift"
    with serve(root, ["idl"], "--watch", "--mocks", "mocks") as served:
        save_by_rename(greeter, GREETER_BROKEN)
        wait_for_count(served, "reload failed", 1)

        status = run(root, "status")
        assert status.returncode == 0
        assert "last reload failed" in status.stderr
        assert "idl/greeter.thrift:6:" in status.stderr
        assert "still serving the last good definitions" in status.stderr
        as_json = run(root, "status", "--json")
        assert as_json.returncode == 0
        assert {m["service"] for m in json.loads(as_json.stdout)} == {"clock.Clock", "greeter.Greeter"}

        called = run(root, "call", "Clock.now")  # clock.thrift is fine: the call goes through
        assert called.returncode == 0, called.stderr
        assert isinstance(json.loads(called.stdout), int)
        broken = run(root, "call", "Greeter.hello", '{"name": "ada"}')  # its own file is the broken one
        assert broken.returncode != 0
        assert "idl/greeter.thrift:6:" in broken.stderr

        save_in_place(greeter, GREETER_V1)  # fixed: the warning goes
        wait_for_count(served, "reloaded greeter.Greeter", 1)
        assert "last reload failed" not in run(root, "status").stderr
