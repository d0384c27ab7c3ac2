"""Real services as containers on the mocks' network (the Docker runtime's :class:`~thriftbox.runtime.real.RealRunner`).

A real service's container carries the session's labels (``thriftbox.role=real``), so the runtime's stop, the
session's reaper and ``thriftbox down`` remove it like a mock's. Its image must exist on the engine (nothing is
pulled), or is built from its ``build`` folder before any mock starts.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass

from thriftbox import about
from thriftbox.errors import ConfigError, ThriftboxError
from thriftbox.project.placeholders import Address
from thriftbox.project.real import RealService
from thriftbox.runtime.base import MockStatus, Project
from thriftbox.runtime.docker import plan as names
from thriftbox.runtime.docker.containers import ContainerRuntime
from thriftbox.runtime.docker.image import BuildLog
from thriftbox.runtime.wait import exited_line, local_host

logger = logging.getLogger(__name__)


@dataclass
class _Container:
    plan: names.RealPlan
    container_id: str
    ports: tuple[tuple[int, int], ...]
    reported: bool = False


class ContainerReal:
    """Real services of a :class:`ContainerRuntime`'s session, in its engine and on its network."""

    def __init__(self, runtime: ContainerRuntime, project: Project) -> None:
        self.runtime = runtime
        self.project = project
        self.images: dict[str, str] = {}  # NAME -> the image it runs
        self.containers: dict[str, _Container] = {}

    def addresses(self, ports: Mapping[str, int]) -> dict[str, Address]:
        """A mock's DNS name on the project network and the port its host listens on in its container."""
        return {sid: (names.dns_name(sid), port) for sid, port in ports.items()}

    def prepare(self, services: Sequence[RealService]) -> None:
        engine = self.runtime.engine
        for svc in services:
            for volume in svc.volumes:
                if not volume.source.exists():  # the engine would mount a new, empty folder owned by root
                    raise ConfigError(
                        f"[real.{svc.name}] volume source {volume.source}: no such file or folder",
                        hint="SRC is relative to thriftbox.toml",
                        location=svc.location("volumes"),
                    )
            if svc.image is not None:
                if not engine.has_image(svc.image):
                    raise ConfigError(
                        f"[real.{svc.name}] image {svc.image!r} does not exist on the Docker engine "
                        f"at {engine.address}",
                        hint=f"build or pull it first (`docker pull {svc.image}`: thriftbox pulls nothing for "
                        'real services), or give build = "./folder" with a Dockerfile',
                        location=svc.location("image"),
                    )
                self.images[svc.name] = svc.image
            elif svc.build is not None:
                self.images[svc.name] = self._build(svc)

    def _build(self, svc: RealService) -> str:
        assert svc.build is not None
        if not (svc.build / "Dockerfile").is_file():
            raise ConfigError(
                f"[real.{svc.name}] build: no Dockerfile in {svc.build}",
                hint="build names a folder holding a Dockerfile, relative to thriftbox.toml",
                location=svc.location("build"),
            )
        tag = names.real_image_tag(self.project.name, svc.name)
        t0 = time.perf_counter()
        self.runtime._progress(f"building {tag} from {svc.build}")
        log = BuildLog(self.runtime._progress)
        labels = {names.LABEL_PROJECT: self.project.name, names.LABEL_ROLE: "real"}
        try:
            for chunk in self.runtime.engine.build(svc.build, tag, labels, offline=False):
                log.feed(chunk)
        except ThriftboxError as err:
            log.error = err.message
        if log.error:
            raise ConfigError(
                f"[real.{svc.name}] building {svc.build} failed: {log.error}",
                hint="last lines of the build:\n" + "\n".join(log.tail),
                location=svc.location("build"),
            )
        self.runtime._progress(f"built {tag} in {time.perf_counter() - t0:.1f} s")
        return tag

    def start(self, services: Sequence[RealService]) -> None:
        project = self.project
        for svc in services:
            plan = names.plan_real(
                project, svc, self.images[svc.name], session=self.runtime.session, version=about.__version__
            )
            self.runtime._clear_name(plan.name)
            engine = self.runtime.engine
            container_id = engine.create_real(plan)
            self.containers[svc.name] = _Container(plan, container_id, svc.ports)
            engine.start(container_id)

    def stop(self, names_: Collection[str] | None = None) -> None:
        engine = self.runtime._engine
        doomed = [n for n in self.containers if names_ is None or n in names_]
        for name in doomed:
            gone = self.containers.pop(name)
            if engine is None:
                continue  # the runtime stopped: its stop removed every container of the session
            try:
                engine.remove(gone.container_id)
            except ThriftboxError as err:
                logger.warning("real service %s: could not remove %s: %s", name, gone.plan.name, err)

    def _states(self) -> dict[str, tuple[str, str]]:
        """Container id -> (state, exit code) of this session's real services."""
        engine = self.runtime._engine
        if engine is None:
            return {}
        try:
            found = engine.labelled(
                f"{names.LABEL_SESSION}={self.runtime.session}", f"{names.LABEL_ROLE}=real"
            )
        except ThriftboxError:
            return {}
        return {c.id: (c.state, c.exit_code) for c in found}

    def supervise(self) -> list[str]:
        if not self.containers:
            return []
        states = self._states()
        lines = []
        for name, entry in sorted(self.containers.items()):
            state, code = states.get(entry.container_id, ("removed", "?"))
            if state == "running" or entry.reported:
                continue
            entry.reported = True
            try:
                last = list(self.runtime.engine.logs(entry.container_id, follow=False))
            except ThriftboxError:
                last = []
            lines.append(
                exited_line(name, f"{state}, exit code {code}", last, f"`docker logs {entry.plan.name}`")
            )
        return lines

    def status(self) -> list[MockStatus]:
        if not self.containers:
            return []  # no engine request
        project = self.project
        states = self._states()
        rows = []
        for name, entry in sorted(self.containers.items()):
            state, code = states.get(entry.container_id, ("removed", "?"))
            rows.append(
                MockStatus(
                    service=name,
                    host=local_host(project.host),
                    port=entry.ports[0][0] if entry.ports else 0,
                    runtime="docker",
                    state="running" if state == "running" else f"{state} ({code})",
                    detail=entry.plan.name,
                    extra={
                        "container": entry.plan.name,
                        "image": entry.plan.image,
                        "network": f"{entry.plan.alias} on {entry.plan.network}",
                    },
                    kind="real",
                )
            )
        return rows

    def logs(self, name: str, follow: bool = False) -> Iterator[str]:
        entry = self.containers.get(name)
        if entry is None:
            raise ConfigError(f"no real service {name}", hint="served: " + ", ".join(sorted(self.containers)))
        return self.runtime.engine.logs(entry.container_id, follow)
