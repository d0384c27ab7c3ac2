"""What a mock container looks like: names, DNS aliases, labels, mounts, ports and command line.

Pure functions of the project and the service; :mod:`thriftbox.runtime.docker.sdk` turns a :class:`ContainerPlan`
into SDK calls. Folders appear inside the container at the same absolute path as on this machine (unless that
path would hide part of the image), so relative ``include``\\ s between folders keep working and error messages
from a container name the files the user edits.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from thriftbox.control.auth import HOST_TOKEN_ENV
from thriftbox.host.config import HostConfig, ProxyTarget
from thriftbox.project.real import RealService
from thriftbox.runtime.base import MockSpec, Project

LABEL_SERVICE = "thriftbox.service"
LABEL_PROJECT = "thriftbox.project"
LABEL_VERSION = "thriftbox.version"
LABEL_SESSION = "thriftbox.session"
LABEL_ROLE = "thriftbox.role"  # "reaper" on a session's reaper container (runtime.docker.reaper), "real" on
# a [real.NAME] service's (its LABEL_SERVICE is NAME)
LABEL_MOUNTS = "thriftbox.mounts"  # a hash of the folders mounted: a change means the container is recreated

STATE_TARGET = "/thriftbox/state"  # where a container's host keeps what survives its restart (host.persist)
CONTROL_PORT = 7300  # the control endpoint inside every container (published on a random loopback port)
DEFAULT_ENGINE = "unix:///var/run/docker.sock"
# A host folder that is one of these or holds one would cover part of the image if mounted at its own path;
# one inside _NO_MOUNT cannot be mounted there at all.
_RESERVED = frozenset(
    {"/bin", "/dev", "/etc", "/lib", "/lib64", "/opt/thriftbox", "/proc", "/sbin", "/sys", "/usr", "/var"}
)
_NO_MOUNT = ("/dev", "/proc", "/sys", "/opt/thriftbox", "/thriftbox")
_LOCAL_HOSTS = {"", "localhost", "127.0.0.1", "::1"}
TLS_DIR = "/thriftbox/tls"  # where a container sees the TLS files of `serve --tls-cert ...` (read-only)


def dns_name(service_id: str) -> str:
    """A DNS label for a service id: ``users.Users`` -> ``users-users`` (at most 63 characters)."""
    slug = re.sub(r"[^a-z0-9]+", "-", service_id.lower()).strip("-") or "service"
    if len(slug) > 63:
        slug = slug[:54].rstrip("-") + "-" + hashlib.sha256(service_id.encode()).hexdigest()[:8]
    return slug


def container_name(project: str, service_id: str) -> str:
    return f"thriftbox-{project}-{dns_name(service_id)}"


def reaper_name(project: str, session: str) -> str:
    return f"thriftbox-{project}-reaper-{session[:8]}"


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
    state_dir: Path | None = None  # this machine's folder mounted writable at STATE_TARGET (None: none)
    record_dir: Path | None = None  # mocks/recorded, mounted writable at its own path (serve --record)

    def binds(self) -> dict[str, dict[str, str]]:
        """Docker SDK ``volumes=``: every folder read-only at its target path, the state folder and the record
        folder writable (the latter inside the read-only stub folder: the engine mounts it on top)."""
        binds = {str(f.source): {"bind": f.target, "mode": "ro"} for f in self.folders}
        if self.state_dir is not None:
            binds[str(self.state_dir)] = {"bind": STATE_TARGET, "mode": "rw"}
        if self.record_dir is not None:
            binds[str(self.record_dir)] = {"bind": container_path(self.record_dir), "mode": "rw"}
        return binds

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
    """The folders a mock needs: IDL, include and stub folders, then ``extra`` ones (see :func:`outside`),
    then the TLS files, each on its own (never the folder that holds them: other keys may live there)."""
    unique = dict.fromkeys([*_given_folders(project), *(p.resolve() for p in extra)])
    return tuple(Folder(p, container_path(p)) for p in unique) + tuple(
        Folder(source, target) for source, target in _tls_files(project).values()
    )


def _tls_files(project: Project) -> dict[str, tuple[Path, str]]:
    """HostConfig field -> (file on this machine, its path in the container), for the TLS files given."""
    given = {"tls_cert": project.tls_cert, "tls_key": project.tls_key, "tls_client_ca": project.tls_client_ca}
    names = {"tls_cert": "cert.pem", "tls_key": "key.pem", "tls_client_ca": "client-ca.pem"}
    found = {k: (p.resolve(), f"{TLS_DIR}/{names[k]}") for k, p in given.items() if p is not None}
    for f in sorted(
        {f for target in project.proxies.values() for f in target.files}
    ):  # proxy_ca, proxy_cert...
        found[f] = (Path(f).resolve(), f"{TLS_DIR}/proxy-{len(found)}.pem")
    return found


def _proxy_files(project: Project) -> dict[str, str]:
    """The proxies' TLS files: path on this machine -> path in the container."""
    return {k: target for k, (_, target) in _tls_files(project).items() if not k.startswith("tls_")}


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


