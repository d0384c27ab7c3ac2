"""One container per service: start, supervise, reload and stop them through an :class:`Engine`.

:class:`ContainerRuntime` holds the lifecycle; :class:`thriftbox.runtime.docker.sdk.DockerRuntime` binds it to the
Docker SDK. Containers are created and started concurrently (the engine works on them in parallel), then each is
reported ready only when its mock answers a Thrift call through the published port.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from thriftbox import about
from thriftbox.control.client import HostClient
from thriftbox.control.messages import ReloadRequest
from thriftbox.errors import ConfigError, MockStartError, ThriftboxError
from thriftbox.host.config import ProxyTarget
from thriftbox.idl import load_catalog
from thriftbox.project.ports import port_free
from thriftbox.runtime.base import MockSpec, MockStatus, Project
from thriftbox.runtime.docker import image
from thriftbox.runtime.docker import plan as names
from thriftbox.runtime.docker.engine import ContainerInfo, Engine
from thriftbox.runtime.docker.relay import Relay, start_relay
from thriftbox.runtime.health import HEALTH_TIMEOUT, UNRESPONSIVE_GRACE, HealthWatch, Verdict
from thriftbox.runtime.wait import describe_port_holder, port_in_use, wait_ready

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")
Progress = Callable[[str], None]

_DEAD = {"exited", "dead", "created"}
_RETRY_AFTER = 10.0  # seconds before another restart of a container whose restart failed


def parallel(fn: Callable[[T], R], items: Iterable[T], workers: int = 8) -> list[R]:
    """``fn`` over ``items`` on a few threads; every call finishes, then the first error is raised."""
    items = list(items)
    if len(items) <= 1:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(workers, len(items)), thread_name_prefix="thriftbox") as pool:
        futures = [pool.submit(fn, item) for item in items]
    for future in futures:
        error = future.exception()
        if error is not None:
            raise error
    return [f.result() for f in futures]


@dataclass
class _Mock:
    plan: names.ContainerPlan
    container_id: str = ""
    control_url: str = ""
    state: str = "starting"
    restarts: int = 0
    retry_at: float = 0.0
    health: HealthWatch = field(default_factory=HealthWatch)

    @property
    def spec(self) -> MockSpec:
        return MockSpec(self.plan.service_id, self.plan.port)


class ContainerRuntime:
    """Serve each mock in its own container. Nothing touches the engine before :meth:`start`."""

    name = "docker"

    def __init__(
        self,
        *,
        base_image: str | None = None,
        on_progress: Progress | None = None,
        start_timeout: float = 60.0,
        copy_files: bool | None = None,
    ) -> None:
        self.base_image = base_image  # None: $THRIFTBOX_BASE_IMAGE, else python:3.11-slim
        self.preparing = "building the mock image"
        self.on_progress = on_progress  # image build and pull output, one line at a time
        self.start_timeout = start_timeout
        self.copy_files = copy_files  # None: copy folders in only when the engine runs on another machine
        self.session = uuid.uuid4().hex
        self.project: Project | None = None
        self.image_tag = ""
        self.mocks: dict[str, _Mock] = {}
        self.extra_dirs: tuple[Path, ...] = ()  # folders of included files outside the project's folders
        self._engine: Engine | None = None
        self._network_id = ""
        self._remote_host: str | None = None
        self._engine_lost = False  # reported once, not on every supervision tick
        self._lock = threading.Lock()
        self.relay: Relay | None = None  # to the proxies' backends, as this machine reaches them
        self.proxy_targets: dict[str, ProxyTarget] | None = None  # the backends as containers reach them
        self._notes: list[str] = []  # lines for the first supervision tick (supervise's caller reports them)
        self._lifeline: socket.socket | None = (
            None  # to the reaper: closed by the kernel if this process dies
        )

    def _connect(self) -> Engine:
        raise NotImplementedError

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = self._connect()
        return self._engine

    def _progress(self, line: str) -> None:
        """Image build output: to ``on_progress``, else to the debug log (headlines are logged anyway)."""
        if self.on_progress is not None:
            self.on_progress(line)
        else:
            logger.debug("%s", line)

    @property
    def _copying(self) -> bool:
        return self.copy_files if self.copy_files is not None else self._remote_host is not None

    @property
    def _reach_host(self) -> str:
        """Where published ports are reached from this machine."""
        assert self.project is not None
        if self._remote_host:
            return self._remote_host
        return "127.0.0.1" if self.project.host in ("0.0.0.0", "::", "") else self.project.host

    @property
    def _session_label(self) -> str:
        return f"{names.LABEL_SESSION}={self.session}"

    # -- start / stop ------------------------------------------------------------------------------------------

    def start(self, project: Project, mocks: Sequence[MockSpec]) -> None:
        self.project = project
        self._remote_host = names.remote_engine_host(os.environ.get("DOCKER_HOST"))
        try:
            self._find_extra_dirs()
            self._check_ports(mocks)
            self.image_tag = self.ensure_image()
            self._ensure_network()
            self._start_relay()
            self._guard_session()
            shutil.rmtree(project.layout.hosts_dir, ignore_errors=True)  # this session starts clean
            self._launch_all(mocks)
        except BaseException:
            self.stop()
            raise

    def _guard_session(self) -> None:
        try:
            self._guard()
        except (ThriftboxError, OSError) as err:  # serving matters more than cleaning up after a crash
            logger.warning("no reaper for this session (containers would outlive a crash of serve): %s", err)

    def _guard(self) -> None:
        """Arrange for this session's containers to go if this process dies (the Docker runtime's reaper)."""

    def ensure_image(self) -> str:
        """The tag of the mock image for the running code, built first when the engine lacks it."""
        return image.ensure_image(self.engine, image.base_image(self.base_image), self._progress)

    def _ensure_network(self) -> None:
        assert self.project is not None
        labels = {names.LABEL_PROJECT: self.project.name, names.LABEL_SESSION: self.session}
        self._network_id = self.engine.ensure_network(names.network_name(self.project.name), labels)

    def _start_relay(self) -> None:
        """A relay per proxied backend on the network's gateway (runtime.docker.relay); with a remote engine
        the containers dial the backends as configured (a relay here is out of their reach), said once."""
        assert self.project is not None
        proxies = self.project.proxies
        if not proxies:
            return
        if self._remote_host is not None:
            self._notes.append(
                f"the Docker engine runs on {self._remote_host}: its containers reach the proxy backends by the "
                "addresses given (" + ", ".join(t.address for t in proxies.values()) + "), not through this "
                "machine" + ("; --record writes nothing here" if self.project.record_dir is not None else "")
            )
            return
        self.relay, self.proxy_targets = start_relay(*self.engine.network_gateway(self._network_id), proxies)

    def _check_ports(self, mocks: Sequence[MockSpec]) -> None:
        assert self.project is not None
        if self._remote_host:
            return  # not this machine's ports: the engine reports a clash when it starts the container
        for m in mocks:
            if not port_free(self.project.host, m.port):
                holder = self.engine.holder_of(m.port) or describe_port_holder(m.port)
                raise port_in_use(self.project.host, m.port, m.service_id, holder)

    def stop(self) -> None:
        """Remove every container of this session and the project network. Idempotent; never raises."""
        engine, self._engine = self._engine, None
        if engine is None:
            return
        lifeline, self._lifeline = self._lifeline, None
        relay, self.relay = self.relay, None
        if relay is not None:
            relay.stop()  # nothing stays listening; the containers' connections to it close
        try:
            ids = {m.container_id for m in self.mocks.values() if m.container_id}
            ids |= {c.id for c in engine.labelled(self._session_label)}
            parallel(engine.remove, sorted(ids))
            if self._network_id:
                engine.remove_network(self._network_id)
        except ThriftboxError as err:
            logger.warning("could not clean up everything on %s: %s", engine.address, err)
        finally:
            engine.close()
            if lifeline is not None:
                lifeline.close()
            for mock in self.mocks.values():
                if mock.plan.state_dir is not None:
                    shutil.rmtree(mock.plan.state_dir, ignore_errors=True)
        self._network_id = ""
        self.proxy_targets = None
        self.mocks.clear()

    # -- containers --------------------------------------------------------------------------------------------

    def _plan(self, spec: MockSpec) -> names.ContainerPlan:
        assert self.project is not None
        remote = self._remote_host is not None
        return names.plan_container(
            self.project,
            spec,
            session=self.session,
            version=about.__version__,
            remote=remote,
            extra_dirs=self.extra_dirs,
            proxies=self.proxy_targets,
        )

    def _find_extra_dirs(self) -> None:
        """Find the folders of included files outside the project's folders: containers mount them too."""
        assert self.project is not None
        catalog = load_catalog(self.project.idl_dirs, self.project.include_dirs)
        self.extra_dirs = names.outside(self.project, catalog.files)

    @staticmethod
    def _outdated(mock: _Mock, plan: names.ContainerPlan) -> bool:
        """True when ``mock``'s container lacks a folder ``plan`` mounts, or runs another command line.

        A folder mounted but no longer needed (an include outside the folders was removed) is left there.
        """
        return plan.command != mock.plan.command or not set(plan.folders) <= set(mock.plan.folders)

    def _launch_all(self, specs: Sequence[MockSpec]) -> None:
        plans = [self._plan(spec) for spec in specs]
        for plan in plans:
            if plan.state_dir is not None:
                plan.state_dir.mkdir(parents=True, exist_ok=True)
        self._wait_ready(parallel(self._launch, plans))

    def _launch(self, plan: names.ContainerPlan) -> _Mock:
        """Create and start the container of one service (without waiting for it to answer)."""
        engine = self.engine
        self._clear_name(plan.name)
        mock = _Mock(plan, container_id=engine.create(plan, self.image_tag, mount=not self._copying))
        with self._lock:
            self.mocks[plan.service_id] = mock
        if self._copying:
            engine.copy_in(mock.container_id, plan.folders, replace=False)
        engine.start(mock.container_id)
        self._refresh_control_url(mock)
        return mock

    def _clear_name(self, name: str) -> None:
        """Make way for a container called ``name``: remove a stopped thriftbox leftover, refuse anything else."""
        old = self.engine.find(name)
        if old is None:
            return
        if names.LABEL_PROJECT not in old.labels:
            raise MockStartError(f"a container named {name} exists and is not thriftbox's", hint="remove it")
        if old.state == "running" and old.labels.get(names.LABEL_SESSION) != self.session:
            raise MockStartError(
                f"container {name} is already running (another `thriftbox serve` of this project?)",
                hint="stop that serve, or remove what a crashed one left with: thriftbox down",
            )
        self.engine.remove(old.id)

    def _refresh_control_url(self, mock: _Mock) -> None:
        port = self.engine.published_port(mock.container_id, mock.plan.control_port)
        mock.control_url = f"http://{self._reach_host}:{port}" if port else ""

    def _answers(self, mock: _Mock, timeout: float = 0.3) -> bool:
        from thriftbox.client.probe import probe

        return probe(self._reach_host, mock.plan.port, timeout=timeout)

    def _wait_ready(self, mocks: Sequence[_Mock]) -> None:
        """Return once every mock answers a Thrift call through its published port; MockStartError otherwise."""

        def answers(mock: _Mock) -> bool:
            if not self._answers(mock, timeout=0.5):
                return False
            mock.state = "ready"
            return True

        def gone(pending: Sequence[_Mock]) -> None:
            for mock in pending:
                self._fail_if_exited(mock)

        wait_ready(
            mocks,
            answers,
            timeout=self.start_timeout,
            name=lambda mock: mock.plan.service_id,
            gone=gone,
            check_every=1.0,
            hint=lambda pending: self._log_hint(pending[0]),
        )

    def _fail_if_exited(self, mock: _Mock) -> None:
        info = self.engine.state(mock.container_id)
        if info.state in _DEAD - {"created"}:
            raise MockStartError(
                f"{mock.plan.service_id}: container {mock.plan.name} exited with code {info.exit_code}"
                " before it was ready",
                hint=self._log_hint(mock),
            )

    def _log_hint(self, mock: _Mock) -> str:
        try:
            lines = list(self.engine.logs(mock.container_id, follow=False))[-15:]
        except ThriftboxError:
            lines = []
        where = f"docker logs {mock.plan.name}"
        return f"last lines of `{where}`:\n" + "\n".join(lines) if lines else f"see `{where}`"

    # -- supervision -------------------------------------------------------------------------------------------

    def supervise(self) -> list[str]:
        """Restart containers that exited and recreate removed ones, then wait until they answer again.

        One line per event, e.g. ``users.Users: container exited (137), restarted``.
        """
        if self._engine is None or not self.mocks:
            return []
        notes, self._notes = self._notes, []
        notes += self.relay.events() if self.relay is not None else []
        try:
            found = {c.id: c for c in self._engine.labelled(self._session_label)}
        except ThriftboxError as err:
            first, self._engine_lost = not self._engine_lost, True
            return [*notes, f"cannot supervise the containers: {err}"] if first else notes
        if self._engine_lost:
            self._engine_lost = False
            logger.info("the Docker engine at %s answers again", self._engine.address)
        revived: list[tuple[_Mock, str]] = []
        lines = notes
        for sid, mock in list(self.mocks.items()):
            info = found.get(mock.container_id)
            if info is not None and info.state == "running":
                if mock.state in ("starting", "restarting") and self._answers(mock):
                    mock.state = "ready"
            elif (info is None or info.state in _DEAD) and time.monotonic() >= mock.retry_at:
                try:
                    revived.append(self._revive(sid, mock, info))
                except ThriftboxError as err:
                    mock.state, mock.retry_at = "dead", time.monotonic() + _RETRY_AFTER
                    lines.append(
                        f"{sid}: container {mock.plan.name} is down and could not be restarted: {err}"
                    )
        revived += self._check_health(lines)
        if revived:
            try:
                self._wait_ready([m for m, _ in revived])
            except ThriftboxError as err:
                lines.append(f"not answering after a restart: {err}")
        return [*(what for _, what in revived), *lines]

    def _check_health(self, lines: list[str]) -> list[tuple[_Mock, str]]:
        """Health-check the running containers (runtime.health): one whose host stays silent for the grace period
        is replaced by a new container (its run-time state comes back from its state folder)."""
        assert self.project is not None
        due = [m for m in self.mocks.values() if m.state in ("ready", "unresponsive") and m.control_url]
        due = [m for m in due if m.health.due()]
        token = self.project.control_token

        def answers(mock: _Mock) -> bool:
            try:
                HostClient(mock.control_url, token=token, timeout=HEALTH_TIMEOUT).health()
            except ThriftboxError:
                return False
            return True

        replaced = []
        for mock, answered in zip(due, parallel(answers, due), strict=True):
            sid, name = mock.plan.service_id, mock.plan.name
            verdict = mock.health.saw(answered)
            if verdict is Verdict.SILENT:
                mock.state = "unresponsive"
                lines.append(
                    f"{sid}: container {name} does not answer its health check: unresponsive; "
                    f"it is replaced if still silent in {UNRESPONSIVE_GRACE:g} s"
                )
            elif verdict is Verdict.BACK:
                mock.state = "ready"
                lines.append(f"{sid}: container {name} answers its health check again")
            elif verdict is Verdict.REPLACE:
                silent = mock.health.silent_for()
                try:
                    self.engine.remove(mock.container_id)
                    fresh = self._launch(mock.plan)
                except ThriftboxError as err:
                    lines.append(f"{sid}: container {name} is unresponsive and could not be replaced: {err}")
                    continue
                fresh.restarts = mock.restarts + 1
                replaced.append((fresh, f"{sid}: container {name} unresponsive for {silent:.0f} s: replaced"))
        return replaced

    def _revive(self, sid: str, mock: _Mock, info: ContainerInfo | None) -> tuple[_Mock, str]:
        """Start an exited container again, or recreate a removed one; the mock, and what happened."""
        restarts = mock.restarts + 1
        plan = self._plan(mock.spec)
        if info is None or self._outdated(mock, plan):
            if info is None:  # removed by hand, perhaps with its network (`thriftbox down`)
                self._ensure_network()
                what = "was removed, recreated"
            else:  # an include reaches outside its folders since it started: its host needs another mount
                self.engine.remove(mock.container_id)
                what = f"exited ({info.exit_code}), recreated with the folders it needs now"
            mock = self._launch(plan)
            mock.restarts = restarts
            return mock, f"{sid}: container {mock.plan.name} {what}"
        self.engine.start(mock.container_id)
        self._refresh_control_url(mock)
        mock.restarts, mock.state = restarts, "restarting"
        kept = mock.plan.state_dir is not None and (mock.plan.state_dir / "host.json").is_file()
        restored = "; run-time stubs, state and journal restored" if kept else ""
        return mock, f"{sid}: container exited ({info.exit_code}), restarted{restored}"

    def status(self) -> list[MockStatus]:
        if self.project is None or self._engine is None:
            return []
        try:
            live = {c.id: c.state for c in self._engine.labelled(self._session_label)}
        except ThriftboxError:
            live = {}
        rows = []
        for sid, mock in sorted(self.mocks.items()):
            container_state = live.get(mock.container_id, "removed")
            state = mock.state if container_state in ("running", "paused") else "dead"
            if state in ("starting", "restarting") and self._answers(mock):
                state = mock.state = "ready"
            extra = {
                "container": mock.plan.name,
                "container_state": container_state,
                "network": f"{mock.plan.alias}:{mock.plan.port} on {mock.plan.network}",
                "control": mock.control_url,
                "image": self.image_tag,
            }
            row = MockStatus(sid, self.project.host, mock.plan.port, self.name, state, mock.plan.name)
            row.restarts, row.extra = mock.restarts, extra
            rows.append(row)
        return rows

    def control_urls(self) -> dict[str, str]:
        return {sid: m.control_url for sid, m in sorted(self.mocks.items())}

    def logs(self, service_id: str, follow: bool = False) -> Iterator[str]:
        mock = self.mocks.get(service_id)
        if mock is None:
            served = ", ".join(sorted(self.mocks)) or "nothing"
            raise ConfigError(f"no container serves {service_id}", hint=f"served: {served}")
        return self.engine.logs(mock.container_id, follow)

    # -- reload ------------------------------------------------------------------------------------------------

    def reload(
        self, reloaded: Collection[str], started: Sequence[MockSpec], stopped: Collection[str]
    ) -> None:
        """Start new services' containers, tell the reloaded ones to re-read their files, then stop the others.

        All or nothing where it can be: nothing is stopped before the rest worked, and when a new container
        does not answer or a container refuses its reload, the containers started here are removed again. A
        reloaded service's container is recreated only when it needs other folders mounted (an include now
        reaches outside them); that, and a reload a container took, cannot be taken back.
        """
        self._find_extra_dirs()  # before anything changes: a broken save fails here, with nothing done
        skip = {m.service_id for m in started} | set(stopped)
        targets = [self.mocks[sid] for sid in sorted(reloaded) if sid in self.mocks and sid not in skip]
        recreate = [m for m in targets if self._outdated(m, self._plan(m.spec))]
        new = [spec.service_id for spec in started if spec.service_id not in self.mocks]
        try:
            if started:
                self._launch_all(started)
            parallel(self._reload_one, [m for m in targets if m not in recreate])
            for mock in recreate:
                self.engine.remove(mock.container_id)
            if recreate:
                self._launch_all([m.spec for m in recreate])
        except BaseException:
            self._remove_quietly(new)
            raise
        self._remove_quietly(stopped)

    def _remove_quietly(self, service_ids: Collection[str]) -> None:
        """Remove these services' containers; one that cannot be removed now is logged (``stop`` retries)."""
        for sid in service_ids:
            gone = self.mocks.pop(sid, None)
            if gone is None or not gone.container_id:
                continue
            try:
                self.engine.remove(gone.container_id)
            except ThriftboxError as err:
                logger.warning("%s: could not remove container %s: %s", sid, gone.plan.name, err)

    def _reload_one(self, mock: _Mock) -> None:
        if self._copying:
            self.engine.copy_in(mock.container_id, mock.plan.folders, replace=True)
        assert self.project is not None
        host = HostClient(
            mock.control_url,
            label=mock.plan.service_id,
            name="the container",
            token=self.project.control_token,
        )
        host.reload(ReloadRequest(reloaded=(mock.plan.service_id,)))
