"""`serve --workers N`: several processes answer each mock's port (for load tests) and look like one mock.

Real `serve` subprocesses, real Thrift connections; the processes are found through /proc.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from thriftpy2.thrift import TApplicationException

from tests.serve_support import REPO, Served, cli_env, free_base_port, serve, thriftbox_cmd
from thriftbox.client.catalog import ThriftClient
from thriftbox.control.client import request_json
from thriftbox.host.config import HostConfig
from thriftbox.host.process import MockHost
from thriftbox.idl import load_catalog
from thriftbox.idl.classes import Classes

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds processes via /proc")

TIMEOUT = 30.0


def host_pid(served: Served) -> int:
    (detail,) = {row["detail"] for row in served.state()["mocks"]}
    match = re.fullmatch(r"pid (\d+) \(x(\d+)\)", detail)
    assert match, detail
    return int(match[1])


def children(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_until(check: Any, what: str, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout} s: {what}")


def admin(served: Served, path: str, method: str = "GET", body: Any = None) -> Any:
    state = served.state()
    return request_json(state["admin_url"] + path, method, body, token=state["admin_token"])


@contextmanager
def connections(served: Served, service: str = "users.Users", n: int = 4) -> Iterator[list[Any]]:
    """``n`` connections to ``service`` (consecutive connections go to different processes), with clients
    built from the IDL as it is on disk now."""
    classes = Classes(load_catalog([served.root / "idl"]))
    port = served.port(service)
    opened = [ThriftClient(classes, service, "127.0.0.1", port) for _ in range(n)]
    try:
        yield opened
    finally:
        for c in opened:
            c.close()


@pytest.fixture
def clients(served: Served) -> Iterator[list[Any]]:
    with connections(served) as opened:
        yield opened


def project(root: Path) -> Path:
    shutil.copytree(REPO / "idl", root / "idl")
    shutil.copytree(REPO / "mocks", root / "mocks")
    return root


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = project(tmp_path_factory.mktemp("workers"))
    with serve(root, ["idl"], "--mocks", "mocks", "--workers", "2") as s:
        yield s


def test_every_process_answers_with_the_same_data(served: Served, clients: list[Any]) -> None:
    pid = host_pid(served)
    assert len(children(pid)) == 1  # the host process and one worker
    admin(served, "/journal", "DELETE")
    answers = [c.getUser(7) for c in clients]
    assert all(a == answers[0] for a in answers)  # whichever process answers: the same seed, the same data
    assert answers[0].id == 7
    entries = admin(served, "/journal?service=Users")["entries"]
    assert [e["args"] for e in entries] == [{"id": 7}] * 4
    ids = [e["id"] for e in entries]
    assert len(set(ids)) == 4  # unique across the processes
    assert {i % 2 for i in ids} == {0, 1}  # ids end in the process that answered: both did


def test_the_journal_cursor_covers_every_process(served: Served, clients: list[Any]) -> None:
    clients[0].getUser(1)
    cursor = admin(served, "/journal")["cursor"]
    for i, c in enumerate(clients):
        c.getUser(100 + i)
    newer = admin(served, f"/journal?since={cursor}")
    assert sorted(e["args"]["id"] for e in newer["entries"]) == [100, 101, 102, 103]
    assert admin(served, f"/journal?since={newer['cursor']}")["entries"] == []


def test_run_time_stubs_reach_every_process(served: Served, clients: list[Any]) -> None:
    rule = {"when": {"id": 4242}, "return": {"handle": "everywhere"}}
    added = admin(served, "/stubs", "POST", {"service": "Users", "method": "getUser", "rule": rule})
    try:
        assert [c.getUser(4242).handle for c in clients] == ["everywhere"] * 4
    finally:
        admin(served, "/stubs/" + added["id"], "DELETE")
    assert all(c.getUser(4242).handle != "everywhere" for c in clients)
    err = {"when": {"id": 5}, "app_error": {"type": "INTERNAL_ERROR", "message": "db down"}}
    added = admin(served, "/stubs", "POST", {"service": "Users", "method": "getUser", "rule": err})
    try:
        for c in clients:
            with pytest.raises(TApplicationException):
                c.getUser(5)
    finally:
        admin(served, "/stubs/" + added["id"], "DELETE")


def test_clearing_the_journal_clears_every_process(served: Served, clients: list[Any]) -> None:
    for c in clients:
        c.getUser(9)
    admin(served, "/journal", "DELETE")
    assert admin(served, "/journal")["entries"] == []


def test_a_worker_that_dies_is_replaced_with_the_run_time_stubs(served: Served) -> None:
    pid = host_pid(served)
    (worker,) = children(pid)
    log = served.root / ".thriftbox" / "logs" / "host.log"
    rule = {"when": {"id": 31}, "return": {"handle": "survivor"}}
    added = admin(served, "/stubs", "POST", {"service": "Users", "method": "getUser", "rule": rule})
    with connections(served) as before:
        for c in before:
            c.getUser(30)
    cursor = admin(served, "/journal")["cursor"]
    seen = {e["id"] for e in admin(served, "/journal")["entries"]}
    try:
        readied = log.read_text().count("worker 1 (pid")
        os.kill(worker, signal.SIGKILL)
        wait_until(lambda: len(children(pid) - {worker}) == 1, "a new worker process")
        wait_until(lambda: log.read_text().count("worker 1 (pid") > readied, "the new worker is ready")
        assert "worker 1 exited" in log.read_text()
        with connections(served) as fresh:
            assert [c.getUser(3).id for c in fresh] == [3] * 4
            assert [c.getUser(31).handle for c in fresh] == ["survivor"] * 4  # the stub reached the new one
        newer = admin(served, f"/journal?since={cursor}")["entries"]  # a cursor from before still sees it all
        assert sorted(e["args"]["id"] for e in newer) == [3] * 4 + [31] * 4
        assert not seen & {e["id"] for e in newer}  # and no id comes back
    finally:
        admin(served, "/stubs/" + added["id"], "DELETE")
    assert host_pid(served) == pid  # the host itself was not restarted


def test_ctrl_c_and_a_killed_host_leave_no_worker_behind(tmp_path: Path) -> None:
    root = project(tmp_path)
    with serve(root, ["idl"], "--mocks", "mocks", "--workers", "3") as served:
        first = host_pid(served)
        first_workers = children(first)
        assert len(first_workers) == 2
        os.kill(first, signal.SIGKILL)  # the host crashes: its workers must not linger
        for w in first_workers:
            wait_until(lambda w=w: not alive(w), f"worker {w} of the killed host exits")
        served.wait_for_output("restarted", timeout=TIMEOUT)
        wait_until(lambda: host_pid(served) != first, "serve records the new host")  # after it says so
        second = host_pid(served)
        second_workers = children(second)
        assert len(second_workers) == 2
        assert served.interrupt() == 0
    for pid in {second, *second_workers}:
        wait_until(lambda pid=pid: not alive(pid), f"process {pid} exits after Ctrl-C", timeout=10)


def test_ctrl_c_in_a_terminal_stops_every_process_without_restarting_workers(tmp_path: Path) -> None:
    root = project(tmp_path)
    cmd = thriftbox_cmd("serve", "idl", "--runtime", "process", "--no-watch", "--workers", "3")
    cmd += ["--port", str(free_base_port())]
    with (root / "serve.log").open("w") as out:
        proc = subprocess.Popen(  # its own process group, as a terminal's foreground job
            cmd, cwd=root, env=cli_env(), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    served = Served(proc, root, root / "serve.log")
    try:
        served.wait_for_output("Ctrl-C to stop", timeout=TIMEOUT)
        pid = host_pid(served)
        workers = children(pid)
        assert len(workers) == 2
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does: every process of the group gets it
        assert proc.wait(timeout=TIMEOUT) == 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    for p in {pid, *workers}:
        wait_until(lambda p=p: not alive(p), f"process {p} exits", timeout=10)
    assert "starting another" not in (root / ".thriftbox" / "logs" / "host.log").read_text()


def test_a_reload_reaches_every_process(tmp_path: Path) -> None:
    root = project(tmp_path)
    with serve(root, ["idl"], "--mocks", "mocks", "--workers", "2", "--watch") as served:
        users = root / "idl" / "users.thrift"
        text = users.read_text()
        assert "service Users extends common.BaseService {" in text
        users.write_text(
            text.replace(
                "service Users extends common.BaseService {",
                "service Users extends common.BaseService {\n  string motto(1: i64 id)",
            )
        )
        served.wait_for_output("users.Users (+motto)", timeout=TIMEOUT)
        with connections(served) as opened:
            mottos = [c.motto(1) for c in opened]
        assert all(isinstance(m, str) and m for m in mottos)
        assert len(set(mottos)) == 1

        (root / "idl" / "extra.thrift").write_text("service Extra {\n  i64 answer()\n}\n")
        served.wait_for_output("started extra.Extra", timeout=TIMEOUT)
        (worker,) = children(host_pid(served))
        os.kill(worker, signal.SIGKILL)  # its replacement must serve the service the reload started
        log = root / ".thriftbox" / "logs" / "host.log"
        wait_until(lambda: log.read_text().count("worker 1 (pid") >= 2, "the new worker is ready")
        with connections(served, "extra.Extra") as extra:
            assert all(isinstance(c.answer(), int) for c in extra)


def test_a_worker_that_hangs_is_killed_and_replaced(served: Served) -> None:
    pid = host_pid(served)
    (worker,) = children(pid)
    os.kill(worker, signal.SIGSTOP)  # it takes connections it never answers, and changes it never takes
    try:
        rule = {"when": {"id": 77}, "return": {"handle": "after-the-hang"}}
        t0 = time.monotonic()
        body = {"service": "Users", "method": "getUser", "rule": rule}
        state = served.state()
        added = request_json(
            state["admin_url"] + "/stubs", "POST", body, timeout=60, token=state["admin_token"]
        )
        assert time.monotonic() - t0 < 20  # the change did not wait on it for long
        wait_until(lambda: not alive(worker), "the hung worker is killed")
        wait_until(lambda: len(children(pid) - {worker}) == 1, "a new worker process")
    finally:
        if alive(worker):
            os.kill(worker, signal.SIGCONT)
    log = served.root / ".thriftbox" / "logs" / "host.log"
    wait_until(lambda: "did not take POST /stubs" in log.read_text(), "the log says why")
    try:
        wait_until(lambda: admin_health_workers(served) == 2, "the new worker takes connections")
        with connections(served) as fresh:
            assert [c.getUser(77).handle for c in fresh] == ["after-the-hang"] * 4
    finally:
        admin(served, "/stubs/" + added["id"], "DELETE")


def admin_health_workers(served: Served) -> int:
    """How many processes of the host take connections now (its control endpoint's /health)."""
    args = Path(f"/proc/{host_pid(served)}/cmdline").read_bytes().split(b"\0")
    port = int(args[args.index(b"--control-port") + 1])
    return int(request_json(f"http://127.0.0.1:{port}/health")["workers"])


def test_a_worker_starting_during_a_reload_starts_again_with_it(tmp_path: Path) -> None:
    root = project(tmp_path)
    with serve(root, ["idl"], "--mocks", "mocks", "--workers", "2", "--watch") as served:
        pid = host_pid(served)
        (worker,) = children(pid)
        os.kill(worker, signal.SIGKILL)
        wait_until(lambda: len(children(pid) - {worker}) == 1, "a new worker process")
        # it is loading the files as they were; the reload reaches the host before it is ready
        (root / "idl" / "extra.thrift").write_text("service Extra {\n  i64 answer()\n}\n")
        served.wait_for_output("started extra.Extra", timeout=TIMEOUT)
        wait_until(lambda: admin_health_workers(served) == 2, "a worker takes connections again")
        with connections(served, "extra.Extra") as extra:
            assert all(isinstance(c.answer(), int) for c in extra)  # no connection lands on a stale worker


def test_a_slot_whose_worker_cannot_start_is_filled_after_the_next_good_reload(tmp_path: Path) -> None:
    root = project(tmp_path)
    with serve(root, ["idl"], "--mocks", "mocks", "--workers", "2", "--watch") as served:
        pid = host_pid(served)
        log = root / ".thriftbox" / "logs" / "host.log"
        users = root / "idl" / "users.thrift"
        good = users.read_text()
        users.write_text(good.replace("service Users", "service Users {", 1))  # a syntax error
        served.wait_for_output("reload failed", timeout=TIMEOUT)  # the running mocks keep the good version
        (worker,) = children(pid)
        os.kill(worker, signal.SIGKILL)  # its replacement reads the broken file and cannot start
        wait_until(lambda: "before it was ready; not replaced" in log.read_text(), "the slot stays empty")
        assert admin_health_workers(served) == 1
        users.write_text(good + "\n// fixed\n")
        wait_until(lambda: admin_health_workers(served) == 2, "a worker in the slot again", timeout=TIMEOUT)
        with connections(served) as fresh:
            assert [c.getUser(2).id for c in fresh] == [2] * 4


def test_a_worker_given_a_rule_it_has_keeps_one_copy(tmp_path: Path) -> None:
    (tmp_path / "users.thrift").write_text("service Users {\n  string name(1: i64 id)\n}\n")
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)

    async def scenario() -> list[dict[str, Any]]:
        config = HostConfig(idl_dirs=(tmp_path,), services={"users.Users": 0}, worker_channel=theirs.detach())
        host = MockHost(config)  # a worker process's host, in this process
        await host.start()
        try:
            url = f"http://127.0.0.1:{host.control.port}/stubs"
            rule = {"service": "Users", "method": "name", "rule": {"return": "x"}, "id": "api:7"}
            for _ in range(2):  # a catch-up copied it, then the change itself arrives
                await asyncio.to_thread(request_json, url, "POST", rule)
            return list(await asyncio.to_thread(request_json, url))
        finally:
            await host.close()

    try:
        rules = asyncio.run(scenario())
    finally:
        ours.close()
    assert [r["id"] for r in rules if r["source"] == "api"] == ["api:7"]
