"""`thriftbox serve` with no arguments, as a team uses it: a checked-in thriftbox.toml, options that override
it, per-service ports and switches, `thriftbox init`, and bad files stopped before anything starts."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.serve_support import Served, cli_env, free_base_port, thriftbox_cmd

ALL = {"ads.Ads", "catalog.Catalog", "common.BaseService", "feed.Feed", "users.Users"}


@contextmanager
def serve_here(cwd: Path, *args: str) -> Iterator[Served]:
    """``thriftbox serve ARGS`` in ``cwd`` exactly as given (no options added), stopped by Ctrl-C."""
    log = cwd / "serve.log"
    with log.open("w") as fh:
        proc = subprocess.Popen(
            thriftbox_cmd("serve", *args),
            cwd=cwd,
            env=cli_env(),
            stdout=fh,
            stderr=subprocess.STDOUT,
            text=True,
        )
    served = Served(proc, cwd, log)
    try:
        served.wait_for_output("Ctrl-C to stop", timeout=60)
        yield served
    finally:
        assert served.interrupt() in (0, 1, 130), served.output()


def thriftbox(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        thriftbox_cmd(*args), cwd=cwd, env=cli_env(), capture_output=True, text=True, timeout=90
    )


def served_ports(served: Served) -> dict[str, int]:
    return {m["service"]: int(m["port"]) for m in served.state()["mocks"]}


def test_serve_without_arguments_serves_what_thriftbox_toml_says(demo_project: Path) -> None:
    base = free_base_port()
    fixed = base + 40
    (demo_project / "thriftbox.toml").write_text(
        f'[serve]\npaths = ["idl"]\nmocks = "mocks"\nruntime = "process"\nwatch = false\nport = {base}\n\n'
        f'[services."users.Users"]\nport = {fixed}\n\n[services."ads.Ads"]\nenabled = false\n'
    )
    with serve_here(demo_project) as served:
        ports = served_ports(served)
        assert set(ports) == ALL - {"ads.Ads"}  # disabled: not served
        assert ports["users.Users"] == fixed
        assert all(base <= port < base + 10 for sid, port in ports.items() if sid != "users.Users")
        call = thriftbox(
            demo_project, "call", "Users.getUser", '{"id": 42}', "--address", f"127.0.0.1:{fixed}"
        )
        assert call.returncode == 0, call.stderr
        assert json.loads(call.stdout)["id"] == 42
        assert thriftbox(demo_project, "call", "Ads.getAds", "{}").returncode == 2  # no such served service
    assert "watching for changes" not in served.output()  # watch = false


def test_options_on_the_command_line_override_the_file_found_in_a_parent(demo_project: Path) -> None:
    in_file, given = free_base_port(), free_base_port()
    (demo_project / "thriftbox.toml").write_text(
        f'[serve]\npaths = ["idl"]\nruntime = "process"\nwatch = false\nport = {in_file}\nseed = 1\n'
    )
    sub = demo_project / "src"
    sub.mkdir()
    with serve_here(sub, "--port", str(given)) as served:  # paths stay relative to thriftbox.toml
        ports = served_ports(served)
        assert set(ports) == ALL
        assert all(given <= port < given + 10 for port in ports.values())
        assert served.state()["project"]["seed"] == 1


BAD = [
    ("[serve]\npaths = ['idl']\nmock = 'mocks'\n", "thriftbox.toml:3:1: unknown key in [serve] 'mock'",
     "did you mean 'mocks'?"),
    ("[serve]\npaths = ['idl']\nport = '9100'\n", "thriftbox.toml:3:8: serve.port must be an integer", None),
    ("[serve]\npaths = ['idl'\nport = 9100\n", "thriftbox.toml:3:1: not valid TOML", "toml.io"),
    ("[serve]\npaths = ['idl']\nruntime = 'dokcer'\n", "thriftbox.toml:3:11: unknown runtime 'dokcer'",
     "choose one of"),
    ("[serve]\npaths = ['idl']\n\n[services.'users.User']\nport = 9190\n",
     "thriftbox.toml:4:2: no service 'users.User' in the served IDL", "did you mean 'users.Users'?"),
    ("[serve]\npaths = ['idl']\nmocks = 'stubs'\n", "thriftbox.toml:3:9: stubs: no such file or folder",
     "relative to its folder"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "error", "hint"), BAD, ids=["key", "type", "syntax", "runtime", "service", "path"]
)
def test_a_bad_file_is_reported_at_its_line_and_nothing_starts(
    demo_project: Path, text: str, error: str, hint: str | None
) -> None:
    (demo_project / "thriftbox.toml").write_text(text)
    result = thriftbox(demo_project, "serve", "--runtime", "process")
    assert result.returncode == 2, result.stderr
    assert f"error: {error}" in result.stderr
    if hint is not None:
        assert hint in result.stderr
    assert "Traceback" not in result.stderr
    assert not (demo_project / ".thriftbox").exists()  # no port numbered, no host started


def test_serve_without_arguments_or_a_file_is_a_usage_error(tmp_path: Path) -> None:
    result = thriftbox(tmp_path, "serve")
    assert result.returncode == 2
    assert "Missing argument 'PATHS...'" in result.stderr
    assert "thriftbox init" in result.stderr


def test_init_writes_a_file_that_serve_then_serves(demo_project: Path) -> None:
    first = thriftbox(demo_project, "init")
    assert first.returncode == 0, first.stderr
    assert "serves idl, 5 service(s)" in first.stdout
    text = (demo_project / "thriftbox.toml").read_text()
    assert 'paths = ["idl"]' in text
    assert 'mocks = "mocks"' in text
    for sid in ALL:
        assert f'# [services."{sid}"]' in text

    again = thriftbox(demo_project, "init")
    assert again.returncode == 2
    assert "thriftbox.toml already exists here" in again.stderr
    assert "--force" in again.stderr
    (demo_project / "thriftbox.toml").write_text("# mine\n")
    assert thriftbox(demo_project, "init", "--force").returncode == 0
    assert (demo_project / "thriftbox.toml").read_text() == text

    with serve_here(
        demo_project, "--runtime", "process", "--no-watch", "--port", str(free_base_port())
    ) as served:
        assert set(served_ports(served)) == ALL
