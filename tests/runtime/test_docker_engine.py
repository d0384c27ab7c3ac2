"""The Docker runtime against a real engine: the image, three mocks on a project network, a mock calling another
by DNS name, a killed container coming back, reloads in place, copying for remote engines, leftovers of a crashed
serve, and how long ten services take to start."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import pytest
from thriftpy2.rpc import make_client

import thriftbox
from tests.docker_support import leftovers, mock_image, wait_until
from tests.serve_support import cli_env, free_base_port, fresh_module, thriftbox_cmd
from thriftbox.client.probe import probe
from thriftbox.errors import PortInUse
from thriftbox.runtime.base import MockSpec, Project
from thriftbox.runtime.docker import sdk as rt
from thriftbox.runtime.docker.sdk import DockerRuntime, container_logs, down

pytestmark = pytest.mark.docker

IDL = Path(__file__).parent / "docker_fixtures" / "idl"
SERVICES = ("billing.Billing", "orders.Orders", "users.Users")


def load(idl_file: Path) -> Any:
    """The IDL as thriftpy2 sees it now (a fresh module each time, includes too, so edits are picked up)."""
    return fresh_module(idl_file)


def call(idl_file: Path, service: str, port: int, method: str, *args: Any) -> Any:
    module = load(idl_file)
    client = make_client(getattr(module, service), "127.0.0.1", port, timeout=10_000)
    try:
        return getattr(client, method)(*args)
    finally:
        client.close()


def project_at(root: Path, idl: Path) -> Project:
    return Project(root=root, name=f"t{uuid.uuid4().hex[:8]}", idl_dirs=(idl,))


@dataclass
class Shop:
    runtime: DockerRuntime
    project: Project
    idl: Path
    ports: dict[str, int]
    started_in: float


@pytest.fixture(scope="module")
def shop(engine: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    """Three services, each in its container, for the tests of this module to share."""
    root = tmp_path_factory.mktemp("shop")
    shutil.copytree(IDL, root / "idl")
    base = free_base_port()
    ports = {sid: base + i for i, sid in enumerate(SERVICES)}
    project = project_at(root, root / "idl")
    runtime = DockerRuntime()
    t0 = time.perf_counter()
    runtime.start(project, [MockSpec(sid, port) for sid, port in ports.items()])
    yield Shop(runtime, project, root / "idl", ports, time.perf_counter() - t0)
    runtime.stop()


# -- the image -------------------------------------------------------------------------------------------------


def test_the_image_holds_the_running_code_and_is_built_once(engine: Any) -> None:
    built = mock_image()
    if built.built:  # a cold build: dependencies came from the wheelhouse, not the network
        assert any("pip install --no-index" in line for line in built.progress)
        assert any(line.startswith("built thriftbox-mock:") for line in built.progress)
    again: list[str] = []
    t0 = time.perf_counter()
    runtime = DockerRuntime(on_progress=again.append)
    assert runtime.ensure_image() == built.tag
    assert time.perf_counter() - t0 < 5
    runtime.stop()
    assert again == []  # cached: nothing built, nothing printed
    assert engine.images.get(built.tag).labels["thriftbox.version"] == thriftbox.__version__
    script = (
        "import hashlib, thriftbox.runtime.docker.sdk as d, thriftpy2.protocol.cybin.cybin as cy\n"
        "print(hashlib.sha256(open(d.__file__, 'rb').read()).hexdigest())"
    )
    out = engine.containers.run(
        built.tag, entrypoint=["python3", "-c", script], network_mode="none", remove=True
    )
    assert out.decode().strip() == hashlib.sha256(Path(rt.__file__).read_bytes()).hexdigest()


# -- three services --------------------------------------------------------------------------------------------


def test_every_service_answers_through_its_published_port(shop: Shop) -> None:
    rates = call(shop.idl / "billing.thrift", "Billing", shop.ports["billing.Billing"], "currencies")
    assert rates
    assert set(rates) <= {1, 2, 3}
    totals = call(shop.idl / "orders.thrift", "Orders", shop.ports["orders.Orders"], "totals", [1, 2])
    assert all(isinstance(k, str) and isinstance(v.cents, int) for k, v in totals.items())
    users = call(shop.idl / "users.thrift", "Users", shop.ports["users.Users"], "listUsers", 3)
    assert all(isinstance(u.id, int) and isinstance(u.name, str) for u in users)
    rows = {row.service: row for row in shop.runtime.status()}
    assert sorted(rows) == sorted(SERVICES)
    for sid, row in rows.items():
        assert row.state == "ready"
        assert row.port == shop.ports[sid]
        assert row.detail == f"thriftbox-{shop.project.name}-{sid.replace('.', '-').lower()}"


def test_containers_are_labelled_and_folders_mounted_read_only(shop: Shop, engine: Any) -> None:
    mock = shop.runtime.mocks["users.Users"]
    info = engine.api.inspect_container(mock.container_id)
    labels = info["Config"]["Labels"]
    assert labels["thriftbox.service"] == "users.Users"
    assert labels["thriftbox.project"] == shop.project.name
    assert labels["thriftbox.version"] == thriftbox.__version__
    assert labels["thriftbox.session"] == shop.runtime.session
    mounts = sorted((m["Source"], m["Destination"], m["RW"]) for m in info["Mounts"])
    state = shop.project.layout.hosts_dir / "users-users"  # writable: what survives a restart (host.persist)
    assert mounts == sorted(
        [(str(shop.idl.resolve()), str(shop.idl.resolve()), False), (str(state), "/thriftbox/state", True)]
    )
    health = json.loads(_get(f"{mock.control_url}/health"))
    assert health["services"] == {"users.Users": shop.ports["users.Users"]}
    assert any("host ready" in line for line in shop.runtime.logs("users.Users"))


def test_logs_from_this_runtime_and_from_another_terminal(shop: Shop) -> None:
    followed = shop.runtime.logs("users.Users", follow=True)
    assert "host ready" in next(line for line in followed if "host ready" in line)
    followed.close()  # a reader that stops early leaves no connection behind
    lines = list(container_logs(shop.project.name, "billing.Billing"))  # what `thriftbox logs` reads
    assert any("host ready: 1 service(s)" in line for line in lines)


def _get(url: str) -> str:
    import urllib.request

    with urllib.request.urlopen(url, timeout=5) as resp:
        return str(resp.read().decode())


def test_a_mock_reaches_another_by_its_dns_name(shop: Shop, engine: Any) -> None:
    """What a service under development in a container does: call a dependency by name on the network."""
    script = (
        "import json, socket, sys, thriftpy2\n"
        "from thriftpy2.rpc import make_client\n"
        "m = thriftpy2.load(sys.argv[1], module_name='billing_thrift')\n"
        "c = make_client(m.Billing, 'billing-billing', int(sys.argv[2]), timeout=10000)\n"
        "print(json.dumps({'ip': socket.gethostbyname('billing-billing'), 'rate': c.rate(1, 2)}))\n"
    )
    users = engine.containers.get(shop.runtime.mocks["users.Users"].container_id)
    billing_file = str((shop.idl / "billing.thrift").resolve())  # the same path inside: folders keep theirs
    code, out = users.exec_run(["python3", "-c", script, billing_file, str(shop.ports["billing.Billing"])])
    assert code == 0, out.decode()
    answer = json.loads(out.decode().strip().splitlines()[-1])
    assert isinstance(answer["rate"], float)
    billing = engine.api.inspect_container(shop.runtime.mocks["billing.Billing"].container_id)
    network = billing["NetworkSettings"]["Networks"][f"thriftbox-{shop.project.name}"]
    assert answer["ip"] == network["IPAddress"]


def test_a_killed_container_comes_back_and_is_reported(shop: Shop, engine: Any) -> None:
    mock = shop.runtime.mocks["users.Users"]
    assert mock.plan.state_dir is not None
    kept = mock.plan.state_dir / "host.json"
    wait_until(kept.is_file, 10, "the host wrote what it keeps across a restart")  # twice a second
    engine.api.kill(mock.container_id)
    wait_until(
        lambda: engine.api.inspect_container(mock.container_id)["State"]["Status"] == "exited", 10, "exit"
    )
    # its host had written what it keeps across a restart (host.persist), so the new one reads it back
    assert shop.runtime.supervise() == [
        "users.Users: container exited (137), restarted; run-time stubs, state and journal restored"
    ]
    wait_until(
        lambda: probe("127.0.0.1", shop.ports["users.Users"], timeout=0.5), 30, "users.Users answers again"
    )
    assert shop.runtime.supervise() == []
    row = next(r for r in shop.runtime.status() if r.service == "users.Users")
    assert (row.state, row.restarts) == ("ready", 1)
    user = call(shop.idl / "users.thrift", "Users", shop.ports["users.Users"], "listUsers", 1)
    assert isinstance(user, list)


def test_a_removed_container_is_recreated(shop: Shop, engine: Any) -> None:
    old = shop.runtime.mocks["orders.Orders"].container_id
    engine.api.remove_container(old, force=True)
    name = f"thriftbox-{shop.project.name}-orders-orders"
    assert shop.runtime.supervise() == [f"orders.Orders: container {name} was removed, recreated"]
    assert shop.runtime.mocks["orders.Orders"].container_id != old
    totals = call(shop.idl / "orders.thrift", "Orders", shop.ports["orders.Orders"], "totals", [7])
    assert isinstance(totals, dict)


def test_reload_in_place_then_start_and_stop_a_service(shop: Shop, engine: Any) -> None:
    billing = shop.runtime.mocks["billing.Billing"]
    started_at = engine.api.inspect_container(billing.container_id)["State"]["StartedAt"]
    text = (shop.idl / "billing.thrift").read_text()
    (shop.idl / "billing.thrift").write_text(
        text.replace("service Billing {", "service Billing {\n  string motto(),")
    )
    shop.runtime.reload(["billing.Billing"], [], [])
    motto = call(shop.idl / "billing.thrift", "Billing", shop.ports["billing.Billing"], "motto")
    assert isinstance(motto, str)
    assert shop.runtime.mocks["billing.Billing"].container_id == billing.container_id
    assert engine.api.inspect_container(billing.container_id)["State"]["StartedAt"] == started_at

    (shop.idl / "audit.thrift").write_text("service Audit {\n  i32 count(),\n}\n")
    port = free_base_port(5)
    shop.runtime.reload([], [MockSpec("audit.Audit", port)], [])
    assert isinstance(call(shop.idl / "audit.thrift", "Audit", port, "count"), int)
    name = f"thriftbox-{shop.project.name}-audit-audit"
    assert engine.containers.get(name).status == "running"
    shop.runtime.reload([], [], ["audit.Audit"])
    with pytest.raises(docker.errors.NotFound):
        engine.containers.get(name)
    assert not probe("127.0.0.1", port, timeout=0.5)


# -- a remote engine: folders copied in ------------------------------------------------------------------------


def test_folders_are_copied_in_and_recopied_for_a_remote_engine(engine: Any, tmp_path: Path) -> None:
    shutil.copytree(IDL, tmp_path / "idl")
    project = project_at(tmp_path, tmp_path / "idl")
    port = free_base_port(5)
    runtime = DockerRuntime(copy_files=True)
    try:
        runtime.start(project, [MockSpec("billing.Billing", port)])
        assert engine.api.inspect_container(runtime.mocks["billing.Billing"].container_id)["Mounts"] == []
        assert call(tmp_path / "idl" / "billing.thrift", "Billing", port, "currencies")
        text = (tmp_path / "idl" / "billing.thrift").read_text()
        edited = text.replace("service Billing {", "service Billing {\n  i64 ticket(),")
        (tmp_path / "idl" / "billing.thrift").write_text(edited)
        runtime.reload(["billing.Billing"], [], [])
        assert isinstance(call(tmp_path / "idl" / "billing.thrift", "Billing", port, "ticket"), int)
    finally:
        runtime.stop()
    assert leftovers(engine, f"thriftbox.project={project.name}") == []


# -- what a crashed serve leaves behind ------------------------------------------------------------------------

CRASHING_SERVE = """
import sys
from pathlib import Path
from thriftbox.runtime.base import MockSpec, Project
from thriftbox.runtime.docker.sdk import DockerRuntime

