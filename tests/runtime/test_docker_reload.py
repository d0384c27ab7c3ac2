"""Reloads in the container runtime, against a fake engine: what a failed reload leaves (nothing it started, nothing
stopped), the order of the steps, and folders of includes outside the project's folders (mounted; a container
that now needs one is recreated, the others are left alone). The real engine: ``test_docker_includes.py``."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest

from tests.serve_support import free_base_port
from thriftbox.control import client as control
from thriftbox.control.client import HttpError
from thriftbox.errors import IdlError, MockStartError, ThriftboxError
from thriftbox.runtime.base import MockSpec, Project
from thriftbox.runtime.docker import plan as names
from thriftbox.runtime.docker.containers import ContainerRuntime
from thriftbox.runtime.docker.engine import ContainerInfo

CLOCK = "service Clock {\n  i64 now()\n}\n"
ORDERS = "service Orders {\n  i32 count()\n}\n"
AUDIT = "service Audit {\n  i32 count()\n}\n"
ORDERS_WITH_MONEY = 'include "../ext/money.thrift"\n\nservice Orders {\n  money.Cents total()\n}\n'


@dataclass
class FakeContainer:
    plan: names.ContainerPlan
    mounted: tuple[str, ...]
    state: str = "created"


class FakeEngine:
    """Containers in a dict; one whose service is in ``broken`` exits as soon as it starts. Logs every step."""

    address = "fake://engine"

    def __init__(self) -> None:
        self.containers: dict[str, FakeContainer] = {}
        self.broken: set[str] = set()
        self.log: list[str] = []
        self._ids = itertools.count(1)

    def close(self) -> None:
        pass

    def ensure_network(self, name: str, labels: Mapping[str, str]) -> str:
        return "net"

    def remove_network(self, network_id: str) -> None:
        pass

    def create(self, plan: names.ContainerPlan, image: str, mount: bool) -> str:
        cid = f"c{next(self._ids)}"
        self.containers[cid] = FakeContainer(plan, tuple(f.target for f in plan.folders))
        self.log.append(f"create {plan.service_id}")
        return cid

    def start(self, container_id: str) -> None:
        container = self.containers[container_id]
        container.state = "exited" if container.plan.service_id in self.broken else "running"
        self.log.append(f"start {container.plan.service_id}")

    def remove(self, container_id: str) -> str | None:
        gone = self.containers.pop(container_id, None)
        if gone is None:
            return None
        self.log.append(f"remove {gone.plan.service_id}")
        return gone.plan.name

    def find(self, name: str) -> ContainerInfo | None:
        return None

    def labelled(self, *labels: str) -> list[ContainerInfo]:
        return [self.state(cid) for cid in self.containers]

    def state(self, container_id: str) -> ContainerInfo:
        c = self.containers[container_id]
        return ContainerInfo(container_id, c.plan.name, c.state, "1" if c.state == "exited" else "0")

    def published_port(self, container_id: str, port: int) -> int | None:
        return 40000 + int(container_id[1:])

    def logs(self, container_id: str, follow: bool) -> Iterator[str]:
        return iter(["included file not found"])

    def holder_of(self, port: int) -> str | None:
        return None

    def running(self) -> dict[str, FakeContainer]:
        """Service id -> its running container."""
        return {c.plan.service_id: c for c in self.containers.values() if c.state == "running"}


class FakeRuntime(ContainerRuntime):
    def __init__(self, engine: FakeEngine) -> None:
        super().__init__(start_timeout=5.0)
        self.fake = engine

    def _connect(self) -> FakeEngine:  # type: ignore[override]
        return self.fake

    def ensure_image(self) -> str:
        return "thriftbox-mock:test"

    def _answers(self, mock: Any, timeout: float = 0.3) -> bool:
        container = self.fake.containers.get(mock.container_id)
        return container is not None and container.state == "running"


@dataclass
class Setup:
    root: Path
    engine: FakeEngine
    runtime: FakeRuntime
    ports: dict[str, int]
    refused: set[str]  # services whose host refuses a reload
    posted: list[str]  # services told to reload, in order

    def write(self, name: str, text: str) -> None:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    def spec(self, sid: str) -> MockSpec:
        self.ports.setdefault(sid, max(self.ports.values()) + 1)
        return MockSpec(sid, self.ports[sid])


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    """Clock and Orders served from ``idl/``; posts to control endpoints are recorded, not sent."""
    (tmp_path / "idl").mkdir()
    (tmp_path / "idl" / "clock.thrift").write_text(CLOCK)
    (tmp_path / "idl" / "orders.thrift").write_text(ORDERS)
    engine = FakeEngine()
    runtime = FakeRuntime(engine)
    base = free_base_port(10)
    s = Setup(tmp_path, engine, runtime, {"clock.Clock": base, "orders.Orders": base + 1}, set(), [])

    def post(url: str, method: str, body: dict[str, Any], timeout: float, token: str | None = None) -> Any:
        if url.endswith("/health"):  # supervision's health check (runtime.health): every fake host answers
            return {"services": {}}
        (sid,) = body["reloaded"]
        engine.log.append(f"reload {sid}")
        s.posted.append(sid)
        if sid in s.refused:
            raise HttpError(409, "mocks/clock.yaml:3: `tick` is not a method of Clock")
        return {"ok": True}

    project = Project(root=tmp_path, name="shop", idl_dirs=(tmp_path / "idl",))
    with patch.object(control, "request_json", side_effect=post):
        runtime.start(project, [MockSpec(sid, port) for sid, port in s.ports.items()])
        engine.log.clear()
        yield s
        runtime.stop()


def ids(setup: Setup) -> dict[str, str]:
    return {sid: m.container_id for sid, m in setup.runtime.mocks.items()}


def test_a_reload_starts_then_reloads_then_stops(setup: Setup) -> None:
    setup.write("idl/audit.thrift", AUDIT)
    setup.runtime.reload(["clock.Clock"], [setup.spec("audit.Audit")], ["orders.Orders"])
    assert setup.engine.log == [
        "create audit.Audit",
        "start audit.Audit",
        "reload clock.Clock",
        "remove orders.Orders",
    ]
    assert sorted(setup.engine.running()) == ["audit.Audit", "clock.Clock"]
    assert sorted(setup.runtime.mocks) == ["audit.Audit", "clock.Clock"]


def test_a_refused_reload_removes_what_it_started_and_stops_nothing(setup: Setup) -> None:
    before = ids(setup)
    setup.write("idl/audit.thrift", AUDIT)
    setup.refused.add("clock.Clock")
    with pytest.raises(ThriftboxError, match=r"clock\.Clock: mocks/clock\.yaml:3"):
        setup.runtime.reload(["clock.Clock"], [setup.spec("audit.Audit")], ["orders.Orders"])
    assert ids(setup) == before  # serve keeps its old catalog: the runtime serves what it describes
    assert sorted(setup.engine.running()) == ["clock.Clock", "orders.Orders"]
    assert setup.engine.log[-1] == "remove audit.Audit"


def test_a_new_container_that_does_not_answer_changes_nothing_else(setup: Setup) -> None:
    before = ids(setup)
    setup.write("idl/audit.thrift", AUDIT)
    setup.engine.broken.add("audit.Audit")
    with pytest.raises(MockStartError, match=r"audit\.Audit: container thriftbox-shop-audit-audit exited"):
        setup.runtime.reload(["clock.Clock"], [setup.spec("audit.Audit")], ["orders.Orders"])
    assert setup.posted == []  # the running containers were not told to reload
    assert ids(setup) == before
    assert sorted(c.plan.service_id for c in setup.engine.containers.values()) == [
        "clock.Clock",
        "orders.Orders",
    ]


def test_a_broken_save_fails_the_reload_before_any_container_changes(setup: Setup) -> None:
    setup.write("idl/orders.thrift", "service Orders {\n  i32 count(\n}\n")
    with pytest.raises(IdlError):
        setup.runtime.reload(["orders.Orders"], [], ["clock.Clock"])
    assert setup.engine.log == []


def mounts(setup: Setup, sid: str) -> tuple[str, ...]:
    return setup.engine.containers[setup.runtime.mocks[sid].container_id].mounted


def test_an_include_outside_the_folders_recreates_only_the_container_that_needs_it(setup: Setup) -> None:
    idl, ext = str((setup.root / "idl").resolve()), str((setup.root / "ext").resolve())
    before = ids(setup)
    setup.write("ext/money.thrift", "typedef i64 Cents\n")
    setup.write("idl/orders.thrift", ORDERS_WITH_MONEY)
    setup.runtime.reload(["orders.Orders"], [], [])
    assert mounts(setup, "orders.Orders") == (idl, ext)
    assert ids(setup)["orders.Orders"] != before["orders.Orders"]  # a mount cannot be added to a container
    assert setup.posted == []  # the new container reads the new files as it starts
    assert ids(setup)["clock.Clock"] == before["clock.Clock"]  # not reloaded: left alone
    assert mounts(setup, "clock.Clock") == (idl,)

    recreated = ids(setup)["orders.Orders"]
    setup.runtime.reload(["orders.Orders"], [], [])  # the mount is there now: reloaded in place
    assert setup.posted == ["orders.Orders"]

    # Clock's host would read money.thrift when it starts again: it comes back with the folder mounted
    clock = setup.runtime.mocks["clock.Clock"]
    setup.engine.containers[clock.container_id].state = "exited"
    assert setup.runtime.supervise() == [
        "clock.Clock: container thriftbox-shop-clock-clock exited (1), recreated with the folders it needs now"
    ]
    assert mounts(setup, "clock.Clock") == (idl, ext)

    setup.write("idl/orders.thrift", ORDERS)  # a mount no longer needed is no reason to recreate
    setup.runtime.reload(["orders.Orders"], [], [])
    assert setup.posted == ["orders.Orders", "orders.Orders"]
    assert ids(setup)["orders.Orders"] == recreated


def test_includes_outside_the_given_folders_name_the_folders_to_mount(tmp_path: Path) -> None:
    (tmp_path / "idl").mkdir()
    (tmp_path / "inc").mkdir()
    project = Project(root=tmp_path, name="p", idl_dirs=(tmp_path / "idl",), include_dirs=(tmp_path / "inc",))
    files = [
        tmp_path / "idl" / "a.thrift",
        tmp_path / "idl" / "sub" / "b.thrift",  # under the IDL folder: mounted already
        tmp_path / "inc" / "c.thrift",  # under an include folder: mounted already
        tmp_path / "ext" / "d.thrift",
        tmp_path / "ext" / "deep" / "e.thrift",  # inside ext/, which is mounted anyway
        tmp_path / "vendor" / ".." / "other" / "f.thrift",
    ]
    assert names.outside(project, files) == ((tmp_path / "ext").resolve(), (tmp_path / "other").resolve())
    single = Project(root=tmp_path, name="p", idl_dirs=(tmp_path / "idl" / "a.thrift",))
    assert names.outside(single, files[:2]) == ()  # a single IDL file: its folder is mounted


def test_extra_folders_are_mounted_read_only_after_the_given_ones(tmp_path: Path) -> None:
    (tmp_path / "idl").mkdir()
    (tmp_path / "ext").mkdir()
    project = Project(root=tmp_path, name="p", idl_dirs=(tmp_path / "idl",))
    plan = names.plan_container(
        project, MockSpec("a.A", 9090), session="s", version="1", extra_dirs=[tmp_path / "ext"]
    )
    ext = str((tmp_path / "ext").resolve())
    assert list(plan.binds())[:2] == [str((tmp_path / "idl").resolve()), ext]
    assert plan.binds()[ext] == {"bind": ext, "mode": "ro"}
    alone = names.plan_container(project, MockSpec("a.A", 9090), session="s", version="1")
    assert plan.labels[names.LABEL_MOUNTS] != alone.labels[names.LABEL_MOUNTS]
