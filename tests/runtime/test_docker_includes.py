"""Includes that reach outside the served folders, with `thriftbox serve --runtime docker` and a real engine: their
folders are mounted too, and a save that adds one recreates the container that needs it, and only that one.

The project, the editor saves and the helpers are those of ``tests/supervisor/test_reload_process.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.serve_support import serve
from tests.supervisor.test_reload_process import (
    CLOCK,
    CLOCK_IDL,
    GREETER,
    GREETER_V1,
    call,
    make_project,
    save_by_rename,
    wait_for_count,
)

pytestmark = pytest.mark.docker

GREETER_WITH_EXTRA = GREETER_V1.replace(
    '"shared.thrift"\n', '"shared.thrift"\ninclude "../ext/extra.thrift"\n'
).replace("  string slow()\n", "  string slow()\n  extra.Name whoami()\n")
CLOCK_WITH_UNITS = 'include "../units/units.thrift"\n\n' + CLOCK_IDL.replace(
    "  i64 now()\n", "  i64 now()\n  units.Celsius temperature()\n"
)


def container(engine: Any, served: Any, service_id: str) -> dict[str, Any]:
    row = next(r for r in served.state()["mocks"] if r["service"] == service_id)
    return dict(engine.api.inspect_container(row["extra"]["container"]))


def mounts(info: dict[str, Any]) -> set[tuple[str, bool]]:
    """(folder, writable) of every mount of the project's folders; each is mounted at its own path. (The host's
    state folder, mounted writable at /thriftbox/state, is left out.)"""
    folders = [m for m in info["Mounts"] if m["Destination"] != "/thriftbox/state"]
    assert all(m["Source"] == m["Destination"] for m in folders)
    return {(m["Destination"], m["RW"]) for m in folders}


def test_include_folders_are_mounted_and_a_save_that_adds_one_recreates_only_its_container(
    tmp_path: Path, engine: Any
) -> None:
    root = make_project(tmp_path)
    (root / "ext").mkdir()
    (root / "ext" / "extra.thrift").write_text("typedef string Name\n")
    (root / "idl" / "greeter.thrift").write_text(GREETER_WITH_EXTRA)
    (root / "units").mkdir()
    (root / "units" / "units.thrift").write_text("typedef double Celsius\n")
    idl, ext, stubs, units = (str((root / d).resolve()) for d in ("idl", "ext", "mocks", "units"))

    with serve(root, ["idl"], "--watch", "--mocks", "mocks", "--runtime", "docker", timeout=180) as served:
        # at start: ext/ is mounted, so the include is found inside the containers
        assert isinstance(call(root, GREETER, served.port(GREETER), "whoami"), str)
        greeter, clock = container(engine, served, GREETER), container(engine, served, CLOCK)
        assert mounts(greeter) == mounts(clock) == {(idl, False), (stubs, False), (ext, False)}

        # a save adds an include from units/: Clock's container is recreated with it; Greeter's is left alone
        save_by_rename(root / "idl" / "clock.thrift", CLOCK_WITH_UNITS)
        wait_for_count(served, "idl/clock.thrift: reloaded clock.Clock (+temperature) in ", 1)
        assert isinstance(call(root, CLOCK, served.port(CLOCK), "temperature"), float)
        clock_after, greeter_after = container(engine, served, CLOCK), container(engine, served, GREETER)
        assert clock_after["Id"] != clock["Id"]
        assert mounts(clock_after) == {(idl, False), (stubs, False), (ext, False), (units, False)}
        assert (greeter_after["Id"], greeter_after["State"]["StartedAt"]) == (
            greeter["Id"],
            greeter["State"]["StartedAt"],
        )
        assert "reload failed" not in served.output()
