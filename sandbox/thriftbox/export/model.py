"""What an export deploys, decided once for every format: :class:`ExportPlan`.

:func:`plan_export` loads the IDL as ``serve`` does (same checks, same services, same stable ports from
``project.ports``) and describes each mock as the Docker runtime would run it: the mock image, the DNS name of
``runtime.docker.plan.dns_name``, ``thriftbox host`` on its port. The renderers (:mod:`.compose`,
:mod:`.kubernetes`) are pure functions of the plan.

Folders (IDL, includes, stubs, and folders of included files outside them) keep their layout relative to each
other under :data:`PROJECT_DIR` in the container, so relative ``include``\\ s keep working.

Real services (``[real.NAME]`` of the project file) are :attr:`ExportPlan.real`: their image (or the tag the
Docker runtime builds a ``build`` folder under), command, ports, volumes, and environment with ``{users.Users}``
resolved to the mocks' DNS names and ports, as the Docker runtime resolves it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from thriftbox.errors import ConfigError
from thriftbox.host.config import HostConfig
from thriftbox.idl import load_catalog
from thriftbox.project import placeholders
from thriftbox.project.file import check_services
from thriftbox.project.layout import Layout, project_name
from thriftbox.project.ports import assign_ports
from thriftbox.project.real import Volume, check_runnable
from thriftbox.runtime.base import Project
from thriftbox.runtime.docker import image, wheelhouse
from thriftbox.runtime.docker.plan import dns_name as dns_name
from thriftbox.runtime.docker.plan import outside, real_image_tag
from thriftbox.supervisor.config import ServeConfig, validate_paths
from thriftbox.supervisor.reloader import load_stub_book
from thriftbox.values import check_annotations

PROJECT_DIR = "/project"  # where the project's folders appear in an exported container
CONTROL_PORT = 7300  # a mock's control endpoint, on the container's loopback (not published)
PROBE = ("python3", "-m", "thriftbox", "probe")  # a real Thrift call; exit 0 when it is answered


@dataclass(frozen=True)
class Mount:
    """A folder of this machine, seen read-only at ``target`` in every mock container."""

    source: Path  # absolute
    target: str  # under PROJECT_DIR
    role: str  # "idl", "include", "mocks" or "extra": what it holds


@dataclass(frozen=True)
class MockExport:
    service_id: str
    name: str  # the DNS name (users.Users -> users-users), as in the Docker runtime
    port: int
    replicas: int
    command: tuple[str, ...]  # arguments after the image's entrypoint (`python3 -m thriftbox`)

    @property
    def probe(self) -> list[str]:
        """The health check: a real Thrift call to the mock's own port, from inside its container."""
        return [*PROBE, f"127.0.0.1:{self.port}"]


@dataclass(frozen=True)
class RealExport:
    """A ``[real.NAME]`` service as an export runs it: in a container on the mocks' network, as NAME."""

    name: str
    image: str  # its image, or the tag `build` is built under (thriftbox-PROJECT-real-NAME:latest)
    build: Path | None  # a Dockerfile folder (Compose builds it; a swarm or cluster needs the image pushed)
    command: tuple[str, ...]
    environment: dict[str, str]  # placeholders resolved to the mocks' DNS names
    volumes: tuple[Volume, ...]
    ports: tuple[tuple[int, int], ...]  # (published, inside)
    working_dir: str | None


@dataclass(frozen=True)
class ExportPlan:
    project: str  # the project's slug (folder name), as the Docker runtime labels containers
    image: str  # the mock image every mock runs
    mounts: tuple[Mount, ...]
    mocks: tuple[MockExport, ...]
    first_port: int
    seed: int = 0
    idl: tuple[
        str, ...
    ] = ()  # what `serve` is given, as container paths (for a baked image's thriftbox.toml)
    include: tuple[str, ...] = ()
    mocks_dir: str | None = None
    disabled: tuple[str, ...] = ()
    real: tuple[RealExport, ...] = field(default=())  # the [real.NAME] services

    def files(self, mount: Mount) -> dict[str, str]:
        """Relative POSIX path -> text of every file under ``mount`` (for ConfigMaps and baked images)."""
        out = {}
        for path in sorted(mount.source.rglob("*")):
            rel = path.relative_to(mount.source)
            if path.is_file() and not any(p.startswith(".") or p == "__pycache__" for p in rel.parts):
                out[rel.as_posix()] = path.read_text(encoding="utf-8")
        return out


