"""``thriftbox journal SERVICE --clear`` empties that service's journal only (it emptied every service's)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.serve_support import cli_env, serve, thriftbox_cmd


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        thriftbox_cmd(*args), cwd=cwd, env=cli_env(), capture_output=True, text=True, timeout=60
    )


def methods(cwd: Path) -> set[str]:
    lines = run(cwd, "journal", "--json").stdout.splitlines()
    return {f"{e['service']}.{e['method']}" for e in map(json.loads, lines)}


def test_clearing_one_services_journal_keeps_the_others(demo_project: Path) -> None:
    with serve(demo_project, ["idl/"], "--mocks", "mocks/"):
        assert run(demo_project, "call", "Users.getUser", '{"id": 7}').returncode == 0
        assert run(demo_project, "call", "Catalog.getItem", '{"id": "item_3"}').returncode == 0
        assert methods(demo_project) == {"users.Users.getUser", "catalog.Catalog.getItem"}
        cleared = run(demo_project, "journal", "Users", "--clear")
        assert cleared.returncode == 0, cleared.stderr
        assert "users.Users" in cleared.stderr
        assert methods(demo_project) == {"catalog.Catalog.getItem"}
        run(demo_project, "journal", "--clear")
        assert methods(demo_project) == set()


def test_stubs_and_journal_name_a_stub_rule_the_same_way(demo_project: Path) -> None:
    with serve(demo_project, ["idl/"], "--mocks", "mocks/"):
        assert run(demo_project / "idl", "call", "Users.getUser", '{"id": 42}').returncode == 0
        (entry,) = [
            json.loads(line) for line in run(demo_project / "idl", "journal", "--json").stdout.splitlines()
        ]
        rules = json.loads(run(demo_project / "idl", "stubs", "Users").stdout)
        ids = {r["id"] for r in rules}
        assert entry["rule"] in ids  # the journal names a rule `stubs` lists, in the same words
        assert entry["rule"].startswith("mocks/users.yaml:")  # relative to the project, from any subfolder
        assert all(not i.startswith("/") for i in ids)
        line = run(demo_project / "idl", "journal").stdout
        assert f"stub {entry['rule']}" in line