class WithoutReaper(DockerRuntime):  # as on an engine whose socket cannot be lent to a container
    def _guard(self) -> None:
        pass

root, name, port = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
runtime = WithoutReaper()
runtime.start(Project(root=root, name=name, idl_dirs=(root / "idl",)), [MockSpec("users.Users", port)])
print("started", flush=True)
sys.stdin.read()
"""


def test_a_killed_serve_leaves_no_container_or_network_behind(engine: Any, tmp_path: Path) -> None:
    """kill -9 of `thriftbox serve --runtime docker`: its reaper removes everything within seconds."""
    shutil.copytree(IDL, tmp_path / "idl")
    port = free_base_port(10)
    serve = subprocess.Popen(
        [*thriftbox_cmd("serve", "idl", "--runtime", "docker", "--port", str(port), "--no-watch")],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=cli_env(),
        text=True,
    )
    assert serve.stdout is not None
    try:
        for line in serve.stdout:
            if "admin API" in line:
                break
        state = json.loads((tmp_path / ".thriftbox" / "state.json").read_text())
        label = f"thriftbox.project={state['project']['name']}"
        running = leftovers(engine, label)
        assert len(running) == 5, running  # three mocks, the reaper, the network
    finally:
        serve.kill()  # SIGKILL: no cleanup of its own runs
        serve.wait(10)
        serve.stdout.close()
    t0 = time.monotonic()
    wait_until(
        lambda: leftovers(engine, label) == [], 30, "containers and network of the killed serve removed"
    )
    print(f"\nreaped {len(running)} leftovers {time.monotonic() - t0:.1f} s after kill -9 of serve")


def test_leftovers_of_a_serve_without_reaper_are_named_and_removed_by_down(
    engine: Any, tmp_path: Path
) -> None:
    shutil.copytree(IDL, tmp_path / "idl")
    project = project_at(tmp_path, tmp_path / "idl")
    port = free_base_port(5)
    crashed = subprocess.Popen(
        [sys.executable, "-c", CRASHING_SERVE, str(tmp_path), project.name, str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=cli_env(),
        text=True,
    )
    assert crashed.stdout is not None
    assert crashed.stdout.readline().strip() == "started"
    crashed.kill()  # SIGKILL: no cleanup ran
    crashed.wait(10)
    crashed.stdout.close()
    crashed.stdin.close()  # type: ignore[union-attr]
    container = f"thriftbox-{project.name}-users-users"
    label = f"thriftbox.project={project.name}"
    assert leftovers(engine, label) == sorted([container, f"thriftbox-{project.name}"])

    with pytest.raises(PortInUse) as info:
        DockerRuntime().start(project, [MockSpec("users.Users", port)])
    assert f"port {port}" in info.value.message
    assert f"container {container}" in info.value.message

    assert sorted(down(project.name)) == sorted([container, f"thriftbox-{project.name}"])
    assert leftovers(engine, label) == []
    assert down(project.name) == []


# -- ten services ----------------------------------------------------------------------------------------------


def _memory(engine: Any, container_id: str) -> int:
    """Memory in use as `docker stats` shows it (page cache that can be dropped left out)."""
    stats = engine.api.stats(container_id, stream=False)["memory_stats"]
    extra = stats.get("stats", {})
    return int(stats.get("usage", 0) - extra.get("total_inactive_file", extra.get("inactive_file", 0)))


def test_ten_services_start_together_and_leave_nothing_behind(engine: Any, tmp_path: Path) -> None:
    idl = tmp_path / "idl"
    idl.mkdir()
    for i in range(10):
        (idl / f"svc{i}.thrift").write_text(
            f"struct Item{i} {{ 1: i64 id, 2: string name, 3: list<double> values }}\n"
            f"service Svc{i} {{ Item{i} get(1: i64 id), list<Item{i}> find(1: string q) }}\n"
        )
    project = project_at(tmp_path, idl)
    base = free_base_port()
    runtime = DockerRuntime()
    t0 = time.perf_counter()
    try:
        runtime.start(project, [MockSpec(f"svc{i}.Svc{i}", base + i) for i in range(10)])
        elapsed = time.perf_counter() - t0
        with ThreadPoolExecutor(max_workers=10) as pool:
            memory = list(pool.map(lambda m: _memory(engine, m.container_id), runtime.mocks.values()))
        assert all(r.state == "ready" for r in runtime.status())
    finally:
        runtime.stop()
    mib = sorted(m / 2**20 for m in memory)
    print(f"\n10 containers ready in {elapsed:.2f} s; memory per container {mib[0]:.0f}-{mib[-1]:.0f} MiB")
    assert elapsed < 15, f"10 services took {elapsed:.1f} s to start (target: under 10 s)"
    assert leftovers(engine, f"thriftbox.project={project.name}") == []
