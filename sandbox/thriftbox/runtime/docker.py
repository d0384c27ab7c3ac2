"""The Docker runtime: one container per service, all on one user-defined network per project.

Every container runs ``thriftbox host`` for one service from the image ``thriftbox-mock:<version>-<hash>``
(built here from the running code on first use, offline: see :mod:`thriftbox.runtime.image`). The service is
published on ``project.host`` with its stable port number and is reachable from other containers of the project
as ``<dns name>:<port>`` (``users.Users`` -> ``users-users``). IDL, include and stub folders are mounted
read-only (copied in when the engine is on another machine); a reload is posted to each affected container's
control endpoint, so the watcher stays on this machine.

This is the only module that imports the Docker SDK. The client is created on first use, and the SDK's errors
are translated into :class:`~thriftbox.errors.ThriftboxError`\\ s that say which engine was tried.
"""

from __future__ import annotations

import contextlib
import gc
import io
import logging
import os
import re
import tarfile
import tempfile
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import docker
import docker.errors
import requests

import thriftbox
from thriftbox.control import HttpError, request_json
from thriftbox.errors import ConfigError, MockStartError, RuntimeUnavailable, ThriftboxError
from thriftbox.ports import port_free
from thriftbox.runtime import MockSpec, MockStatus, Project, image, wheelhouse
from thriftbox.runtime import dockernames as names
from thriftbox.runtime.wait import describe_port_holder, port_in_use

logger = logging.getLogger(__name__)

Progress = Callable[[str], None]
T = TypeVar("T")

_SDK_ERRORS = (docker.errors.DockerException, requests.exceptions.RequestException)
_DEAD_STATES = {"exited", "dead", "created"}
_PORT_TAKEN = re.compile(r":(\d+)(?: failed: port is already allocated|: bind: address already in use)")
_RETRY_AFTER = 10.0


# -- the engine ------------------------------------------------------------------------------------------------


def _address() -> str:
    return names.engine_address(os.environ.get("DOCKER_HOST"))


def _reason(err: BaseException) -> str:
    """The useful part of the SDK's connection errors, which nest several exceptions in one string."""
    text = str(err)
    for needle, reason in (
        ("FileNotFoundError", "the socket does not exist"),
        ("PermissionError", "permission denied on the socket"),
        ("Connection refused", "connection refused"),
        ("timed out", "timed out"),
        ("Name or service not known", "unknown host"),
    ):
        if needle in text:
            return reason
    return text.removeprefix("Error while fetching server API version: ")


def _try_connect(timeout: float) -> tuple[Any, str]:
    """``(client, "")`` when the engine answers its API version request, else ``(None, reason)``."""
    try:
        return docker.from_env(timeout=int(timeout)), ""
    except _SDK_ERRORS as err:
        reason = _reason(err)
    # The SDK's unix-socket connection leaks its socket when connect() fails (docker/transport/unixconn.py):
    # release it now rather than in a ResourceWarning at some later garbage collection.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()
    return None, reason


def _connect(timeout: float = 120.0) -> Any:
    """A client for the engine named by the environment; RuntimeUnavailable naming it when none answers."""
    client, reason = _try_connect(timeout)
    if client is None:
        raise RuntimeUnavailable(
            f"no Docker engine answers at {_address()} ({reason})",
            hint="start Docker, or point DOCKER_HOST at a running engine; or use --runtime process",
        )
    return client


@contextlib.contextmanager
def _engine_errors(doing: str, host: str = "127.0.0.1") -> Iterator[None]:
    """Translate SDK errors raised while ``doing`` something into ThriftboxErrors."""
    try:
        yield
    except docker.errors.APIError as err:
        text = str(err.explanation or err)
        match = _PORT_TAKEN.search(text)
        if match:
            port = int(match.group(1))
            raise port_in_use(host, port, doing, _container_holding(None, port)) from None
        raise MockStartError(f"{doing}: the Docker engine refused: {text}") from None
    except _SDK_ERRORS as err:
        raise RuntimeUnavailable(
            f"lost the Docker engine at {_address()} while {doing} ({_reason(err)})",
            hint="check that Docker still runs; or use --runtime process",
        ) from None


