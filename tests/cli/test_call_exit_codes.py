"""``thriftbox call`` exits as its --help says: 0 an answer, 3 a declared exception, 1 a failed call, 2 usage."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.serve_support import REPO, cli_env, thriftbox_cmd


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        thriftbox_cmd(*args), cwd=REPO, env=cli_env(), capture_output=True, text=True, timeout=60
    )


def test_the_help_states_every_exit_code_the_command_uses(tmp_path: Path) -> None:
    help_text = " ".join(run("call", "--help").stdout.split())
    for code, meaning in [
        ("0", "an answer"),
        ("3", "a declared exception"),
        ("1", "the call failed"),
        ("2", "bad usage"),
    ]:
        assert f"{code} {meaning}" in help_text
    unknown = run("call", "Nope.getUser", "{}", "--idl", "idl", "--address", "127.0.0.1:1")
    assert unknown.returncode == 2, unknown.stderr
    not_json = run("call", "Users.getUser", "{id", "--idl", "idl", "--address", "127.0.0.1:1")
    assert not_json.returncode == 2
    unreachable = run("call", "Users.getUser", '{"id": 1}', "--idl", "idl", "--address", "127.0.0.1:1")
    assert unreachable.returncode == 1, unreachable.stderr
