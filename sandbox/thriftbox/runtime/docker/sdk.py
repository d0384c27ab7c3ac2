"""The Docker runtime: one container per service, all on one user-defined network per project.

Every container runs ``thriftbox host`` for one service from the image ``thriftbox-mock:<version>-<hash>``
(built here from the running code on first use, offline: see :mod:`thriftbox.runtime.docker.image`). The service is
published on ``project.host`` with its stable port number and is reachable from other containers of the project
as ``<dns name>:<port>`` (``users.Users`` -> ``users-users``). IDL, include and stub folders are mounted
read-only (copied in when the engine is on another machine); a reload is posted to each affected container's
control endpoint, so the watcher stays on this machine.

This is the only module that imports the Docker SDK: :class:`SdkEngine` implements
:class:`~thriftbox.runtime.docker.engine.Engine` with it, creates the client only when first needed, and translates
the SDK's errors into ThriftboxErrors that say which engine was tried.
"""

from __future__ import annotations

import contextlib
import gc
import io
import ipaddress
import logging
import os
import re
import tarfile
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

import docker
import docker.errors
import requests

from thriftbox.errors import ConfigError, MockStartError, RuntimeUnavailable, ThriftboxError
from thriftbox.runtime.docker import plan as names
from thriftbox.runtime.docker import reaper
from thriftbox.runtime.docker.containers import ContainerRuntime, parallel
from thriftbox.runtime.docker.engine import ContainerInfo
from thriftbox.runtime.docker.image import BASE_HINT
from thriftbox.runtime.wait import port_in_use

logger = logging.getLogger(__name__)
_SDK_ERRORS = (docker.errors.DockerException, requests.exceptions.RequestException)
_PORT_TAKEN = re.compile(r":(\d+)(?: failed: port is already allocated|: bind: address already in use)")
_CLEAR = "import shutil, sys\nfor p in sys.argv[1:]: shutil.rmtree(p, ignore_errors=True)"


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


def engine_available(timeout: float = 3.0) -> tuple[bool, str]:
    """``(True, address)`` when an engine answers, else ``(False, "address: reason")``; for ``--runtime auto``."""
    client, reason = _try_connect(timeout)
    if client is None:
        return False, f"{_address()}: {reason}"
    client.close()
    return True, _address()