def engine_available(timeout: float = 3.0) -> tuple[bool, str]:
    """``(True, address)`` when an engine answers, else ``(False, "address: reason")``; for ``--runtime auto``."""
    client, reason = _try_connect(timeout)
    if client is None:
        return False, f"{_address()}: {reason}"
    client.close()
    return True, _address()


def _container_holding(client: Any, port: int) -> str | None:
    """``container NAME`` when a running container publishes ``port``; None otherwise or without an engine."""
    own = client is None
    try:
        client = client or _connect(timeout=5)
        running = client.containers.list(sparse=True)
    except (ThriftboxError, *_SDK_ERRORS):
        return None
    finally:
        if own and client is not None:
            client.close()
    for container in running:
        if any(p.get("PublicPort") == port for p in container.attrs.get("Ports") or []):
            name = (container.attrs.get("Names") or ["?"])[0].lstrip("/")
            project = (container.attrs.get("Labels") or {}).get(names.LABEL_PROJECT)
            left = f", thriftbox project {project!r}: `thriftbox down` removes leftovers" if project else ""
            return f"container {name}{left}"
    return None


def _log_lines(client: Any, container_id: str, follow: bool) -> Iterator[str]:
    with _engine_errors("reading a container's log"):
        if not follow:
            text = client.api.logs(container_id, stdout=True, stderr=True, stream=False)
            yield from text.decode("utf-8", "replace").splitlines()
            return
        stream = client.api.logs(container_id, stdout=True, stderr=True, stream=True, follow=True)
        try:
            pending = b""
            for chunk in stream:
                *lines, pending = (pending + chunk).split(b"\n")
                for line in lines:
                    yield line.decode("utf-8", "replace").rstrip("\r")
        finally:  # also when the reader stops: the SDK's close() shuts the socket, the response releases it
            stream.close()
            stream._response.close()


def container_logs(project_name: str, service_id: str, follow: bool = False) -> Iterator[str]:
    """The log of the container serving ``service_id`` in ``project_name`` (for ``thriftbox logs``)."""
    client = _connect()
    labels = [f"{names.LABEL_PROJECT}={project_name}", f"{names.LABEL_SERVICE}={service_id}"]
    try:
        with _engine_errors("looking for the container"):
            found = client.containers.list(all=True, sparse=True, filters={"label": labels})
        if not found:
            raise ConfigError(
                f"no container serves {service_id} in project {project_name}",
                hint="is `thriftbox serve --runtime docker` running in this folder?",
            )
    except ThriftboxError:
        client.close()
        raise
    return _closing(client, _log_lines(client, found[0].id, follow))


def _closing(client: Any, lines: Iterator[str]) -> Iterator[str]:
    try:
        yield from lines
    finally:
        client.close()


def down(project_name: str | None) -> list[str]:
    """Remove the containers and networks thriftbox left for ``project_name`` (every project with None)."""
    client = _connect()
    label = f"{names.LABEL_PROJECT}={project_name}" if project_name else names.LABEL_PROJECT
    try:
        with _engine_errors("looking for leftovers"):
            containers = client.containers.list(all=True, sparse=True, filters={"label": label})
            networks = client.networks.list(filters={"label": label})
        removed = _parallel(lambda c: _remove_container(client, c.id), containers)
        for network in networks:
            with contextlib.suppress(*_SDK_ERRORS):
                network.remove()
                removed.append(network.name)
    finally:
        client.close()
    return [name for name in removed if name]


def _remove_container(client: Any, container_id: str) -> str | None:
    """Remove a container however it is; its name, or None when it was already gone."""
    try:
        name = str(client.api.inspect_container(container_id)["Name"]).lstrip("/")
        client.api.remove_container(container_id, force=True, v=True)
    except docker.errors.NotFound:
        return None
    except _SDK_ERRORS as err:
        logger.warning("could not remove container %s: %s", container_id[:12], err)
        return None
    return name


