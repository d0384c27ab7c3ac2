"""Hot reload end to end with the process runtime: `thriftbox serve --watch` in a project folder, files saved
the way editors save them, and real Thrift calls on the same ports before and after.

The helpers at the top are shared with ``test_reload_docker.py``.
"""

from __future__ import annotations

import errno
import json
import os
import re
import socket
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from thriftpy2.thrift import TApplicationException

from tests.serve_support import Served, cli_env, serve, thriftbox_cmd
from thriftbox.client.catalog import ThriftClient
from thriftbox.idl import load_catalog
from thriftbox.idl.classes import Classes
from thriftbox.supervisor.config import ServeConfig
from thriftbox.supervisor.session import Session

GREETER = "greeter.Greeter"
CLOCK = "clock.Clock"
TIMEOUT = 30.0  # generous: a loaded 2-core CI machine

SHARED = "struct Greeting {\n  1: string text\n}\n"
GREETER_V1 = """include "shared.thrift"

service Greeter {
  shared.Greeting hello(1: string name)
  string slow()
}
"""
GREETER_V2 = GREETER_V1.replace("  string slow()\n", "  string slow()\n  string bye(1: string name)\n")
GREETER_BROKEN = GREETER_V1.replace("string slow()", "string slow(")  # line 6: `}` where a field belongs
CLOCK_IDL = "service Clock {\n  i64 now()\n}\n"
STUBS_V1 = """service: Greeter
methods:
  hello: {return: {text: v1}}
"""


# -- shared helpers -------------------------------------------------------------------------------------------


def make_project(root: Path, stubs: str = STUBS_V1) -> Path:
    """Greeter (with an include), an unrelated Clock, and a stub file for Greeter."""
    (root / "idl").mkdir()
    (root / "mocks").mkdir()
    (root / "idl" / "shared.thrift").write_text(SHARED)
    (root / "idl" / "greeter.thrift").write_text(GREETER_V1)
    (root / "idl" / "clock.thrift").write_text(CLOCK_IDL)
    (root / "mocks" / "greeter.yaml").write_text(stubs)
    return root


def save_in_place(path: Path, text: str) -> None:
    """Truncate and write the file itself (nano, VS Code, most IDEs)."""
    with path.open("w") as fh:
        fh.write(text)


def save_by_rename(path: Path, text: str) -> None:
    """Write a temporary file beside it and rename it over the original (vim, emacs, JetBrains' safe write)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def save_three_writes(path: Path, text: str) -> None:
    """Three writes in quick succession, the first two of them incomplete (a formatter, an autosave)."""
    for part in (text[: len(text) // 3], text[: 2 * len(text) // 3], text):
        with path.open("w") as fh:
            fh.write(part)


def save_like_vim(path: Path, text: str) -> None:
    """Vim's default: probe file ``4913``, swap file, original renamed to a backup, new file written."""
    probe, swap, backup = (path.with_name(n) for n in ("4913", f".{path.name}.swp", path.name + "~"))
    probe.write_text("")
    probe.unlink()
    swap.write_bytes(b"b0VIM 9.0")
    os.replace(path, backup)
    path.write_text(text)
    backup.unlink()
    swap.unlink()


SAVES: dict[str, Callable[[Path, str], None]] = {
    "in-place": save_in_place,
    "rename": save_by_rename,
    "three-writes": save_three_writes,
    "vim": save_like_vim,
}


def client(root: Path, service_id: str, port: int) -> ThriftClient:
    """A client built from the IDL as it is on disk now (so it knows the methods a save added)."""
    classes = Classes(load_catalog([root / "idl"], [root / "ext"] if (root / "ext").is_dir() else []))
    return ThriftClient(classes, service_id, "127.0.0.1", port, timeout=TIMEOUT)


def call(root: Path, service_id: str, port: int, method: str, *args: Any) -> Any:
    with client(root, service_id, port) as c:
        return c.call(method, *args)


def count(served: Served, text: str) -> int:
    return served.output().count(text)


def wait_for_count(served: Served, text: str, n: int, timeout: float = TIMEOUT) -> str:
    """Wait until ``text`` was printed ``n`` times; fail if it is printed more often or serve dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = served.output()
        if out.count(text) >= n:
            assert out.count(text) == n, f"{text!r} printed {out.count(text)} times, expected {n}:\n{out}"
            return out
        assert served.proc.poll() is None, f"serve exited:\n{out}"
        time.sleep(0.05)
    raise AssertionError(f"{text!r} not printed {n} times within {timeout} s; output:\n{served.output()}")


def reload_lines(served: Served) -> list[str]:
    return [line for line in served.output().splitlines() if re.search(r"reload|started |stopped ", line)]


def refused(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(2)
        return s.connect_ex(("127.0.0.1", port)) != 0


def get_json(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return dict(json.loads(resp.read()))


# -- process runtime helpers ----------------------------------------------------------------------------------


@contextmanager
def served_project(root: Path) -> Iterator[Served]:
    with serve(root, ["idl"], "--watch", "--mocks", "mocks") as served:
        yield served


def host_health(served: Served) -> dict[str, Any]:
    """The mock host's /health (its control port is on its command line) plus its pid."""
    (pid,) = {row["detail"].removeprefix("pid ") for row in served.state()["mocks"]}
    args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    port = int(args[args.index(b"--control-port") + 1])
    return {**get_json(f"http://127.0.0.1:{port}/health"), "pid": pid}