class SdkEngine:
    """:class:`~thriftbox.runtime.docker.engine.Engine` over the Docker SDK; every SDK error is translated."""

    def __init__(self, client: Any, address: str | None = None) -> None:
        self.client = client
        self.address = address or _address()

    @classmethod
    def connect(cls, timeout: float = 120.0) -> SdkEngine:
        """The engine named by the environment; RuntimeUnavailable naming it when none answers."""
        client, reason = _try_connect(timeout)
        if client is None:
            raise RuntimeUnavailable(
                f"no Docker engine answers at {_address()} ({reason})",
                hint="start Docker, or point DOCKER_HOST at a running engine; or use --runtime process",
            )
        return cls(client)

    def close(self) -> None:
        self.client.close()

    @contextlib.contextmanager
    def _errors(self, doing: str, host: str = "127.0.0.1") -> Iterator[None]:
        """Translate SDK errors raised while ``doing`` something into ThriftboxErrors."""
        try:
            yield
        except docker.errors.APIError as err:
            text = str(err.explanation or err)
            taken = _PORT_TAKEN.search(text)
            if taken:
                port = int(taken.group(1))
                raise port_in_use(host, port, doing, self.holder_of(port)) from None
            raise MockStartError(f"{doing}: the Docker engine refused: {text}") from None
        except _SDK_ERRORS as err:
            raise RuntimeUnavailable(
                f"lost the Docker engine at {self.address} while {doing} ({_reason(err)})",
                hint="check that Docker still runs; or use --runtime process",
            ) from None

    # -- images ------------------------------------------------------------------------------------------------

    def has_image(self, ref: str) -> bool:
        with self._errors(f"looking up the image {ref}"):
            try:
                self.client.images.get(ref)
            except docker.errors.ImageNotFound:
                return False
        return True

    def pull(self, ref: str, progress: Callable[[str], None]) -> None:
        hint = f"pull it yourself, or {BASE_HINT}"
        seen: set[str] = set()
        try:
            for chunk in self.client.api.pull(ref, stream=True, decode=True):
                if chunk.get("error"):
                    raise MockStartError(f"could not pull {ref}: {chunk['error']}", hint=hint)
                line = " ".join(str(chunk.get(k, "")) for k in ("id", "status")).strip()
                if line and line not in seen and not line.endswith(("Downloading", "Extracting")):
                    seen.add(line)
                    progress(line)
        except _SDK_ERRORS as err:
            reason = err.explanation if isinstance(err, docker.errors.APIError) else _reason(err)
            raise MockStartError(
                f"{ref} is not on the engine and could not be pulled: {reason}", hint=hint
            ) from None

    def run_python(self, image: str, script: str) -> str:
        with self._errors(f"running python3 in {image}"):
            try:
                out = self.client.containers.run(
                    image, entrypoint=["python3", "-c", script], network_mode="none", remove=True
                )
            except docker.errors.ContainerError as err:
                stderr = (err.stderr or b"").decode("utf-8", "replace").strip()
                raise MockStartError(f"python3 exited with code {err.exit_status}: {stderr}") from None
        return bytes(out).decode("utf-8", "replace")

    def build(
        self, context: Path, tag: str, labels: Mapping[str, str], *, offline: bool = True
    ) -> Iterator[Mapping[str, Any]]:
        with self._errors(f"building {tag}"):
            yield from self.client.api.build(
                path=str(context),
                tag=tag,
                rm=True,
                forcerm=True,
                pull=False,
                # the mock image: everything is in the context, the build proves it needs no network; a real
                # service's Dockerfile is the user's: it may install packages (offline=False)
                network_mode="none" if offline else None,
                labels=dict(labels),
                decode=True,
            )

    def tag(self, image: str, ref: str) -> None:
        """Give ``image`` the extra name ``ref`` (``repository:tag``)."""
        repository, _, tag = ref.rpartition(":") if ":" in ref.rsplit("/", 1)[-1] else (ref, "", "latest")
        with self._errors(f"tagging {image} as {ref}"):
            self.client.images.get(image).tag(repository, tag)

    def remove_images(self, repository: str, keep: Callable[[str], bool]) -> None:
        """Untag images of ``repository`` that ``keep`` rejects; one a container still uses stays."""
        with contextlib.suppress(*_SDK_ERRORS):
            for tag in [t for i in self.client.images.list(name=repository) for t in i.tags]:
                if not keep(tag):
                    with contextlib.suppress(*_SDK_ERRORS):
                        self.client.images.remove(tag)

    # -- networks ----------------------------------------------------------------------------------------------

    def ensure_network(self, name: str, labels: Mapping[str, str]) -> str:
        with self._errors(f"creating the network {name}"):
            existing = [n for n in self.client.networks.list(names=[name]) if n.name == name]
            if existing:  # left by a crashed serve: adopted, and removed at the end like a new one
                return str(existing[0].id)
            return str(self.client.networks.create(name, driver="bridge", labels=dict(labels)).id)

    def remove_network(self, network_id: str) -> None:
        with self._errors("removing the project network"), contextlib.suppress(docker.errors.NotFound):
            self.client.api.remove_network(network_id)

    def network_gateway(self, network_id: str) -> tuple[str, str]:
        with self._errors("reading the project network's address"):
            attrs = self.client.api.inspect_network(network_id)
        for config in (attrs.get("IPAM") or {}).get("Config") or []:
            subnet = str(config.get("Subnet") or "")
            if ":" in subnet or not subnet:
                continue  # the IPv4 one
            gateway = str(config.get("Gateway") or "")
            if not gateway:  # older engines leave it out: the subnet's first address
                gateway = str(next(ipaddress.ip_network(subnet, strict=False).hosts()))
            return gateway, subnet
        raise MockStartError(
            f"the network {attrs.get('Name', network_id)} has no IPv4 subnet: proxied backends cannot be relayed",
            hint="remove it (thriftbox down) so that serve creates it anew",
        )

    def remove_networks(self, label: str) -> list[str]:
        """Remove the networks carrying ``label``; the names of those removed."""
        with self._errors("looking for networks"):
            networks = self.client.networks.list(filters={"label": label})
        removed = []
        for network in networks:
            with contextlib.suppress(*_SDK_ERRORS):
                network.remove()
                removed.append(str(network.name))
        return removed

    # -- containers --------------------------------------------------------------------------------------------

    def create(self, plan: names.ContainerPlan, image: str, mount: bool) -> str:
        with self._errors(plan.service_id, plan.publish_host):
            endpoint = self.client.api.create_endpoint_config(aliases=[plan.alias])
            container = self.client.containers.create(
                image,
                plan.command,
                name=plan.name,
                hostname=plan.alias,
                labels=plan.labels,
                environment=plan.env or None,
                volumes=plan.binds() if mount else None,
                ports=plan.ports(),
                network=plan.network,
                networking_config={plan.network: endpoint},
                init=True,  # signals and zombie reaping for the host process
            )
        return str(container.id)

    def create_real(self, plan: names.RealPlan) -> str:
        """Create the container of a real service (``[real.NAME]``); its image must exist."""
        with self._errors(f"real service {plan.service}", plan.publish_host):
            endpoint = self.client.api.create_endpoint_config(aliases=[plan.alias])
            container = self.client.containers.create(
                plan.image,
                plan.command or None,
                name=plan.name,
                hostname=plan.alias,
                labels=plan.labels,
                environment=plan.env or None,
                volumes=plan.binds or None,
                ports=plan.ports or None,
                network=plan.network,
                networking_config={plan.network: endpoint},
                working_dir=plan.working_dir,
                init=True,  # signals reach the service's process even when it is not written for PID 1
            )
        return str(container.id)

    def copy_in(self, container_id: str, folders: Sequence[names.Folder], replace: bool) -> None:
        """Copy folders to their targets in the container; with ``replace``, what was there goes first."""
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            for folder in folders:
                tar.add(folder.source, arcname=folder.target.lstrip("/"), filter=_skip_vcs)
        with self._errors("copying files into a container"):
            container = self.client.containers.get(container_id)
            if replace:
                container.exec_run(["python3", "-c", _CLEAR, *(f.target for f in folders)])
            container.put_archive("/", buffer.getvalue())

    def start(self, container_id: str) -> None:
        with self._errors("starting a container"):
            self.client.api.start(container_id)

    def remove(self, container_id: str) -> str | None:
        try:
            name = str(self.client.api.inspect_container(container_id)["Name"]).lstrip("/")
            self.client.api.remove_container(container_id, force=True, v=True)
        except docker.errors.NotFound:
            return None
        except _SDK_ERRORS as err:
            raise MockStartError(f"could not remove container {container_id[:12]}: {_reason(err)}") from None
        return name

    def find(self, name: str) -> ContainerInfo | None:
        with self._errors(f"looking for a container named {name}"):
            try:
                return _info(self.client.api.inspect_container(name))
            except docker.errors.NotFound:
                return None

    def labelled(self, *labels: str) -> list[ContainerInfo]:
        with self._errors("listing containers"):
            found = self.client.containers.list(all=True, sparse=True, filters={"label": list(labels)})
        return [_listed(c.attrs) for c in found]

    def state(self, container_id: str) -> ContainerInfo:
        with self._errors("inspecting a container"):
            return _info(self.client.api.inspect_container(container_id))

    def run_reaper(self, image: str, project: str, session: str) -> int | None:
        """Start the reaper of ``session`` (:mod:`~thriftbox.runtime.docker.reaper`); its published port, or
        None when the engine's socket cannot be mounted into it (an engine on another machine)."""
        address = _address()
        if not address.startswith("unix://"):
            return None
        labels = {names.LABEL_PROJECT: project, names.LABEL_SESSION: session, names.LABEL_ROLE: "reaper"}
        with self._errors("starting the reaper container"):
            container = self.client.containers.run(
                image,
                ["reaper", "--project", project, "--session", session],
                name=names.reaper_name(project, session),
                labels=labels,
                detach=True,
                auto_remove=True,
                init=True,
                volumes={address.removeprefix("unix://"): {"bind": "/var/run/docker.sock", "mode": "rw"}},
                ports={f"{reaper.PORT}/tcp": ("127.0.0.1", None)},
            )
        return self.published_port(str(container.id), reaper.PORT)

    def published_port(self, container_id: str, port: int) -> int | None:
        with self._errors("inspecting a container"):
            ports = self.client.api.inspect_container(container_id)["NetworkSettings"]["Ports"] or {}
        bound = ports.get(f"{port}/tcp") or []
        return int(bound[0]["HostPort"]) if bound else None

    def logs(self, container_id: str, follow: bool) -> Iterator[str]:
        with self._errors("reading a container's log"):
            if not follow:
                text = self.client.api.logs(container_id, stdout=True, stderr=True, stream=False)
                yield from bytes(text).decode("utf-8", "replace").splitlines()
                return
            stream = self.client.api.logs(container_id, stdout=True, stderr=True, stream=True, follow=True)
            try:
                pending = b""
                for chunk in stream:
                    *lines, pending = (pending + chunk).split(b"\n")
                    for line in lines:
                        yield line.decode("utf-8", "replace").rstrip("\r")
            finally:  # also when the reader stops: close() shuts the socket, the response releases it
                stream.close()
                stream._response.close()

    def holder_of(self, port: int) -> str | None:
        try:
            running = self.client.containers.list(sparse=True)
        except _SDK_ERRORS:
            return None
        for container in running:
            if any(p.get("PublicPort") == port for p in container.attrs.get("Ports") or []):
                info = _listed(container.attrs)
                project = info.labels.get(names.LABEL_PROJECT)
                left = (
                    f", thriftbox project {project!r}: `thriftbox down` removes leftovers" if project else ""
                )
                return f"container {info.name}{left}"
        return None


