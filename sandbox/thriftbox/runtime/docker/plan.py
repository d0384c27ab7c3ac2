"""What a mock container looks like: names, DNS aliases, labels, mounts, ports and command line.

Pure functions of the project and the service; :mod:`thriftbox.runtime.docker.sdk` turns a :class:`ContainerPlan`
into SDK calls. Folders appear inside the container at the same absolute path as on this machine (unless that
path would hide part of the image), so relative ``include``\\ s between folders keep working and error messages
from a container name the files the user edits.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from thriftbox.control.auth import HOST_TOKEN_ENV
from thriftbox.host.config import HostConfig
from thriftbox.runtime.base import MockSpec, Project

LABEL_SERVICE = "thriftbox.service"
LABEL_PROJECT = "thriftbox.project"
LABEL_VERSION = "thriftbox.version"
LABEL_SESSION = "thriftbox.session"
LABEL_MOUNTS = "thriftbox.mounts"  # a hash of the folders mounted: a change means the container is recreated

CONTROL_PORT = 7300  # the control endpoint inside every container (published on a random loopback port)
DEFAULT_ENGINE = "unix:///var/run/docker.sock"
# A host folder that is one of these or holds one would cover part of the image if mounted at its own path;
# one inside _NO_MOUNT cannot be mounted there at all.
_RESERVED = frozenset(
    {"/bin", "/dev", "/etc", "/lib", "/lib64", "/opt/thriftbox", "/proc", "/sbin", "/sys", "/usr", "/var"}
)
_NO_MOUNT = ("/dev", "/proc", "/sys", "/opt/thriftbox", "/thriftbox")
_LOCAL_HOSTS = {"", "localhost", "127.0.0.1", "::1"}


def dns_name(service_id: str) -> str:
    """A DNS label for a service id: ``users.Users`` -> ``users-users`` (at most 63 characters)."""
    slug = re.sub(r"[^a-z0-9]+", "-", service_id.lower()).strip("-") or "service"
    if len(slug) > 63:
        slug = slug[:54].rstrip("-") + "-" + hashlib.sha256(service_id.encode()).hexdigest()[:8]
    return slug


def container_name(project: str, service_id: str) -> str:
    return f"thriftbox-{project}-{dns_name(service_id)}"


def network_name(project: str) -> str:
    return f"thriftbox-{project}"


def container_path(host_path: Path) -> str:
    """Where a host folder appears in a container: the same path, unless it would cover part of the image."""
    posix = PurePosixPath(host_path.as_posix())
    covers = any(PurePosixPath(reserved).is_relative_to(posix) for reserved in _RESERVED)
    if covers or any(posix.is_relative_to(inner) for inner in _NO_MOUNT):
        return str(PurePosixPath("/thriftbox/src") / posix.relative_to(posix.anchor))
    return str(posix)


@dataclass(frozen=True)
class Folder:
    """A host folder made visible in containers (bind-mounted read-only, or copied in for remote engines)."""

    source: Path
    target: str


@dataclass(frozen=True)
class ContainerPlan:
    name: str
    service_id: str
    port: int
    control_port: int
    alias: str
    network: str
    command: list[str]
    labels: dict[str, str]
    folders: tuple[Folder, ...]
    publish_host: str
    control_host: str = "127.0.0.1"
    env: dict[str, str] = field(default_factory=dict)

    def binds(self) -> dict[str, dict[str, str]]:
        """Docker SDK ``volumes=``: every folder read-only at its target path."""
        return {str(f.source): {"bind": f.target, "mode": "ro"} for f in self.folders}

    def ports(self) -> dict[str, tuple[str, int | None]]:
        """Docker SDK ``ports=``: the service on its own number, the control endpoint on a random port."""
        return {
            f"{self.port}/tcp": (self.publish_host, self.port),
            f"{self.control_port}/tcp": (self.control_host, None),
        }


def _given_folders(project: Project) -> list[Path]:
    """IDL folders (a file's parent folder, never the file), include and stub folders, resolved."""
    sources: list[Path] = []
    for path in (*project.idl_dirs, *project.include_dirs):
        sources.append(path if path.is_dir() or path.suffix != ".thrift" else path.parent)
    if project.mocks_dir is not None and project.mocks_dir.is_dir():
        sources.append(project.mocks_dir)
    return list(dict.fromkeys(p.resolve() for p in sources if p.is_dir()))


def folders(project: Project, extra: Iterable[Path] = ()) -> tuple[Folder, ...]:
    """The folders a mock needs: IDL, include and stub folders, then ``extra`` ones (see :func:`outside`)."""
    unique = dict.fromkeys([*_given_folders(project), *(p.resolve() for p in extra)])
    return tuple(Folder(p, container_path(p)) for p in unique)


def outside(project: Project, files: Iterable[Path]) -> tuple[Path, ...]:
    """The folders of ``files`` (a catalog's) that no IDL, include or stub folder holds, sorted.

    ``include "../ext/extra.thrift"`` reaches outside the folders given to ``serve``; the container needs the
    folder of ``extra.thrift`` too. A folder inside another one of the result is left out.
    """
    given = _given_folders(project)
    parents = sorted({f.resolve().parent for f in files} - set(given))
    kept: list[Path] = []
    for folder in parents:  # sorted: a folder comes before those inside it
        if not any(folder.is_relative_to(g) for g in (*given, *kept)):
            kept.append(folder)
    return tuple(kept)


def _inside(path: Path) -> str:
    """The container path of a host file or folder that lies in one of the mounted folders."""
    resolved = path.resolve()
    if resolved.is_dir() or resolved.suffix != ".thrift":
        return container_path(resolved)
    return str(PurePosixPath(container_path(resolved.parent)) / resolved.name)


def host_command(project: Project, spec: MockSpec, control_port: int) -> list[str]:
    """Arguments of ``thriftbox host`` inside a container serving ``spec`` on its own port."""
    mocks = project.mocks_dir if project.mocks_dir is not None and project.mocks_dir.is_dir() else None
    config = HostConfig(
        idl_dirs=tuple(Path(_inside(p)) for p in project.idl_dirs),  # paths in the container (POSIX)
        services={spec.service_id: spec.port},
        include_dirs=tuple(Path(_inside(p)) for p in project.include_dirs),
        mocks_dir=Path(_inside(mocks)) if mocks is not None else None,
        seed=project.seed,
        bind="0.0.0.0",
        control_port=control_port,
        control_bind="0.0.0.0",  # the published port reaches it through the container's interface
        max_frame=project.max_frame,
        workers=project.workers,
        now=project.now,
        # a backend on the host's loopback is not reachable from a container: docs/recording.md
        proxies={k: v for k, v in project.proxies.items() if k == spec.service_id},
        proxy_mode=project.proxy_mode,
    )
    return config.argv()


def mounts_key(items: tuple[Folder, ...]) -> str:
    blob = "\n".join(f"{f.source}:{f.target}" for f in items)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def plan_container(
    project: Project,
    spec: MockSpec,
    *,
    session: str,
    version: str,
    remote: bool = False,
    extra_dirs: Iterable[Path] = (),
) -> ContainerPlan:
    """Everything about the container of one service, before any engine is asked.

    ``extra_dirs`` are mounted besides the project's folders: those of included files outside them.
    """
    mounted = folders(project, extra_dirs)
    control_port = CONTROL_PORT if spec.port != CONTROL_PORT else CONTROL_PORT + 1
    labels = {
        LABEL_SERVICE: spec.service_id,
        LABEL_PROJECT: project.name,
        LABEL_VERSION: version,
        LABEL_SESSION: session,
        LABEL_MOUNTS: mounts_key(mounted),
    }
    return ContainerPlan(
        name=container_name(project.name, spec.service_id),
        service_id=spec.service_id,
        port=spec.port,
        control_port=control_port,
        alias=dns_name(spec.service_id),
        network=network_name(project.name),
        command=host_command(project, spec, control_port),
        labels=labels,
        folders=mounted,
        publish_host=project.host,
        control_host=project.host if remote else "127.0.0.1",
        env={HOST_TOKEN_ENV: project.control_token},  # the environment, not the command line `ps` shows
    )


def engine_address(docker_host: str | None) -> str:
    """The engine the SDK will talk to, as the user would recognise it."""
    return docker_host or DEFAULT_ENGINE


def remote_engine_host(docker_host: str | None) -> str | None:
    """The engine's host name when it runs on another machine (folders must be copied in), else None."""
    if not docker_host:
        return None
    parts = urlsplit(docker_host)
    if parts.scheme in ("unix", "npipe", "fd", ""):
        return None
    host = parts.hostname or ""
    return None if host in _LOCAL_HOSTS else host
