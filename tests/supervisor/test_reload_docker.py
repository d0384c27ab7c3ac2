"""Hot reload end to end with the Docker runtime: `thriftbox serve --runtime docker` watches on this machine and
tells the affected container to re-read its (mounted) files; containers are recreated only when they must be.

The project, the editor saves and the helpers are those of ``tests/supervisor/test_reload_process.py``.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.serve_support import Served, serve
from tests.supervisor.test_reload_process import (
    CLOCK,
    GREETER,
    GREETER_BROKEN,
    GREETER_V1,
    GREETER_V2,
    STUBS_V1,
    TIMEOUT,
    call,
    client,
    get_json,
    make_project,
    refused,
    save_by_rename,
    save_in_place,
    wait_for_count,
)

pytestmark = pytest.mark.docker


@contextmanager
def served_in_docker(root: Path) -> Iterator[Served]:
    with serve(root, ["idl"], "--watch", "--mocks", "mocks", "--runtime", "docker", timeout=180) as served:
        yield served


def containers(served: Served, engine: Any) -> dict[str, dict[str, Any]]:
    """Per service: its container's id and start time (a restart changes it), and its host's /health."""
    out = {}
    for row in served.state()["mocks"]:
        info = engine.api.inspect_container(row["extra"]["container"])
        out[row["service"]] = {
            "id": info["Id"],
            "started": info["State"]["StartedAt"],
            "health": get_json(row["extra"]["control"] + "/health"),
        }
    return out


def test_saves_reload_the_container_in_place_and_leave_the_others_alone(tmp_path: Path, engine: Any) -> None:
    root = make_project(tmp_path, stubs=STUBS_V1 + "  slow: {return: old, latency_ms: 4000}\n")
    greeter, stubs = root / "idl" / "greeter.thrift", root / "mocks" / "greeter.yaml"
    with served_in_docker(root) as served:
        port, clock_port = served.port(GREETER), served.port(CLOCK)
        before = containers(served, engine)
        with client(root, GREETER, port) as opened_before:
            assert opened_before.call("hello", "ada").text == "v1"

            # a new method: answers on the same port, in the same container
            save_by_rename(greeter, GREETER_V2)
            wait_for_count(served, "idl/greeter.thrift: reloaded greeter.Greeter (+bye) in ", 1)
            assert isinstance(call(root, GREETER, port, "bye", "ada"), str)
            assert opened_before.call("hello", "ada").text == "v1"

            # a broken save: reported with its line, the container keeps serving the last good definitions
            save_by_rename(greeter, GREETER_BROKEN)
            out = wait_for_count(served, "reload failed", 1)
            (line,) = [x for x in out.splitlines() if "reload failed" in x]
            assert re.search(r"idl/greeter\.thrift:6:\d+: ", line), line
            assert opened_before.call("hello", "ada").text == "v1"
            save_in_place(
                greeter, GREETER_V2.replace("  string bye", "  string ciao(1: string name)\n  string bye")
            )
            wait_for_count(served, "idl/greeter.thrift: reloaded greeter.Greeter (+ciao) in ", 1)
            assert isinstance(call(root, GREETER, port, "ciao", "ada"), str)

            # a stub save while a slow call runs: that call finishes with the old stub, the next gets the new
            results: dict[str, Any] = {}
            sent = threading.Event()

            def slow_call() -> None:
                with client(root, GREETER, port) as c:
                    sent.set()
                    results["slow"] = c.call("slow")

            thread = threading.Thread(target=slow_call)
            thread.start()
            assert sent.wait(TIMEOUT)
            time.sleep(0.3)  # the request reaches the mock (it then sleeps 4 s)
            save_by_rename(stubs, STUBS_V1.replace("v1", "v2") + "  slow: {return: new}\n")
            wait_for_count(served, "mocks/greeter.yaml: reloaded greeter.Greeter in ", 1)
            assert call(root, GREETER, port, "slow") == "new"
            assert thread.is_alive()  # still running, with the old definition
            thread.join(TIMEOUT)
            assert results["slow"] == "old"
            assert opened_before.call("hello", "ada").text == "v2"  # the old connection, the new stub

        after = containers(served, engine)
        assert (served.port(GREETER), served.port(CLOCK)) == (port, clock_port)
        for sid in (GREETER, CLOCK):  # neither container was recreated or restarted
            assert (after[sid]["id"], after[sid]["started"]) == (before[sid]["id"], before[sid]["started"])
        assert after[GREETER]["health"]["reloads"] == 3  # the broken save never reached it
        assert after[CLOCK]["health"]["reloads"] == 0  # never told to reload
        assert served.output().count("reload failed") == 1


def test_a_new_file_starts_a_container_and_a_deleted_one_removes_it(tmp_path: Path, engine: Any) -> None:
    root = make_project(tmp_path)
    with served_in_docker(root) as served:
        clock_port = served.port(CLOCK)
        before = containers(served, engine)
        save_by_rename(root / "idl" / "weather.thrift", "service Weather {\n  double temperature()\n}\n")
        wait_for_count(served, "started weather.Weather in ", 1)
        weather_port = served.port("weather.Weather")
        assert isinstance(call(root, "weather.Weather", weather_port, "temperature"), float)
        clock_container = before[CLOCK]["id"]
        (root / "idl" / "clock.thrift").unlink()
        wait_for_count(served, "stopped clock.Clock in ", 1)
        assert refused(clock_port)
        assert clock_container not in {c.id for c in engine.containers.list(all=True)}
        after = containers(served, engine)
        assert sorted(after) == [GREETER, "weather.Weather"]
        assert after[GREETER]["id"] == before[GREETER]["id"]
        assert after[GREETER]["health"]["reloads"] == 0
        (root / "idl" / "greeter.thrift").write_text(GREETER_V1.replace("slow()", "slow(1: i32 ms)"))
        wait_for_count(served, "reloaded greeter.Greeter (~slow) in ", 1)
        assert call(root, GREETER, served.port(GREETER), "slow", 5) is not None
