"""The public Python API: ``from thriftbox import serve, ServeConfig`` brings mocks up from a program."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.serve_support import REPO, free_base_port
from thriftbox.client.catalog import ThriftClient
from thriftbox.idl.classes import Classes
from thriftbox.project.ports import port_free

DOC = REPO / "docs" / "python-api.md"
EXAMPLE = REPO / "docs" / "examples" / "python-api" / "serve_demo.py"


def test_the_package_root_is_import_light_and_exports_the_api() -> None:
    code = (
        "import sys, thriftbox\n"
        "assert not [m for m in sys.modules if m.startswith('thriftbox.supervisor')], 'eager import'\n"
        "from thriftbox import ServeConfig, Session, ThriftboxError, __version__, serve\n"
        "print(serve.__name__, ServeConfig.__name__, Session.__name__, ThriftboxError.__name__, __version__)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split()[:4] == ["serve", "ServeConfig", "Session", "ThriftboxError"]
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", out.split()[4])


def test_a_program_serves_the_demo_and_leaves_nothing_running(tmp_path: Path) -> None:
    from thriftbox import ServeConfig, serve

    base = free_base_port()
    config = ServeConfig(
        paths=[REPO / "idl"],
        mocks_dir=REPO / "mocks",
        runtime="process",
        port=base,
        root=tmp_path,
        watch=False,
    )
    with serve(config) as session:
        assert session.runtime is not None
        assert session.runtime.name == "process"
        assert sorted(session.ports) == [
            "ads.Ads", "catalog.Catalog", "common.BaseService", "feed.Feed", "users.Users"
        ]  # fmt: skip
        assert session.catalog is not None
        classes = Classes(
            session.catalog
        )  # not thriftpy2.load: its include cache may hold another common.thrift
        with ThriftClient(classes, "users.Users", "127.0.0.1", session.ports["users.Users"]) as client:
            assert client.call("getUser", id=42).id == 42
        state = json.loads((tmp_path / ".thriftbox" / "state.json").read_text())
        assert state["admin_url"] == session.admin_url
        assert {m["service"] for m in state["mocks"]} == set(session.ports)
        ports = dict(session.ports)
    assert all(port_free("127.0.0.1", port) for port in ports.values())
    assert not (tmp_path / ".thriftbox" / "state.json").exists()


def test_the_documented_program_runs_as_documented(tmp_path: Path) -> None:
    text = DOC.read_text(encoding="utf-8")
    assert f"```python\n{EXAMPLE.read_text(encoding='utf-8')}```" in text  # the page shows the file as it is
    shown = text.split("```console\n$ python docs/examples/python-api/serve_demo.py\n", 1)[1].split("```")[0]
    for folder in ("idl", "mocks"):  # a copy: the run's .thriftbox/ports.json stays out of the checkout
        shutil.copytree(REPO / folder, tmp_path / folder)
    base = free_base_port()
    run = subprocess.run(
        [sys.executable, str(EXAMPLE), str(base)], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    # the doc shows the default ports (9090 up, the admin API on 9089); this run used others
    assert run.stdout.replace(f":{base - 1}", ":9089") == shown