def plan_export(config: ServeConfig, image_tag: str | None = None) -> ExportPlan:
    """The plan of what ``serve --runtime docker`` would run for ``config``; errors as ``serve`` reports them."""
    idl = validate_paths(config.paths)
    includes = validate_paths(config.include_dirs)
    mocks_dir = validate_paths([config.mocks_dir])[0] if config.mocks_dir else None
    catalog = load_catalog(idl, includes)
    check_annotations(catalog)
    if not catalog.services:
        raise ConfigError(
            "no service found in " + ", ".join(map(str, idl)),
            hint="thriftbox exports the `service` definitions of your .thrift files; check the folder",
        )
    check_services(config.services, catalog, strict=config.strict_services)
    load_stub_book(mocks_dir, catalog)  # a broken stub file stops the export, as it stops serve
    served = [sid for sid in catalog.services if sid not in config.disabled]
    if not served:
        raise ConfigError("every service is disabled (enabled = false in thriftbox.toml)")
    root = config.root.resolve()
    ports = assign_ports(Layout(root), served, config.port, host=config.host, fixed=config.fixed_ports)
    project = Project(
        root=root, name=project_name(root), idl_dirs=idl, include_dirs=includes, mocks_dir=mocks_dir
    )
    roles: list[tuple[Path, str]] = [(_folder(p), "idl") for p in idl] + [
        (_folder(p), "include") for p in includes
    ]
    if mocks_dir is not None:
        roles.append((_folder(mocks_dir), "mocks"))
    roles += [(p, "extra") for p in outside(project, catalog.files)]
    mounts = _mounts(roles)

    def inside(path: Path) -> Path:
        """Where a folder or file of this machine appears in the container (a POSIX path)."""
        resolved = path.resolve()
        for mount in mounts:
            if resolved.is_relative_to(mount.source):
                return Path(str(PurePosixPath(mount.target) / resolved.relative_to(mount.source).as_posix()))
        raise AssertionError(f"{path} is in no mounted folder")  # every path given was mounted

    mocks = []
    for sid, port in sorted(ports.items(), key=lambda item: item[1]):
        host = HostConfig(
            idl_dirs=tuple(inside(p) for p in idl),
            services={sid: port},
            include_dirs=tuple(inside(p) for p in includes),
            mocks_dir=inside(mocks_dir) if mocks_dir is not None else None,
            seed=config.seed,
            bind="0.0.0.0",  # published ports and other containers arrive through the container's interface
            control_port=CONTROL_PORT if port != CONTROL_PORT else CONTROL_PORT + 1,
            max_frame=config.max_frame,
            workers=config.workers,
            now=config.now,
        )
        settings = config.services.get(sid)
        replicas = settings.replicas if settings is not None else 1
        mocks.append(MockExport(sid, dns_name(sid), port, replicas, tuple(host.argv())))
    tag = image_tag or image.image_tag(image.base_image(config.base_image), wheelhouse.runtime_requirements())
    return ExportPlan(
        project.name,
        tag,
        mounts,
        tuple(mocks),
        config.port,
        seed=config.seed,
        idl=tuple(str(inside(p)) for p in idl),
        include=tuple(str(inside(p)) for p in includes),
        mocks_dir=str(inside(mocks_dir)) if mocks_dir is not None else None,
        disabled=tuple(sorted(config.disabled & set(catalog.services))),
        real=_real(config, project.name, {m.service_id: (m.name, m.port) for m in mocks}),
    )


def _real(config: ServeConfig, project: str, addresses: dict[str, tuple[str, int]]) -> tuple[RealExport, ...]:
    """The real services, placeholders checked and resolved as the Docker runtime resolves them."""
    placeholders.check(config.real, addresses, config.disabled)
    check_runnable(config.real, "docker")
    out = []
    for name, svc in sorted(config.real.items()):
        svc = placeholders.resolve(svc, addresses)
        image_ref = svc.image or real_image_tag(project, name)
        out.append(
            RealExport(
                name,
                image_ref,
                svc.build,
                svc.command,
                dict(svc.environment),
                svc.volumes,
                svc.ports,
                svc.working_dir,
            )
        )
    return tuple(out)


def _folder(path: Path) -> Path:
    """A folder given, or the folder of a ``.thrift`` file given."""
    path = path.resolve()
    return path if path.is_dir() else path.parent


def _mounts(roles: list[tuple[Path, str]]) -> tuple[Mount, ...]:
    """One mount per folder not inside another; targets keep the folders' layout under PROJECT_DIR."""
    kept: dict[Path, str] = {}
    for folder, role in sorted(roles, key=lambda item: len(item[0].parts)):
        if not any(folder == k or folder.is_relative_to(k) for k in kept):
            kept[folder] = role
    if not kept:
        return ()
    base = Path(os.path.commonpath([f.parent for f in kept]))
    return tuple(
        Mount(folder, str(PurePosixPath(PROJECT_DIR) / folder.relative_to(base).as_posix()), role)
        for folder, role in kept.items()
    )


def relative_source(mount: Mount, out_dir: Path) -> str:
    """The mount's folder relative to ``out_dir`` (where the exported file lies), as Compose wants it."""
    rel = Path(os.path.relpath(mount.source, out_dir.resolve())).as_posix()
    if rel == ".":
        return "."
    return rel if rel.startswith("..") else f"./{rel}"
