"""The CLI as a user meets it: help that explains, errors without tracebacks, exit codes scripts can use."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.serve_support import REPO, cli_env, serve, thriftbox_cmd
from thriftbox.cli.main import main
from thriftbox.control.client import request_json
from thriftbox.idl.model import match_service

COMMANDS = [
    "serve",
    "status",
    "check",
    "call",
    "logs",
    "down",
    "journal",
    "stubs",
    "reset",
    "verify",
    "breaking",
]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_explains_itself(command: str) -> None:
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0
    assert f" {command} [OPTIONS]" in result.output
    assert len(result.output.splitlines()) > 3


def test_top_level_help_lists_the_quick_start() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    assert "thriftbox serve idl/" in result.output
    for command in COMMANDS:
        assert command in result.output


def test_check_lists_services_and_methods_of_the_demo() -> None:
    result = CliRunner().invoke(main, ["check", str(REPO / "idl")])
    assert result.exit_code == 0, result.output
    assert "users.Users extends common.BaseService" in result.output
    assert "getUser(1: i64 id) throws (NotFound)" in result.output or "getUser(" in result.output


def test_a_broken_idl_is_path_line_col_with_the_line_and_a_hint(tmp_path: Path) -> None:
    (tmp_path / "u.thrift").write_text(
        "struct Address { 1: string city }\nstruct User {\n  9: Adress address,\n}\n"
    )
    proc = subprocess.run(
        thriftbox_cmd("check", "u.thrift"), cwd=tmp_path, env=cli_env(), capture_output=True, text=True
    )
    assert proc.returncode == 1
    assert "u.thrift:3:6: unknown type 'Adress'" in proc.stderr
    assert "9: Adress address," in proc.stderr  # the offending line
    assert "hint: did you mean 'Address'?" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_serving_a_missing_folder_is_a_usage_error(tmp_path: Path) -> None:
    proc = subprocess.run(
        thriftbox_cmd("serve", "nope/"), cwd=tmp_path, env=cli_env(), capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "nope/: no such file or folder" in proc.stderr  # as the user typed it
    assert "Traceback" not in proc.stderr


def test_urls_are_refused(tmp_path: Path) -> None:
    proc = subprocess.run(
        thriftbox_cmd("serve", "https://example.com/x.thrift"),
        cwd=tmp_path,
        env=cli_env(),
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "URLs are not served" in proc.stderr


def test_status_without_a_serve_exits_1_and_says_how_to_start(tmp_path: Path) -> None:
    proc = subprocess.run(
        thriftbox_cmd("status"), cwd=tmp_path, env=cli_env(), capture_output=True, text=True
    )
    assert proc.returncode == 1
    assert "thriftbox serve" in proc.stderr
    as_json = subprocess.run(
        thriftbox_cmd("status", "--json"), cwd=tmp_path, env=cli_env(), capture_output=True, text=True
    )
    assert as_json.returncode == 1
    assert json.loads(as_json.stdout) == []


def test_serve_status_call_journal_from_another_terminal(demo_project: Path) -> None:
    with serve(demo_project, ["idl"], "--mocks", "mocks") as served:
        status = subprocess.run(
            thriftbox_cmd("status", "--json"), cwd=demo_project, env=cli_env(), capture_output=True, text=True
        )
        assert status.returncode == 0, status.stderr
        rows = json.loads(status.stdout)
        assert {r["service"] for r in rows} >= {"users.Users", "catalog.Catalog", "feed.Feed", "ads.Ads"}
        for r in rows:
            assert {"service", "host", "port", "runtime", "state"} <= set(r)
            assert (r["state"], r["runtime"]) == ("ready", "process")

        call = subprocess.run(
            thriftbox_cmd("call", "Users.getUser", '{"id": 42}'),
            cwd=demo_project,
            env=cli_env(),
            capture_output=True,
            text=True,
        )
        assert call.returncode == 0, call.stderr
        user = json.loads(call.stdout)
        assert user["id"] == 42
        assert "@" in user["email"]

        again = subprocess.run(
            thriftbox_cmd("call", "users.Users.getUser", '{"id": 42}', "--protocol", "compact", "--framed"),
            cwd=demo_project,
            env=cli_env(),
            capture_output=True,
            text=True,
        )
        assert json.loads(again.stdout) == user  # reproducible, whatever the protocol

        bad = subprocess.run(
            thriftbox_cmd("call", "Users.getUsr", "{}"),
            cwd=demo_project,
            env=cli_env(),
            capture_output=True,
            text=True,
        )
        assert bad.returncode == 2
        assert "did you mean getUser" in bad.stderr

        journal = subprocess.run(
            thriftbox_cmd("journal", "Users.getUser", "--json"),
            cwd=demo_project,
            env=cli_env(),
            capture_output=True,
            text=True,
        )
        assert journal.returncode == 0, journal.stderr
        entries = [json.loads(line) for line in journal.stdout.splitlines()]
        assert [e["args"] for e in entries] == [{"id": 42}, {"id": 42}]
        assert [e["protocol"] for e in entries] == ["binary", "compact"]
        host_pid = int(rows[0]["detail"].split()[-1])  # "pid 1234": the mock host process
        assert Path(f"/proc/{host_pid}").exists()
        assert served.interrupt() == 0
    assert not Path(f"/proc/{host_pid}").exists()  # Ctrl-C left no process behind
    after = subprocess.run(
        thriftbox_cmd("status"), cwd=demo_project, env=cli_env(), capture_output=True, text=True
    )
    assert after.returncode == 1  # Ctrl-C stopped everything and said so


def test_call_exit_code_3_for_a_declared_exception(demo_project: Path) -> None:
    with serve(demo_project, ["idl"]) as served:
        port = served.port("users.Users")
        env = cli_env()
        rule = {"when": {"id": 404}, "throw": {"NotFound": {"message": "no user 404"}}}
        added = request_json(
            served.state()["admin_url"] + "/stubs",
            "POST",
            {"service": "Users", "method": "getUser", "rule": rule},
            token=served.state()["admin_token"],
        )
        assert added["id"]
        proc = subprocess.run(
            thriftbox_cmd("call", "Users.getUser", '{"id": 404}', "--address", f"127.0.0.1:{port}"),
            cwd=demo_project,
            env=env,
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 3, proc.stderr
        body = json.loads(proc.stdout)
        assert body["exception"] == "NotFound"
        assert body["value"]["message"] == "no user 404"


def test_match_service_accepts_ids_names_and_file_keys() -> None:
    ids = ["users.Users", "catalog.Catalog", "if/fb303.FacebookService"]
    assert match_service(ids, "users") == ["users.Users"]
    assert match_service(ids, "Users") == ["users.Users"]
    assert match_service(ids, "CATALOG") == ["catalog.Catalog"]
    assert match_service(ids, "if/fb303") == ["if/fb303.FacebookService"]
    assert match_service(ids, "nope") == []
