"""Real services (``[real.NAME]`` of thriftbox.toml) beside the mocks: the runner protocol and local processes.

A runner starts the user's own services once the mocks answer, reports one that exits (with its last log lines;
nothing is restarted), shows them in ``status`` (``kind: "real"``) and stops them with the session. The Docker
runtime's runner is :class:`thriftbox.runtime.docker.real.ContainerReal`;
:func:`thriftbox.runtime.registry.real_runner` picks one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from thriftbox.errors import ConfigError
from thriftbox.project.placeholders import Address
from thriftbox.project.real import RealService
from thriftbox.runtime.base import MockStatus, Project
from thriftbox.runtime.process import _die_with_parent, rotate
from thriftbox.runtime.wait import exited_line, local_host, tail


class RealRunner(Protocol):
    def addresses(self, ports: Mapping[str, int]) -> dict[str, Address]:
        """Service id -> where its mock answers *from where real services run*."""

    def prepare(self, services: Sequence[RealService]) -> None:
        """Check (and build) what ``services`` need before anything starts: a ConfigError at its line."""

    def start(self, services: Sequence[RealService]) -> None:
        """Start ``services`` (placeholders resolved); the mocks they call answer already."""

    def stop(self, names: Collection[str] | None = None) -> None:
        """Stop these real services (every one with None). Idempotent."""

    def supervise(self) -> list[str]:
        """A line for each real service that exited since the last call (with its last log lines)."""

    def status(self) -> list[MockStatus]: ...

    def logs(self, name: str, follow: bool = False) -> Iterator[str]: ...


@dataclass
class _Proc:
    service: RealService
    proc: subprocess.Popen[bytes]
    reported: bool = False


class ProcessReal:
    """Real services as local child processes (``run``), each in its own process group, dying with serve."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.procs: dict[str, _Proc] = {}

    def addresses(self, ports: Mapping[str, int]) -> dict[str, Address]:
        host = local_host(self.project.host)
        return {sid: (host, port) for sid, port in ports.items()}

    def prepare(self, services: Sequence[RealService]) -> None:
        for svc in services:
            cwd = svc.folder / (svc.working_dir or ".")
            if not cwd.is_dir():
                raise ConfigError(
                    f"[real.{svc.name}] working_dir {cwd}: no such folder",
                    hint="in the process runtime working_dir is relative to thriftbox.toml",
                    location=svc.location("working_dir"),
                )
            program = svc.run[0]
            if shutil.which(program, path=os.environ.get("PATH")) is None and not (cwd / program).is_file():
                raise ConfigError(
                    f"[real.{svc.name}] run: no program {program!r} on PATH or in {cwd}",
                    hint="run's first item is a program on PATH, or a path relative to where it runs",
                    location=svc.location("run"),
                )

    def start(self, services: Sequence[RealService]) -> None:
        layout = self.project.layout
        layout.logs_dir.mkdir(parents=True, exist_ok=True)
        for svc in services:
            log_path = layout.real_log(svc.name)
            rotate(log_path)
            env = {**os.environ, "PYTHONUNBUFFERED": "1", **svc.environment}
            try:
                with log_path.open("ab") as log:
                    proc = subprocess.Popen(
                        list(svc.run),
                        cwd=svc.folder / (svc.working_dir or "."),
                        env=env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        stdin=subprocess.DEVNULL,
                        start_new_session=True,  # its children are stopped with it (the group)
                        preexec_fn=_die_with_parent if sys.platform == "linux" else None,
                    )
            except OSError as err:
                raise ConfigError(
                    f"[real.{svc.name}] cannot run {svc.run[0]!r}: {err.strerror or err}",
                    hint="run's first item is a program on PATH, or a path relative to thriftbox.toml",
                    location=svc.location("run"),
                ) from None
            self.procs[svc.name] = _Proc(svc, proc)

    def stop(self, names: Collection[str] | None = None) -> None:
        doomed = [n for n in self.procs if names is None or n in names]
        for name in doomed:
            proc = self.procs.pop(name).proc
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=5)
            else:  # what it started may still run in its group
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)

    def supervise(self) -> list[str]:
        lines = []
        for name, entry in sorted(self.procs.items()):
            code = entry.proc.poll()
            if code is None or entry.reported:
                continue
            entry.reported = True
            log = self.project.layout.real_log(name)
            lines.append(exited_line(name, f"exit code {code}", list(tail(log)), str(log)))
        return lines

    def status(self) -> list[MockStatus]:
        rows = []
        for name, entry in sorted(self.procs.items()):
            code = entry.proc.poll()
            ports = entry.service.ports
            rows.append(
                MockStatus(
                    service=name,
                    host=local_host(self.project.host),
                    port=ports[0][0] if ports else 0,
                    runtime="process",
                    state="running" if code is None else f"exited ({code})",
                    detail=f"pid {entry.proc.pid}",
                    extra={"command": " ".join(entry.service.run)},
                    kind="real",
                )
            )
        return rows

    def logs(self, name: str, follow: bool = False) -> Iterator[str]:
        return tail(self.project.layout.real_log(name), follow=follow)
