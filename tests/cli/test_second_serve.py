"""A second ``serve`` in a folder where one already runs says so, naming the first one's pid."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.serve_support import cli_env, free_base_port, serve, thriftbox_cmd


def test_a_second_serve_in_the_same_folder_names_the_first(demo_project: Path) -> None:
    with serve(demo_project, ["idl/"]) as first:
        second = subprocess.run(
            thriftbox_cmd(
                "serve", "idl/", "--runtime", "process", "--no-watch", "--port", str(free_base_port())
            ),
            cwd=demo_project,
            env=cli_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 2
        assert f"a `thriftbox serve` already runs in this folder (pid {first.proc.pid})" in second.stderr
        assert "thriftbox status" in second.stderr  # the hint
        assert first.proc.poll() is None  # the first one is untouched


def test_make_serve_takes_a_first_port() -> None:
    repo = Path(__file__).resolve().parents[2]
    dry = subprocess.run(
        ["make", "-n", "serve", "PORT=9190"], cwd=repo, capture_output=True, text=True, timeout=60
    )
    assert dry.returncode == 0, dry.stderr
    assert "thriftbox serve idl/ --mocks mocks/ --port 9190" in dry.stdout
    default = subprocess.run(["make", "-n", "serve"], cwd=repo, capture_output=True, text=True, timeout=60)
    assert "--port" not in default.stdout.splitlines()[-1]
