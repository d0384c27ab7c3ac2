"""The session's real services (``[real.NAME]``): checked before anything starts, started once the mocks answer,
supervised (an exit is reported, never restarted), changed in place when thriftbox.toml is saved."""

from __future__ import annotations

import queue
from collections.abc import Callable, Collection, Iterator, Mapping
from pathlib import Path

from thriftbox.errors import ConfigError, ThriftboxError
from thriftbox.project import placeholders
from thriftbox.project.ports import port_free
from thriftbox.project.real import RealService, check_runnable
from thriftbox.runtime.base import MockStatus, Project, Runtime
from thriftbox.runtime.real import RealRunner
from thriftbox.runtime.registry import real_runner
from thriftbox.runtime.wait import describe_port_holder
from thriftbox.supervisor.config import ServeConfig
from thriftbox.supervisor.reloader import one_line


def check_ports(
    real: Mapping[str, RealService], ports: Mapping[str, int], host: str, running: Collection[str] = ()
) -> None:
    """No real service publishes a port a mock or another real service has, or (unless it is ``running``
    already and holds it) one in use here."""
    owners = {port: f"the mock of {sid}" for sid, port in ports.items()}
    for name, svc in sorted(real.items()):
        for outside, _ in svc.ports:
            owner = owners.get(outside)
            if owner is not None:
                raise ConfigError(
                    f"[real.{name}] publishes port {outside}, which {owner} has",
                    hint='give it another port (ports = ["HOST:CONTAINER"]), or move the mock '
                    '([services."ID"] port = ...)',
                    location=svc.location("ports"),
                )
            owners[outside] = f"[real.{name}]"
            if name not in running and not port_free(host, outside):
                holder = describe_port_holder(outside)
                raise ConfigError(
                    f"[real.{name}] publishes port {outside}, which is in use on {host}"
                    + (f" ({holder})" if holder else ""),
                    hint="stop what holds it, or publish another port",
                    location=svc.location("ports"),
                )


class RealServices:
    """The real services of one session, beside ``runtime``'s mocks on ``ports()`` (the ports served now)."""

    def __init__(
        self, project: Project, runtime: Runtime, config: ServeConfig, ports: Callable[[], Mapping[str, int]]
    ) -> None:
        self.project = project
        self.config = config
        self.ports = ports
        self.runtime_name = runtime.name
        self.runner: RealRunner = real_runner(runtime, project)
        self.running: dict[str, RealService] = {}  # as configured (placeholders unresolved)
        self._watch: ProjectFileWatch | None = None

    def check(self, real: Mapping[str, RealService], ports: Mapping[str, int]) -> None:
        """Everything about ``real`` that can be known before it starts (images built), beside the mocks served
        on ``ports``: a ConfigError at its line otherwise."""
        placeholders.check(real, list(ports), self.config.disabled)
        check_runnable(real, self.runtime_name)
        check_ports(real, ports, self.project.host, running=self.running)
        self.runner.prepare([s for n, s in sorted(real.items()) if self.running.get(n) != s])

    def start(self, real: Mapping[str, RealService], ports: Mapping[str, int]) -> list[str]:
        """Start ``real`` (checked), wired to the mocks on ``ports``; a line per service started."""
        addresses = self.runner.addresses(ports)
        services = [placeholders.resolve(s, addresses) for _, s in sorted(real.items())]
        try:
            self.runner.start(services)
        finally:
            self.running.update({s.name: real[s.name] for s in services if s.name in self._started()})
        return [f"real service {s.name} started ({self.runtime_name})" for s in services]

    def _started(self) -> set[str]:
        return {row.service for row in self.runner.status()}

    def apply(self, real: Mapping[str, RealService], ports: Mapping[str, int]) -> list[str]:
        """Make the running real services those of ``real`` (already checked): stop the removed and changed
        ones, start the new and changed ones, and those that had exited (a save starts them again); the others
        keep running. A line per change."""
        exited = {row.service for row in self.runner.status() if row.state != "running"}
        gone = [n for n in self.running if n not in real]
        changed = [n for n in self.running if n in real and real[n] != self.running[n]]
        again = [n for n in self.running if n in real and n in exited and n not in changed]
        new = [n for n in real if n not in self.running]
        if gone or changed or again:
            self.runner.stop([*gone, *changed, *again])
        for name in (*gone, *changed, *again):
            self.running.pop(name, None)
        started = {n: real[n] for n in (*changed, *again, *new)}
        failed = []
        if started:
            try:
                self.start(started, ports)
            except ThriftboxError as err:  # checked before: rare (the engine refused); the rest stays applied
                failed.append(f"real services {', '.join(sorted(started))}: could not start: {err}")
        return [
            *failed,
            *(f"real service {n} stopped (removed from thriftbox.toml)" for n in gone),
            *(f"real service {n} restarted (changed in thriftbox.toml)" for n in changed),
            *(f"real service {n} started again (it had exited)" for n in again),
            *(f"real service {n} started (added to thriftbox.toml)" for n in new),
        ]

    def reload(self) -> list[str]:
        """Apply the saved project file (see :meth:`apply`); when it is broken or its real services cannot
        start, one line saying why, and nothing changes."""
        from thriftbox.project.file import read_project_file

        path = self.config.project_file
        assert path is not None
        ports = self.ports()
        try:
            project = read_project_file(path)
            self.check(project.real, ports)
        except ThriftboxError as err:
            return [f"{path.name}: not applied, nothing changed: {one_line(err)}"]
        lines = self.apply(project.real, ports)
        if dict(project.services) != dict(self.config.services):
            lines.append(f"{path.name}: [services] changes apply when serve starts again")
        return lines or [f"{path.name}: saved, no real service changed"]

    def watch(self) -> list[str]:
        """Watch thriftbox.toml (when serve read one); a line when it cannot be watched."""
        path = self.config.project_file
        if path is None or self._watch is not None:
            return []
        watch = ProjectFileWatch(path)
        try:
            watch.start()
        except ThriftboxError as err:
            return [f"cannot watch {path.name}: {one_line(err)}"]
        self._watch = watch
        return []

    def supervise(self) -> list[str]:
        """A line per real service that exited, and the changes of a save of thriftbox.toml."""
        lines = self.runner.supervise()
        if self._watch is not None and self._watch.saved():
            lines += self.reload()
        return lines

    def status(self) -> list[MockStatus]:
        return self.runner.status()

    def logs(self, name: str, follow: bool = False) -> Iterator[str]:
        return self.runner.logs(name, follow)

    def stop(self) -> None:
        watch, self._watch = self._watch, None
        if watch is not None:
            watch.stop()
        self.runner.stop()
        self.running.clear()


class ProjectFileWatch:
    """Tells when thriftbox.toml was saved (its folder watched, not recursively; editors' temporary files
    ignored by the watcher)."""

    def __init__(self, path: Path) -> None:
        self.path = path.resolve()
        self._saves: queue.SimpleQueue[set[Path]] = queue.SimpleQueue()
        from thriftbox.supervisor.watch import Watcher

        self._watcher = Watcher([self.path], self._saves.put, suffixes=frozenset({self.path.suffix}))

    def start(self) -> None:
        self._watcher.start()

    def stop(self) -> None:
        self._watcher.stop()

    def saved(self) -> bool:
        """Whether the file was saved since the last call (never waits)."""
        seen = False
        while not self._saves.empty():
            seen = any(p.resolve() == self.path for p in self._saves.get_nowait()) or seen
        return seen
