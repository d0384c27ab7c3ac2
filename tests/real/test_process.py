"""A real service (`run =`) beside the mocks in the process runtime: it reaches a mock through {users.Users},
answers its own port, shows in status and logs, an exit is reported with its last lines, Ctrl-C leaves nothing."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from tests.docker_support import wait_until
from tests.real.support import ENVIRONMENT, ask, serve_here, thriftbox, write_app
from tests.serve_support import free_base_port


def test_a_run_service_reaches_a_mock_and_goes_with_ctrl_c(demo_project: Path) -> None:
    base = free_base_port()
    web = base + 45
    write_app(demo_project / "frontend")
    (demo_project / "thriftbox.toml").write_text(
        f'[serve]\npaths = ["idl"]\nruntime = "process"\nwatch = false\nport = {base}\n\n'
        f"[real.frontend]\n"
        f'run = ["{sys.executable}", "app.py", "--users={{users.Users}}"]\n'
        f'working_dir = "frontend"\n'
        f'environment = {{ {ENVIRONMENT}, LISTEN_PORT = "{web}" }}\n'
        f'ports = ["{web}:{web}"]\n\n'
        f"[real.crashy]\n"
        f'run = ["{sys.executable}", "-c", "print(\'no config for {{ads.Ads}}\'); raise SystemExit(3)"]\n'
    )
    with serve_here(demo_project) as served:
        users = served.port("users.Users")
        assert "5 service(s) served in" in served.output()
        assert "and 2 real service(s)" in served.output()
        answer = ask(web)
        assert answer["addr"] == f"127.0.0.1:{users}"
        assert (answer["host"], answer["port"]) == ("127.0.0.1", str(users))
        assert answer["argv"] == [f"--users=127.0.0.1:{users}"]
        assert answer["reply"] == {"type": 2, "name": "getUser", "seqid": 7}  # a REPLY from the mock
        out = served.wait_for_output("real service crashy exited (exit code 3); not restarted")
        assert f"no config for 127.0.0.1:{served.port('ads.Ads')}" in out

        status = thriftbox(demo_project, "status", "--json")
        rows = {r["service"]: r for r in json.loads(status.stdout) if r["kind"] == "real"}
        assert rows["frontend"]["state"] == "running"
        assert rows["frontend"]["port"] == web
        assert rows["crashy"]["state"] == "exited (3)"
        assert any(r["kind"] == "mock" and r["service"] == "users.Users" for r in json.loads(status.stdout))
        table = thriftbox(demo_project, "status").stdout
        assert "frontend (real)" in table
        logs = thriftbox(demo_project, "logs", "frontend")
        assert f"frontend listening on {web}, calling users at 127.0.0.1:{users}" in logs.stdout
        pid = int(rows["frontend"]["detail"].removeprefix("pid "))
        assert served.interrupt() in (0, 130)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not (demo_project / ".thriftbox" / "state.json").exists()


def test_a_run_service_dies_with_a_killed_serve(demo_project: Path) -> None:
    (demo_project / "thriftbox.toml").write_text(
        f'[serve]\npaths = ["idl"]\nruntime = "process"\nwatch = false\nport = {free_base_port()}\n\n'
        f'[real.sleeper]\nrun = ["{sys.executable}", "-c", "import time; time.sleep(600)"]\n'
    )
    with serve_here(demo_project) as served:
        rows = json.loads(thriftbox(demo_project, "status", "--json").stdout)
        pid = int(next(r for r in rows if r["kind"] == "real")["detail"].removeprefix("pid "))
        served.proc.kill()  # SIGKILL: no cleanup of its own runs
        served.proc.wait(timeout=10)
        wait_until(lambda: not alive(pid), 10, "the real service died with serve")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