# -- saving IDL -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("style", sorted(SAVES))
def test_a_saved_method_answers_on_the_same_port(tmp_path: Path, style: str) -> None:
    root = make_project(tmp_path)
    with served_project(root) as served:
        port, clock_port = served.port(GREETER), served.port(CLOCK)
        before = host_health(served)
        with client(root, GREETER, port) as opened_before:
            assert opened_before.call("hello", "ada").text == "v1"
            SAVES[style](root / "idl" / "greeter.thrift", GREETER_V2)
            wait_for_count(served, "reloaded greeter.Greeter (+bye) in ", 1)
            assert isinstance(call(root, GREETER, port, "bye", "ada"), str)
            assert opened_before.call("hello", "ada").text == "v1"  # the connection survived the reload
        assert served.port(GREETER) == port
        assert served.port(CLOCK) == clock_port
        assert isinstance(call(root, CLOCK, clock_port, "now"), int)
        after = host_health(served)
        assert after["pid"] == before["pid"]  # the same host process: reloaded in place
        assert after["service_reloads"] == {GREETER: 1, CLOCK: 0}  # Clock's mock was not rebuilt
        assert "reload failed" not in served.output()  # the incomplete writes never reached a reload
        assert len(reload_lines(served)) == 1


def test_a_running_call_finishes_with_the_old_definition(tmp_path: Path) -> None:
    slow = STUBS_V1 + "  slow: {return: old, latency_ms: 4000}\n"
    root = make_project(tmp_path, stubs=slow)
    with served_project(root) as served:
        port = served.port(GREETER)
        results: dict[str, Any] = {}
        sent = threading.Event()

        def slow_call() -> None:
            with client(root, GREETER, port) as c:
                sent.set()
                results["slow"] = c.call("slow")
                results["finished"] = time.monotonic()

        thread = threading.Thread(target=slow_call)
        thread.start()
        assert sent.wait(TIMEOUT)
        time.sleep(0.3)  # the request reaches the mock (it then sleeps 4 s)
        save_by_rename(root / "mocks" / "greeter.yaml", STUBS_V1 + "  slow: {return: new}\n")
        wait_for_count(served, "reloaded greeter.Greeter in ", 1)
        reloaded_at = time.monotonic()
        assert call(root, GREETER, port, "slow") == "new"  # the next call: the new stub, no latency
        thread.join(TIMEOUT)
        assert results["slow"] == "old"  # the running one: the stub it started with
        assert results["finished"] > reloaded_at