def _info(attrs: Mapping[str, Any]) -> ContainerInfo:
    """From ``inspect``."""
    state = attrs.get("State") or {}
    return ContainerInfo(
        id=str(attrs["Id"]),
        name=str(attrs.get("Name", "")).lstrip("/"),
        state=str(state.get("Status", "")),
        exit_code=str(state.get("ExitCode", "?")),
        labels=dict((attrs.get("Config") or {}).get("Labels") or {}),
    )


def _listed(attrs: Mapping[str, Any]) -> ContainerInfo:
    """From a container list: ``State`` is a word and the exit code is only in ``Exited (137) 2 seconds ago``."""
    code = re.search(r"\((-?\d+)\)", str(attrs.get("Status", "")))
    return ContainerInfo(
        id=str(attrs["Id"]),
        name=str((attrs.get("Names") or ["?"])[0]).lstrip("/"),
        state=str(attrs.get("State", "")),
        exit_code=code.group(1) if code else "?",
        labels=dict(attrs.get("Labels") or {}),
    )


def _skip_vcs(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
    parts = set(PurePosixPath(info.name).parts)
    return None if parts & {".git", ".hg", ".svn", "__pycache__"} else info


class DockerRuntime(ContainerRuntime):
    """Serve each mock in its own Docker container (see the module docstring). Lazy: no client until start."""

    def _connect(self) -> SdkEngine:
        return SdkEngine.connect()

    def _guard(self) -> None:
        """Start this session's reaper and hold a connection to it: if this process dies, it cleans up."""
        assert self.project is not None
        engine = self.engine
        assert isinstance(engine, SdkEngine)
        port = engine.run_reaper(self.image_tag, self.project.name, self.session)
        if port is None:
            logger.info("no reaper: the engine at %s cannot lend its socket to a container", _address())
            return
        self._lifeline = reaper.hold("127.0.0.1", port)


def reap(project_name: str, session: str) -> list[str]:
    """What the reaper does: remove the containers of ``session`` (not the reaper's own: it removes itself on
    exit) and the project network when nothing else uses it; the names removed."""
    engine = SdkEngine.connect(timeout=30)
    try:
        found = engine.labelled(f"{names.LABEL_PROJECT}={project_name}", f"{names.LABEL_SESSION}={session}")
        doomed = [c.id for c in found if c.labels.get(names.LABEL_ROLE) != "reaper"]
        removed = [str(name) for name in parallel(engine.remove, doomed) if name]
        network = names.network_name(project_name)
        with contextlib.suppress(*_SDK_ERRORS):  # still in use by another serve of the project: kept
            engine.client.networks.get(network).remove()
            removed.append(network)
        return removed
    finally:
        engine.close()


# -- for the CLI: `thriftbox logs` and `thriftbox down` ------------------------------------------------------------


def container_logs(project_name: str, service_id: str, follow: bool = False) -> Iterator[str]:
    """The log of the container serving ``service_id`` in ``project_name`` (for ``thriftbox logs``)."""
    engine = SdkEngine.connect()
    try:
        found = engine.labelled(
            f"{names.LABEL_PROJECT}={project_name}", f"{names.LABEL_SERVICE}={service_id}"
        )
        if not found:
            raise ConfigError(
                f"no container serves {service_id} in project {project_name}",
                hint="is `thriftbox serve --runtime docker` running in this folder?",
            )
    except ThriftboxError:
        engine.close()
        raise
    return _closing(engine, engine.logs(found[0].id, follow))


def _closing(engine: SdkEngine, lines: Iterator[str]) -> Iterator[str]:
    try:
        yield from lines
    finally:
        engine.close()


def down(project_name: str | None) -> list[str]:
    """Remove the containers and networks thriftbox left for ``project_name`` (every project with None)."""
    engine = SdkEngine.connect()
    label = f"{names.LABEL_PROJECT}={project_name}" if project_name else names.LABEL_PROJECT
    try:
        containers = parallel(engine.remove, [c.id for c in engine.labelled(label)])
        return [str(name) for name in containers if name] + engine.remove_networks(label)
    finally:
        engine.close()
