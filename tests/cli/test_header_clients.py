"""``thriftbox call --protocol header`` and ``thriftbox verify --transport header`` against a real ``serve``: the
call travels in THeader (zlib and info headers included), and the journal shows it so."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.serve_support import REPO, Served, cli_env, serve, thriftbox_cmd


def run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        thriftbox_cmd(*args), cwd=root, env=cli_env(), capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("header-cli")
    shutil.copytree(REPO / "idl", root / "idl")
    with serve(root, ["idl"]) as s:
        yield s


def last_entry(root: Path) -> dict[str, object]:
    lines = run(root, "journal", "Users", "--json").stdout.splitlines()
    entry: dict[str, object] = json.loads(lines[-1])
    return entry


@pytest.mark.parametrize("zlib", [False, True])
def test_call_speaks_theader_with_info_headers(served: Served, zlib: bool) -> None:
    args = ["call", "Users.getUser", '{"id": 42}', "--protocol", "header", "-H", "request-id=r-7"]
    done = run(served.root, *args, *(["--zlib"] if zlib else []))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["id"] == 42
    entry = last_entry(served.root)
    assert (entry["method"], entry["protocol"], entry["framing"]) == ("getUser", "binary", "header")
    context = {"transport": "header", "headers": {"request-id": "r-7"}}
    assert entry["context"] == ({**context, "transforms": ["zlib"]} if zlib else context)


def test_call_refuses_header_options_that_cannot_apply(served: Served) -> None:
    framed = run(served.root, "call", "Users.getUser", '{"id": 1}', "--protocol", "header", "--framed")
    assert framed.returncode == 2
    assert "exclude each other" in framed.stderr
    zlib = run(served.root, "call", "Users.getUser", '{"id": 1}', "--zlib")
    assert zlib.returncode == 2
    assert "--zlib needs --protocol header" in zlib.stderr
    bad = run(served.root, "call", "Users.getUser", '{"id": 1}', "--protocol", "header", "-H", "novalue")
    assert bad.returncode == 2
    assert "'novalue' is not KEY=VALUE" in bad.stderr


@pytest.mark.parametrize("extra", [[], ["--zlib"], ["--protocol", "compact"]])
def test_verify_drives_a_mock_over_theader(served: Served, extra: list[str]) -> None:
    target = f"127.0.0.1:{served.port('users.Users')}"
    done = run(
        served.root,
        "verify",
        "idl",
        "--service",
        "Users",
        "--target",
        target,
        "--transport",
        "header",
        "--cases",
        "1",
        "--no-edges",
        *extra,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr.strip().endswith("7 case(s) in 7 method(s), ok"), done.stderr
    entry = last_entry(served.root)
    assert entry["framing"] == "header"
    assert entry["protocol"] == ("compact" if "compact" in extra else "binary")
    if "--zlib" in extra:
        assert entry["context"] == {"transport": "header", "transforms": ["zlib"]}


def test_verify_refuses_zlib_without_header(served: Served) -> None:
    target = f"127.0.0.1:{served.port('users.Users')}"
    done = run(served.root, "verify", "idl", "--service", "Users", "--target", target, "--zlib")
    assert done.returncode != 0
    assert "zlib needs the header framing" in done.stderr
    assert "Traceback" not in done.stderr
