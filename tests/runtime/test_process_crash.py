"""kill -9 of `thriftbox serve` in the process runtime: its mock hosts and their workers go too (issue 16,
item 7), and the next `serve` in the folder starts."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.docker_support import wait_until
from tests.serve_support import cli_env, free_base_port, thriftbox_cmd

IDL = Path(__file__).parent / "docker_fixtures" / "idl"

pytestmark = pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads processes from /proc")


def descendants(pid: int) -> set[int]:
    found: set[int] = set()
    todo = [pid]
    while todo:
        current = todo.pop()
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                if child not in found:
                    found.add(child)
                    todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def start(root: Path, port: int) -> subprocess.Popen[str]:
    serve = subprocess.Popen(
        thriftbox_cmd(
            "serve", "idl", "--runtime", "process", "--port", str(port), "--workers", "2", "--no-watch"
        ),
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=cli_env(),
        text=True,
    )
    assert serve.stdout is not None
    for line in serve.stdout:
        if "admin API" in line:
            return serve
    serve.wait(5)
    raise AssertionError(f"serve exited with {serve.returncode}")


def test_a_killed_serve_takes_its_hosts_and_workers_with_it(tmp_path: Path) -> None:
    shutil.copytree(IDL, tmp_path / "idl")
    port = free_base_port(10)
    serve = start(tmp_path, port)
    children = descendants(serve.pid)
    assert len(children) >= 2, children  # a host, and its worker(s)
    os.kill(serve.pid, signal.SIGKILL)
    serve.wait(10)
    assert serve.stdout is not None
    serve.stdout.close()
    t0 = time.monotonic()
    wait_until(
        lambda: not any(alive(pid) for pid in children), 10, "hosts and workers of the killed serve gone"
    )
    print(f"\n{len(children)} host and worker processes gone {time.monotonic() - t0:.2f} s after kill -9")

    again = start(tmp_path, port)  # the folder is free again: no "already runs", no port held
    again.terminate()
    try:
        assert again.wait(15) == 0
    finally:
        if again.poll() is None:
            again.kill()
        assert again.stdout is not None
        again.stdout.close()


def test_a_large_host_log_is_rotated_when_a_host_starts(tmp_path: Path) -> None:
    from thriftbox.runtime.process import rotate

    log = tmp_path / "host.log"
    log.write_bytes(b"x" * 100)
    rotate(log, limit=1000)
    assert log.read_bytes() == b"x" * 100  # under the limit: left alone
    log.write_bytes(b"y" * 1000)
    (tmp_path / "host.log.1").write_bytes(b"old")
    rotate(log, limit=1000)
    assert not log.exists()
    assert (tmp_path / "host.log.1").read_bytes() == b"y" * 1000  # the older one replaced: two files at most