def _parallel(fn: Callable[[Any], T], items: Iterable[Any], workers: int = 8) -> list[T]:
    """``fn`` over ``items`` on a few threads (the engine works on containers concurrently); first error raised."""
    items = list(items)
    if len(items) <= 1:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(
        max_workers=min(workers, len(items)), thread_name_prefix="thriftbox-docker"
    ) as pool:
        futures = [pool.submit(fn, item) for item in items]
    errors = [f.exception() for f in futures if f.exception() is not None]
    if errors:
        raise errors[0]  # type: ignore[misc]
    return [f.result() for f in futures]


# -- the runtime -----------------------------------------------------------------------------------------------


@dataclass
class _Mock:
    plan: names.ContainerPlan
    container_id: str = ""
    control_url: str = ""
    state: str = "starting"
    restarts: int = 0
    retry_at: float = 0.0

    @property
    def spec(self) -> MockSpec:
        return MockSpec(self.plan.service_id, self.plan.port)


class DockerRuntime:
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
        self.base_image = base_image  # None: $THRIFTBOX_BASE_IMAGE or python:3.11-slim
        self.on_progress = on_progress  # build and pull output, one line at a time
        self.start_timeout = start_timeout
        self.copy_files = copy_files  # None: copy folders in only when the engine is on another machine
        self.session = uuid.uuid4().hex
        self.project: Project | None = None
        self.image_tag = ""
        self.mocks: dict[str, _Mock] = {}
        self._client: Any = None
        self._network: Any = None
        self._remote_host: str | None = None
        self._lock = threading.Lock()

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = _connect()
        return self._client

    def _progress(self, line: str) -> None:
        if self.on_progress is not None:
            self.on_progress(line)
        else:
            logger.info("%s", line)

    @property
    def _copying(self) -> bool:
        return self.copy_files if self.copy_files is not None else self._remote_host is not None

    @property
    def _reach_host(self) -> str:
        """Where published ports are reached from here."""
        assert self.project is not None
        if self._remote_host:
            return self._remote_host
        return "127.0.0.1" if self.project.host in ("0.0.0.0", "::", "") else self.project.host

    # -- start / stop ------------------------------------------------------------------------------------------

    def start(self, project: Project, mocks: Sequence[MockSpec]) -> None:
        self.project = project
        self._remote_host = names.remote_engine_host(os.environ.get("DOCKER_HOST"))
        try:
            self._check_ports(mocks)
            self.image_tag = self.ensure_image()
            self._ensure_network()
            self._launch_all(mocks)
        except BaseException:
            self.stop()
            raise

    def _check_ports(self, mocks: Sequence[MockSpec]) -> None:
        assert self.project is not None
        if self._remote_host:
            return  # the engine's machine is not this one; the engine reports a clash when it starts one
        for m in mocks:
            if not port_free(self.project.host, m.port):
                holder = _container_holding(self.client, m.port) or describe_port_holder(m.port)
                raise port_in_use(self.project.host, m.port, m.service_id, holder)

    def stop(self) -> None:
        """Remove every container of this session and the project network. Idempotent; never raises."""
        if self._client is None:
            return
        ids = {m.container_id for m in self.mocks.values() if m.container_id}
        try:
            found = self._client.containers.list(
                all=True, sparse=True, filters={"label": self._session_label}
            )
            ids |= {c.id for c in found}
            _parallel(lambda cid: _remove_container(self._client, cid), sorted(ids))
            if self._network is not None:
                self._network.remove()
        except docker.errors.NotFound:
            pass
        except _SDK_ERRORS as err:
            logger.warning("could not clean up everything on %s: %s", _address(), err)
        self._network = None
        self.mocks.clear()
        client, self._client = self._client, None
        client.close()

    @property
    def _session_label(self) -> str:
        return f"{names.LABEL_SESSION}={self.session}"

    # -- the image ---------------------------------------------------------------------------------------------

    def ensure_image(self) -> str:
        """The tag of the mock image for the running code, built first when the engine does not have it."""
        base = image.base_image(self.base_image)
        requirements = wheelhouse.runtime_requirements()
        tag = image.image_tag(base, requirements)
        with _engine_errors("looking up the mock image"):
            try:
                self.client.images.get(tag)
                return tag
            except docker.errors.ImageNotFound:
                pass
        t0 = time.perf_counter()
        self._progress(f"building {tag} from {base} (once per thriftbox version and code)")
        self._ensure_base(base)
        target = self._python_info(base)
        house = wheelhouse.prepare_wheelhouse(target, requirements, self._progress)
        log = image.BuildLog(
            self._progress, wheelhouse.cache_root() / "logs" / f"{tag.replace(':', '-')}.log"
        )
        try:
            with tempfile.TemporaryDirectory(prefix="thriftbox-build-") as context:
                image.prepare_context(Path(context), base, house, requirements)
                chunks = self.client.api.build(
                    path=context,
                    tag=tag,
                    rm=True,
                    forcerm=True,
                    pull=False,
                    network_mode="none",  # everything is in the context: the build proves it needs no network
                    labels=image.image_labels(tag, base),
                    decode=True,
                )
                for chunk in chunks:
                    log.feed(chunk)
        except _SDK_ERRORS as err:
            raise log.failure(tag, _reason(err)) from None
        finally:
            log.close()
        if log.error:
            raise log.failure(tag)
        self._progress(f"built {tag} in {time.perf_counter() - t0:.1f} s")
        self._remove_stale_images(tag)
        return tag

    def _remove_stale_images(self, keep: str) -> None:
        """Untag images of this version built from older code; one still used by a container stays."""
        prefix = f"{image.IMAGE_REPOSITORY}:{thriftbox.__version__}-"
        with contextlib.suppress(*_SDK_ERRORS):
            stale = [t for i in self.client.images.list(name=image.IMAGE_REPOSITORY) for t in i.tags]
            for tag in stale:
                if tag.startswith(prefix) and tag != keep:
                    with contextlib.suppress(*_SDK_ERRORS):
                        self.client.images.remove(tag)

    def _ensure_base(self, base: str) -> None:
        hint = (
            "pull it yourself, or choose an image with Python 3 and pip: --base-image or THRIFTBOX_BASE_IMAGE"
        )
        with _engine_errors("looking up the base image"):
            try:
                self.client.images.get(base)
                return
            except docker.errors.ImageNotFound:
                pass
        self._progress(f"pulling {base}")
        seen: set[str] = set()
        try:
            for chunk in self.client.api.pull(base, stream=True, decode=True):
                if chunk.get("error"):
                    raise MockStartError(f"could not pull the base image {base}: {chunk['error']}", hint=hint)
                line = " ".join(str(chunk.get(k, "")) for k in ("id", "status")).strip()
                if line and line not in seen and "Downloading" not in line and "Extracting" not in line:
                    seen.add(line)
                    self._progress(line)
        except _SDK_ERRORS as err:
            raise MockStartError(
                f"the base image {base} is not on the engine and could not be pulled ({_reason(err)})",
                hint=hint,
            ) from None

    def _python_info(self, base: str) -> wheelhouse.PythonInfo:
        """Run the base image's python3 once to learn its version and platform."""
        hint = "choose a base image with Python 3 and pip: --base-image or THRIFTBOX_BASE_IMAGE"
        try:
            output = self.client.containers.run(
                base,
                entrypoint=["python3", "-c", wheelhouse.PYTHON_PROBE],
                network_mode="none",
                remove=True,
            )
            info = wheelhouse.PythonInfo.from_probe(output.decode())
        except docker.errors.ContainerError as err:
            raise MockStartError(f"python3 failed in the base image {base}: {err}", hint=hint) from None
        except docker.errors.APIError as err:
            raise MockStartError(
                f"the base image {base} cannot run python3: {err.explanation}", hint=hint
            ) from None
        except ValueError as err:
            raise MockStartError(f"could not read the base image's Python: {err}", hint=hint) from None
        if info.pip is None:
            raise MockStartError(f"the base image {base} has Python {info.full} but no pip", hint=hint)
        self._progress(f"base image: Python {info.full} on {info.machine} ({info.libc} {info.libc_version})")
        return info

    # -- containers --------------------------------------------------------------------------------------------

    def _ensure_network(self) -> None:
        assert self.project is not None
        name = names.network_name(self.project.name)
        with _engine_errors(f"creating the network {name}"):
            existing = [n for n in self.client.networks.list(names=[name]) if n.name == name]
            if existing:  # left by a crashed serve: adopt it, and remove it at the end like our own
                self._network = existing[0]
                return
            labels = {names.LABEL_PROJECT: self.project.name, names.LABEL_SESSION: self.session}
            labels[names.LABEL_VERSION] = thriftbox.__version__
            self._network = self.client.networks.create(name, driver="bridge", labels=labels)

    def _plan(self, spec: MockSpec) -> names.ContainerPlan:
        assert self.project is not None
        return names.plan_container(
            self.project,
            spec,
            session=self.session,
            version=thriftbox.__version__,
            remote=self._remote_host is not None,
        )

    def _launch_all(self, specs: Sequence[MockSpec]) -> None:
        launched = _parallel(lambda spec: self._launch(self._plan(spec)), specs)
        self._wait_ready(launched)

    def _launch(self, plan: names.ContainerPlan) -> _Mock:
        """Create and start the container of one service (not yet waiting for it to answer)."""
        self._clear_name(plan.name)
        client = self.client
        with _engine_errors(plan.service_id, plan.publish_host):
            endpoint = client.api.create_endpoint_config(aliases=[plan.alias])
            container = client.containers.create(
                self.image_tag,
                plan.command,
                name=plan.name,
                hostname=plan.alias,
                labels=plan.labels,
                volumes=None if self._copying else plan.binds(),
                ports=plan.ports(),
                network=plan.network,
                networking_config={plan.network: endpoint},
                init=True,  # signals and zombie reaping for the host process
            )
            mock = _Mock(plan, container_id=container.id)
            with self._lock:
                self.mocks[plan.service_id] = mock
            if self._copying:
                self._copy_folders(container, plan.folders)
            container.start()
            self._refresh_control_url(mock)
        return mock

    def _clear_name(self, name: str) -> None:
        """Make way for a container called ``name``: remove a stopped thriftbox leftover, refuse anything else."""
        with _engine_errors(f"checking for a container named {name}"):
            try:
                old = self.client.containers.get(name)
            except docker.errors.NotFound:
                return
        if names.LABEL_PROJECT not in old.labels:
            raise MockStartError(f"a container named {name} exists and is not thriftbox's", hint="remove it")
        if old.status == "running" and old.labels.get(names.LABEL_SESSION) != self.session:
            raise MockStartError(
                f"container {name} is already running (another `thriftbox serve` of this project?)",
                hint="stop that serve, or remove what a crashed one left with: thriftbox down",
            )
        _remove_container(self.client, old.id)

    def _copy_folders(self, container: Any, folders: Sequence[names.Folder]) -> None:
        """Copy folders into a container whose engine cannot see this machine's files."""
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            for folder in folders:
                tar.add(folder.source, arcname=folder.target.lstrip("/"), filter=_skip_vcs)
        container.put_archive("/", buffer.getvalue())

    def _refresh_control_url(self, mock: _Mock) -> None:
        ports = self.client.api.inspect_container(mock.container_id)["NetworkSettings"]["Ports"] or {}
        bound = ports.get(f"{mock.plan.control_port}/tcp") or []
        mock.control_url = f"http://{self._reach_host}:{bound[0]['HostPort']}" if bound else ""

    def _wait_ready(self, mocks: Sequence[_Mock]) -> None:
        """Return once every mock answers a Thrift call through its published port; MockStartError otherwise."""
        from thriftbox.wire import probe

        deadline = time.monotonic() + self.start_timeout
        next_check = time.monotonic() + 1.0
        pending = list(mocks)
        while pending:
            for mock in [m for m in pending if probe(self._reach_host, m.plan.port, timeout=0.5)]:
                mock.state = "ready"
                pending.remove(mock)
            if not pending:
                return
            if time.monotonic() >= next_check:
                next_check = time.monotonic() + 1.0
                for mock in pending:
                    self._fail_if_exited(mock)
            if time.monotonic() > deadline:
                where = ", ".join(m.plan.service_id for m in pending[:5])
                raise MockStartError(
                    f"mocks did not answer within {self.start_timeout:.0f} s: {where}",
                    hint=self._log_hint(pending[0]),
                )
            time.sleep(0.05)

    def _fail_if_exited(self, mock: _Mock) -> None:
        with _engine_errors(mock.plan.service_id):
            state = self.client.api.inspect_container(mock.container_id)["State"]
        if state.get("Status") in _DEAD_STATES - {"created"}:
            raise MockStartError(
                f"{mock.plan.service_id}: container {mock.plan.name} exited with code {state.get('ExitCode')}"
                " before it was ready",
                hint=self._log_hint(mock),
            )

    def _log_hint(self, mock: _Mock) -> str:
        try:
            lines = list(_log_lines(self.client, mock.container_id, follow=False))[-15:]
        except ThriftboxError:
            lines = []
        where = f"docker logs {mock.plan.name}"
        return f"last lines of `{where}`:\n" + "\n".join(lines) if lines else f"see `{where}`"

    # -- supervision -------------------------------------------------------------------------------------------

    def supervise(self) -> list[str]:
        """Restart containers that exited and recreate removed ones, then wait until they answer again.

        One line per event, e.g. ``users.Users: container exited (137), restarted``.
        """
        if self._client is None or not self.mocks:
            return []
        try:
            found = self._client.containers.list(
                all=True, sparse=True, filters={"label": self._session_label}
            )
        except _SDK_ERRORS as err:
            logger.warning("supervision skipped: %s", _reason(err))
            return []
        by_id = {c.id: c for c in found}
        revived: list[tuple[_Mock, str]] = []
        lines = []
        for sid, mock in list(self.mocks.items()):
            container = by_id.get(mock.container_id)
            state = container.attrs.get("State") if container is not None else None
            if state == "running":
                if mock.state != "ready" and self._answers(mock):
                    mock.state = "ready"
            elif state in _DEAD_STATES | {None} and time.monotonic() >= mock.retry_at:
                try:
                    revived.append(self._revive(sid, mock, container))
                except ThriftboxError as err:
                    mock.state, mock.retry_at = "dead", time.monotonic() + _RETRY_AFTER
                    lines.append(
                        f"{sid}: container {mock.plan.name} is down and could not be restarted: {err}"
                    )
        if revived:
            try:
                self._wait_ready([m for m, _ in revived])
            except ThriftboxError as err:
                return [*lines, *(what for _, what in revived), f"not answering after a restart: {err}"]
        return [*lines, *(what for _, what in revived)]

    def _answers(self, mock: _Mock) -> bool:
        from thriftbox.wire import probe

        return probe(self._reach_host, mock.plan.port, timeout=0.3)

    def _revive(self, sid: str, mock: _Mock, container: Any) -> tuple[_Mock, str]:
        """Start an exited container again, or recreate a removed one; the mock and what happened."""
        restarts = mock.restarts + 1
        if container is None:
            mock = self._launch(mock.plan)
            mock.restarts = restarts
            return mock, f"{sid}: container {mock.plan.name} was removed, recreated"
        code = _exit_code(container.attrs.get("Status", ""))
        with _engine_errors(sid, mock.plan.publish_host):
            self.client.api.start(mock.container_id)
            self._refresh_control_url(mock)
        mock.restarts, mock.state = restarts, "restarting"
        return mock, f"{sid}: container exited ({code}), restarted"

    def status(self) -> list[MockStatus]:
        if self.project is None or self._client is None:
            return []
        live: dict[str, str] = {}
        with contextlib.suppress(*_SDK_ERRORS):
            found = self._client.containers.list(
                all=True, sparse=True, filters={"label": self._session_label}
            )
            live = {c.id: str(c.attrs.get("State")) for c in found}
        rows = []
        for sid, mock in sorted(self.mocks.items()):
            container_state = live.get(mock.container_id, "removed")
            state = mock.state if container_state == "running" else "dead"
            if state in ("starting", "restarting") and self._answers(mock):
                state = mock.state = "ready"
            extra = {
                "container": mock.plan.name,
                "container_state": container_state,
                "network": f"{mock.plan.alias}:{mock.plan.port} on {mock.plan.network}",
                "control": mock.control_url,
                "image": self.image_tag,
            }
            rows.append(
                MockStatus(
                    service=sid,
                    host=self.project.host,
                    port=mock.plan.port,
                    runtime=self.name,
                    state=state,
                    detail=mock.plan.name,
                    restarts=mock.restarts,
                    extra=extra,
                )
            )
        return rows

    def control_urls(self) -> dict[str, str]:
        return {sid: m.control_url for sid, m in sorted(self.mocks.items())}

    def logs(self, service_id: str, follow: bool = False) -> Iterator[str]:
        mock = self.mocks.get(service_id)
        if mock is None:
            raise ConfigError(
                f"no container serves {service_id}", hint="served: " + ", ".join(sorted(self.mocks))
            )
        return _log_lines(self.client, mock.container_id, follow)

    # -- reload ------------------------------------------------------------------------------------------------

    def reload(
        self, reloaded: Collection[str], started: Sequence[MockSpec], stopped: Collection[str]
    ) -> None:
        """Remove stopped services' containers, start new ones, tell the reloaded ones to re-read their files."""
        for sid in stopped:
            mock = self.mocks.pop(sid, None)
            if mock is not None:
                _remove_container(self.client, mock.container_id)
        if started:
            self._launch_all(started)
        fresh = {m.service_id for m in started}
        targets = [self.mocks[sid] for sid in sorted(reloaded) if sid in self.mocks and sid not in fresh]
        recreate = [m for m in targets if self._plan(m.spec) != m.plan]  # other folders to mount
        for mock in recreate:
            _remove_container(self.client, mock.container_id)
        if recreate:
            self._launch_all([m.spec for m in recreate])
        _parallel(self._reload_one, [m for m in targets if m not in recreate])

    def _reload_one(self, mock: _Mock) -> None:
        if self._copying:
            self._recopy(mock)
        body = {"reloaded": [mock.plan.service_id], "started": [], "stopped": []}
        try:
            request_json(f"{mock.control_url}/reload", "POST", body, timeout=30)
        except HttpError as err:
            raise ThriftboxError(f"{mock.plan.service_id}: {err.message}") from None
        except OSError as err:
            raise MockStartError(
                f"{mock.plan.service_id}: the container did not take the reload: {err}"
            ) from None

    def _recopy(self, mock: _Mock) -> None:
        targets = [f.target for f in mock.plan.folders]
        clear = "import shutil, sys\nfor p in sys.argv[1:]: shutil.rmtree(p, ignore_errors=True)"
        with _engine_errors(f"copying files into {mock.plan.name}"):
            container = self.client.containers.get(mock.container_id)
            container.exec_run(["python3", "-c", clear, *targets])
            self._copy_folders(container, mock.plan.folders)


def _exit_code(status: str) -> str:
    """``137`` from a container list's ``Exited (137) 2 seconds ago``."""
    match = re.search(r"\((-?\d+)\)", status)
    return match.group(1) if match else "?"


def _skip_vcs(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
    parts = set(Path(info.name).parts)
    return None if parts & {".git", ".hg", ".svn", "__pycache__"} else info