def _tls_target(project: Project, name: str) -> Path | None:
    found = _tls_files(project).get(name)
    return Path(found[1]) if found is not None else None


def host_command(
    project: Project,
    spec: MockSpec,
    control_port: int,
    keep_state: bool = False,
    proxies: Mapping[str, ProxyTarget] | None = None,
    record: bool = False,
) -> list[str]:
    """Arguments of ``thriftbox host`` inside a container serving ``spec`` on its own port.

    ``proxies``: the backends as the container reaches them (relays, see :mod:`thriftbox.runtime.docker.relay`;
    None: as configured); ``record``: recorded files go to the project's record folder, mounted at its path.
    """
    targets = project.proxies if proxies is None else proxies
    record_dir = project.record_dir if record and spec.service_id in targets else None
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
        state_dir=Path(STATE_TARGET) if keep_state else None,
        tls_cert=_tls_target(project, "tls_cert"),
        tls_key=_tls_target(project, "tls_key"),
        tls_client_ca=_tls_target(project, "tls_client_ca"),
        proxies={k: v.moved(_proxy_files(project)) for k, v in targets.items() if k == spec.service_id},
        proxy_mode=project.proxy_mode,
        record_dir=Path(container_path(record_dir)) if record_dir is not None else None,
        redact=project.redact,
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
    proxies: Mapping[str, ProxyTarget] | None = None,
) -> ContainerPlan:
    """Everything about the container of one service, before any engine is asked.

    ``extra_dirs`` are mounted besides the project's folders: those of included files outside them. ``proxies``:
    the backends as containers reach them (None: as configured). A recording proxy's container gets the record
    folder writable (not with a remote engine: its writes could not reach this machine).
    """
    record = not remote and project.record_dir is not None and spec.service_id in project.proxies
    mounted = folders(project, extra_dirs)
    state_dir = None if remote else project.layout.hosts_dir / dns_name(spec.service_id)
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
        command=host_command(
            project, spec, control_port, keep_state=state_dir is not None, proxies=proxies, record=record
        ),
        labels=labels,
        folders=mounted,
        publish_host=project.host,
        control_host=project.host if remote else "127.0.0.1",
        env={HOST_TOKEN_ENV: project.control_token},  # the environment, not the command line `ps` shows
        state_dir=state_dir,
        record_dir=project.record_dir if record else None,
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


@dataclass(frozen=True)
class RealPlan:
    """The container of a ``[real.NAME]`` service (placeholders resolved): on the project network as NAME."""

    name: str  # the container's
    service: str  # NAME
    image: str
    alias: str
    network: str
    command: list[str]
    env: dict[str, str]
    labels: dict[str, str]
    binds: dict[str, dict[str, str]]
    ports: dict[str, tuple[str, int]]
    publish_host: str
    working_dir: str | None = None


def real_container_name(project: str, name: str) -> str:
    return f"thriftbox-{project}-real-{dns_name(name)}"


def real_image_tag(project: str, name: str) -> str:
    """The tag a ``build = "folder"`` real service is built under."""
    return f"thriftbox-{project}-real-{dns_name(name)}:latest"


def plan_real(project: Project, svc: RealService, image: str, *, session: str, version: str) -> RealPlan:
    """Everything about the container of a real service, before any engine is asked."""
    labels = {
        LABEL_SERVICE: svc.name,
        LABEL_PROJECT: project.name,
        LABEL_VERSION: version,
        LABEL_SESSION: session,
        LABEL_ROLE: "real",
    }
    return RealPlan(
        name=real_container_name(project.name, svc.name),
        service=svc.name,
        image=image,
        alias=dns_name(svc.name),
        network=network_name(project.name),
        command=list(svc.command),
        env=dict(svc.environment),
        labels=labels,
        binds={str(v.source): {"bind": v.target, "mode": "ro" if v.read_only else "rw"} for v in svc.volumes},
        ports={f"{inside}/tcp": (project.host, outside) for outside, inside in svc.ports},
        publish_host=project.host,
        working_dir=svc.working_dir,
    )
