"""Commands that talk to the running ``serve`` find it from any subfolder of the project, as git does."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.serve_support import cli_env, serve, thriftbox_cmd


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        thriftbox_cmd(*args), cwd=cwd, env=cli_env(), capture_output=True, text=True, timeout=60
    )


def test_status_journal_stubs_and_call_work_from_a_subfolder(demo_project: Path) -> None:
    deep = demo_project / "idl" / "deeper"
    deep.mkdir()
    with serve(demo_project, ["idl/"], "--mocks", "mocks/"):
        status = run(deep, "status", "--json")
        assert status.returncode == 0, status.stderr
        assert "users.Users" in {m["service"] for m in json.loads(status.stdout)}
        called = run(deep, "call", "Users.getUser", '{"id": 7}')
        assert called.returncode == 0, called.stderr
        assert json.loads(called.stdout)["id"] == 7
        journal = run(deep, "journal", "--json")
        assert journal.returncode == 0, journal.stderr
        assert any(json.loads(line)["method"] == "getUser" for line in journal.stdout.splitlines())
        stubs = run(deep, "stubs")
        assert stubs.returncode == 0, stubs.stderr


def test_outside_any_project_status_still_says_nothing_is_served(tmp_path: Path) -> None:
    status = run(tmp_path, "status")
    assert status.returncode == 1
    assert "nothing is served" in status.stderr