def test_a_broken_save_keeps_serving_and_says_where(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    greeter = root / "idl" / "greeter.thrift"
    with served_project(root) as served:
        port = served.port(GREETER)
        good = Classes(load_catalog([root / "idl"]))
        with client(root, GREETER, port) as opened_before:
            save_by_rename(greeter, GREETER_BROKEN)
            out = wait_for_count(served, "reload failed", 1)
            (line,) = [x for x in out.splitlines() if "reload failed" in x]
            assert "still serving the last good definitions" in line
            assert re.search(r"idl/greeter\.thrift:6:\d+: ", line), line
            assert opened_before.call("hello", "ada").text == "v1"
            with ThriftClient(good, GREETER, "127.0.0.1", port) as fresh:  # a new connection: still served
                assert fresh.call("slow") is not None
            save_in_place(greeter, GREETER_V2)  # the next good save goes live
            wait_for_count(served, "reloaded greeter.Greeter (+bye) in ", 1)
            assert isinstance(call(root, GREETER, port, "bye", "ada"), str)
            assert opened_before.call("hello", "ada").text == "v1"
        assert count(served, "reload failed") == 1  # printed once
        assert host_health(served)["service_reloads"] == {GREETER: 1, CLOCK: 0}


# -- stub files -----------------------------------------------------------------------------------------------


def test_a_stub_save_reloads_only_its_service_and_a_broken_one_changes_nothing(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    stubs = root / "mocks" / "greeter.yaml"
    with served_project(root) as served:
        port = served.port(GREETER)
        save_in_place(stubs, STUBS_V1.replace("hello:", "helo:"))  # no such method (line 3)
        out = wait_for_count(served, "reload failed", 1)
        (line,) = [x for x in out.splitlines() if "reload failed" in x]
        assert re.search(r"mocks/greeter\.yaml:3(:\d+)?: .*helo", line), line
        assert "hint: " in line
        assert call(root, GREETER, port, "hello", "ada").text == "v1"
        save_by_rename(stubs, STUBS_V1.replace("v1", "v2"))
        wait_for_count(served, "mocks/greeter.yaml: reloaded greeter.Greeter in ", 1)
        assert call(root, GREETER, port, "hello", "ada").text == "v2"
        assert host_health(served)["service_reloads"] == {GREETER: 1, CLOCK: 0}


def test_an_idl_save_that_breaks_a_stub_file_is_refused_with_the_stub_line(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    greeter = root / "idl" / "greeter.thrift"
    with served_project(root) as served:
        port = served.port(GREETER)
        save_by_rename(greeter, GREETER_V2.replace("hello(", "greet("))  # the stub file still says hello
        out = wait_for_count(served, "reload failed", 1)
        (line,) = [x for x in out.splitlines() if "reload failed" in x]
        assert "idl/greeter.thrift: reload failed" in line
        assert re.search(r"mocks/greeter\.yaml:3(:\d+)?: .*hello", line), line
        with client(root, GREETER, port) as c, pytest.raises(TApplicationException):
            c.call("greet", "ada")  # not served: the reload was refused as a whole
        save_by_rename(root / "mocks" / "greeter.yaml", STUBS_V1.replace("hello:", "greet:"))
        wait_for_count(served, "mocks/greeter.yaml: reloaded greeter.Greeter (+greet, +bye, -hello) in ", 1)
        assert call(root, GREETER, port, "greet", "ada").text == "v1"


def test_a_broken_stub_file_stops_serve_at_start_with_its_line(tmp_path: Path) -> None:
    import subprocess

    root = make_project(tmp_path, stubs=STUBS_V1 + "  nope: {return: 1}\n")
    proc = subprocess.run(
        thriftbox_cmd("serve", "idl", "--mocks", "mocks", "--runtime", "process"),
        cwd=root,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    assert re.search(r"mocks/greeter\.yaml:4(:\d+)?: .*nope", proc.stderr), proc.stderr
    assert "Traceback" not in proc.stderr


# -- services that come and go, includes ----------------------------------------------------------------------


def test_services_start_and_stop_with_their_files(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    with served_project(root) as served:
        clock_port = served.port(CLOCK)
        save_by_rename(root / "idl" / "weather.thrift", "service Weather {\n  double temperature()\n}\n")
        wait_for_count(served, "started weather.Weather in ", 1)
        weather_port = served.port("weather.Weather")
        assert weather_port not in (clock_port, served.port(GREETER))
        assert isinstance(call(root, "weather.Weather", weather_port, "temperature"), float)
        (root / "idl" / "clock.thrift").unlink()
        wait_for_count(served, "stopped clock.Clock in ", 1)
        assert refused(clock_port)
        assert CLOCK not in {row["service"] for row in served.state()["mocks"]}
        assert call(root, "weather.Weather", weather_port, "temperature") is not None
        assert host_health(served)["service_reloads"] == {GREETER: 0, "weather.Weather": 0}


def test_an_include_change_reloads_its_dependents_even_outside_the_served_folder(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    (root / "ext").mkdir()
    (root / "ext" / "extra.thrift").write_text("typedef string Name\n")
    save_in_place(
        root / "idl" / "greeter.thrift",
        GREETER_V1.replace('"shared.thrift"', '"shared.thrift"\ninclude "../ext/extra.thrift"'),
    )
    with served_project(root) as served:
        port = served.port(GREETER)
        save_by_rename(root / "idl" / "shared.thrift", SHARED.replace("}", "  2: i32 volume\n}"))
        wait_for_count(served, "reloaded greeter.Greeter (~hello) in ", 1)
        assert isinstance(call(root, GREETER, port, "hello", "ada").volume, int)
        save_by_rename(root / "ext" / "extra.thrift", "typedef string Name\nstruct Unused {}\n")
        wait_for_count(served, "ext/extra.thrift: reloaded greeter.Greeter in ", 1)
        assert host_health(served)["service_reloads"] == {GREETER: 2, CLOCK: 0}
        assert all("clock.Clock" not in line for line in reload_lines(served))


# -- the Session, without processes (a recording runtime) -----------------------------------------------------


class RecordingRuntime:
    """Records what a Session asks of it; the real runtimes are exercised above."""

    name = "recording"

    def __init__(self) -> None:
        self.started: list[str] = []
        self.reloads: list[tuple[list[str], list[str], list[str]]] = []

    def start(self, project: Any, mocks: Any) -> None:
        self.started = sorted(m.service_id for m in mocks)

    def control_urls(self) -> dict[str, str]:
        return {}

    def reload(self, reloaded: Any, started: Any, stopped: Any) -> None:
        self.reloads.append((sorted(reloaded), sorted(m.service_id for m in started), sorted(stopped)))

    def stop(self) -> None:
        pass

    def status(self) -> list[Any]:
        return []


@pytest.fixture
def recorded(tmp_path: Path) -> Iterator[tuple[Session, RecordingRuntime, list[str]]]:
    """A started Session over the project in tmp_path, with a recording runtime, and what it reported."""
    root = make_project(tmp_path)
    runtime = RecordingRuntime()
    lines: list[str] = []
    # watch=False: the tests start watching themselves (start() would, with the default)
    options = ServeConfig(
        paths=(root / "idl",), mocks_dir=root / "mocks", root=root, admin_port=0, watch=False
    )
    session = Session(options, report=lines.append, runtime=runtime)  # type: ignore[arg-type]
    session.start()
    assert runtime.started == [CLOCK, GREETER]
    try:
        yield session, runtime, lines
    finally:
        session.stop()


Recorded = tuple[Session, RecordingRuntime, list[str]]


def test_a_stub_file_reloads_the_services_of_its_old_and_its_new_content(recorded: Recorded) -> None:
    session, runtime, lines = recorded
    stubs = session.project.root / "mocks" / "greeter.yaml"
    stubs.write_text("service: Clock\nmethods:\n  now: {return: 7}\n")
    session.apply_changes({stubs})
    assert runtime.reloads == [([CLOCK, GREETER], [], [])]
    assert len(lines) == 1
    assert lines[0].startswith("mocks/greeter.yaml: reloaded clock.Clock, greeter.Greeter in ")


def test_changes_a_failed_reload_could_not_apply_go_live_with_the_next_good_save(recorded: Recorded) -> None:
    session, runtime, lines = recorded
    root = session.project.root
    stubs, clock = root / "mocks" / "greeter.yaml", root / "idl" / "clock.thrift"
    stubs.write_text(STUBS_V1.replace("v1", "v2"))
    clock.write_text(CLOCK_IDL.replace("now()", "now("))
    session.apply_changes({stubs, clock})
    assert runtime.reloads == []
    assert len(lines) == 1
    assert re.match(
        r"idl/clock\.thrift, mocks/greeter\.yaml: reload failed, .*idl/clock\.thrift:3:1: ", lines[0]
    )
    clock.write_text(CLOCK_IDL)  # fixed: the stub change made meanwhile must not be lost
    session.apply_changes({clock})
    assert runtime.reloads == [([CLOCK, GREETER], [], [])]
    assert lines[1].startswith("idl/clock.thrift: reloaded clock.Clock, greeter.Greeter in ")


def test_a_save_that_breaks_a_stub_file_starts_and_stops_nothing(recorded: Recorded) -> None:
    session, runtime, lines = recorded
    root = session.project.root
    greeter, weather = root / "idl" / "greeter.thrift", root / "idl" / "weather.thrift"
    greeter.write_text(GREETER_V1.replace("hello(", "greet("))  # mocks/greeter.yaml still stubs hello
    weather.write_text("service Weather {\n  double temperature()\n}\n")
    session.apply_changes({greeter, weather})
    assert runtime.reloads == []  # Weather did not start: a started mock cannot be taken back
    assert len(lines) == 1
    assert re.search(r"reload failed, .*mocks/greeter\.yaml:3(:\d+)?: .*hello", lines[0])


def test_files_that_cannot_change_what_is_served_are_ignored(recorded: Recorded) -> None:
    session, runtime, lines = recorded
    root = session.project.root
    (root / "idl" / "notes.json").write_text("{}")
    (root / "drafts").mkdir()
    (root / "drafts" / "draft.thrift").write_text(
        "service Draft {}\n"
    )  # served by nobody, included by nothing
    state = root / ".thriftbox" / "ports.json"
    assert state.is_file()
    session.apply_changes({root / "idl" / "notes.json", root / "drafts" / "draft.thrift", state})
    assert (runtime.reloads, lines) == ([], [])


def test_serve_reports_when_watching_falls_back_to_polling(
    recorded: Recorded, monkeypatch: pytest.MonkeyPatch
) -> None:
    def exhausted(*_: object, **__: object) -> None:
        raise OSError(errno.ENOSPC, "inotify watch limit reached")

    monkeypatch.setattr("thriftbox.supervisor.watch.Observer.start", exhausted)
    session, _, lines = recorded
    session.start_watching()
    assert len(lines) == 1
    assert "polling" in lines[0]
    assert "inotify" in lines[0]
