"""Saving thriftbox.toml while `serve` runs: real services added, changed and removed are started, restarted and
stopped, the others keep running; a broken save is reported at thriftbox.toml:LINE:COL and changes nothing."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tests.docker_support import wait_until
from tests.real.support import ENVIRONMENT, ask, serve_here, thriftbox, write_app
from tests.serve_support import free_base_port


def real_rows(root: Path) -> dict[str, dict[str, str]]:
    rows = json.loads(thriftbox(root, "status", "--json").stdout)
    return {r["service"]: r for r in rows if r["kind"] == "real"}


def test_saving_the_project_file_applies_its_real_services(demo_project: Path) -> None:
    base = free_base_port()
    one, two = base + 45, base + 46
    write_app(demo_project / "frontend")
    head = f'[serve]\npaths = ["idl"]\nruntime = "process"\nport = {base}\n\n'

    def real(name: str, port: int, flag: str) -> str:
        return (
            f'[real.{name}]\nrun = ["{sys.executable}", "frontend/app.py", "{flag}"]\n'
            f'environment = {{ {ENVIRONMENT}, LISTEN_PORT = "{port}" }}\nports = ["{port}:{port}"]\n\n'
        )

    blip = f'[real.blip]\nrun = ["{sys.executable}", "-c", "print(\'blip ran\')"]\n\n'
    toml = demo_project / "thriftbox.toml"
    toml.write_text(head + blip + real("one", one, "v1"))
    with serve_here(demo_project) as served:
        assert ask(one)["argv"] == ["v1"]
        first_pid = real_rows(demo_project)["one"]["detail"]
        served.wait_for_output("real service blip exited (exit code 0)")

        toml.write_text(head + blip + real("one", one, "v1") + real("two", two, "v1"))
        served.wait_for_output("real service two started (added to thriftbox.toml)")
        assert "real service blip started again (it had exited)" in served.output()
        assert "real service one restarted" not in served.output()
        assert ask(two)["reply"]["name"] == "getUser"
        assert real_rows(demo_project)["one"]["detail"] == first_pid  # untouched

        toml.write_text(
            head + blip + real("one", one, "v1") + real("two", two, "v1") + "[real.three]\nimgae = 1\n"
        )
        out = served.wait_for_output("thriftbox.toml: not applied, nothing changed")
        assert "thriftbox.toml:20:1: unknown key in [real.three] 'imgae'" in out
        assert "did you mean 'image'?" in out
        assert set(real_rows(demo_project)) == {"blip", "one", "two"}

        toml.write_text(head + real("two", two, "v2"))
        served.wait_for_output("real service two restarted (changed in thriftbox.toml)")
        served.wait_for_output("real service one stopped (removed from thriftbox.toml)")
        wait_until(lambda: set(real_rows(demo_project)) == {"two"}, 10, "status shows two alone")
        assert ask(two)["argv"] == ["v2"]
        assert served.interrupt() in (0, 130)
