"""``thriftbox serve --runtime docker`` as a user runs it: three containers answer Apache Thrift's own Python
client on every method, a container killed by hand comes back (and serve says so), and Ctrl-C leaves nothing."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.docker_support import leftovers, mock_image
from tests.serve_support import serve
from thriftbox.idl import load_catalog
from thriftbox.project.layout import project_name

pytestmark = [
    pytest.mark.docker,
    pytest.mark.skipif(shutil.which("thrift") is None, reason="Apache's compiler (thrift) is not installed"),
]

IDL = Path(__file__).parent / "docker_fixtures" / "idl"
CALLER = Path(__file__).resolve().parents[1] / "apache_caller.py"


def apache_calls(gen: Path, service: str, port: int, protocol: str, framing: str) -> dict[str, str]:
    """Every method of ``service`` called by Apache's library; method -> "ok" or what was wrong."""
    proc = subprocess.run(
        [sys.executable, str(CALLER), str(gen), service, "127.0.0.1", str(port), protocol, framing],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return dict(json.loads(proc.stdout))


def test_serve_in_containers_answers_apache_clients_and_ctrl_c_leaves_nothing(
    engine: Any, tmp_path: Path
) -> None:
    shutil.copytree(IDL, tmp_path / "idl")
    gen = tmp_path / "gen"
    gen.mkdir()
    for idl_file in sorted((tmp_path / "idl").glob("*.thrift")):
        subprocess.run(["thrift", "-r", "--gen", "py", "-out", str(gen), str(idl_file)], check=True)
    catalog = load_catalog([tmp_path / "idl"])
    label = f"thriftbox.project={project_name(tmp_path)}"

    with serve(tmp_path, ["idl"], "--runtime", "docker", "--base-image", mock_image().base) as served:
        assert served.state()["runtime"] == "docker"
        containers = leftovers(engine, label)
        # one per service, the session's reaper and the project network
        assert len(containers) == len(catalog.services) + 2
        assert sum("-reaper-" in name for name in containers) == 1
        for svc in catalog.services.values():
            for protocol, framing in (("binary", "buffered"), ("compact", "framed")):
                results = apache_calls(gen, svc.name, served.port(svc.id), protocol, framing)
                assert set(results) == set(svc.methods)
                assert {m: r for m, r in results.items() if r != "ok"} == {}, f"{svc.id} {protocol}/{framing}"

        users = engine.containers.get(f"thriftbox-{project_name(tmp_path)}-users-users")
        users.kill()
        served.wait_for_output("users.Users: container exited (137), restarted", timeout=20)
        results = apache_calls(gen, "Users", served.port("users.Users"), "binary", "buffered")
        assert set(results.values()) == {"ok"}

        served.interrupt()
    assert leftovers(engine, label) == []


def test_workers_share_a_containers_port_and_reload_together(engine: Any, tmp_path: Path) -> None:
    from thriftbox.client.catalog import ThriftClient
    from thriftbox.control.client import request_json
    from thriftbox.idl.classes import Classes

    shutil.copytree(IDL, tmp_path / "idl")
    (tmp_path / "idl" / "orders.thrift").unlink()  # two containers are enough here
    (tmp_path / "idl" / "billing.thrift").unlink()
    classes = Classes(load_catalog([tmp_path / "idl"]))
    label = f"thriftbox.project={project_name(tmp_path)}"
    args = ("--runtime", "docker", "--base-image", mock_image().base, "--workers", "2", "--watch")
    with serve(tmp_path, ["idl"], *args) as served:
        users = engine.containers.get(f"thriftbox-{project_name(tmp_path)}-users-users")
        commands = [p[-1] for p in users.top()["Processes"]]  # docker-init, then what it runs
        hosts = [c for c in commands if "-m thriftbox host" in c and "docker-init" not in c]
        assert len(hosts) == 2, commands  # the host and its worker, in the one container
        assert sum("--worker-channel" in c for c in hosts) == 1
        admin = served.state()["admin_url"]
        request_json(admin + "/journal", "DELETE", token=served.state()["admin_token"])
        clients = [
            ThriftClient(classes, "users.Users", "127.0.0.1", served.port("users.Users")) for _ in range(4)
        ]
        try:
            answers = [c.call("getUser", 5) for c in clients]
        finally:
            for c in clients:
                c.close()
        assert all(a == answers[0] for a in answers)
        ids = [e["id"] for e in request_json(admin + "/journal?service=Users")["entries"]]
        assert len(ids) == 4
        assert {i % 2 for i in ids} == {0, 1}  # both processes answered, and the journal has them all

        users_idl = tmp_path / "idl" / "users.thrift"
        users_idl.write_text(
            users_idl.read_text().replace("  void ping(),", "  void ping(),\n  string motto(),")
        )
        served.wait_for_output("users.Users (+motto)", timeout=60)
        classes = Classes(load_catalog([tmp_path / "idl"]))
        clients = [
            ThriftClient(classes, "users.Users", "127.0.0.1", served.port("users.Users")) for _ in range(4)
        ]
        try:
            mottos = [c.call("motto") for c in clients]  # every process knows the new method
        finally:
            for c in clients:
                c.close()
        assert len(set(mottos)) == 1
        assert isinstance(mottos[0], str)
        served.interrupt()
    assert leftovers(engine, label) == []
