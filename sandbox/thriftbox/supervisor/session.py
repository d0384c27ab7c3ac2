"""The Python API behind ``thriftbox serve``: load, number, start, supervise, reload, stop.

The CLI is a thin layer over :class:`Session`; tests and the pytest plugin use it directly.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from thriftbox.errors import ConfigError, ThriftboxError
from thriftbox.idl import load_catalog
from thriftbox.idl.model import Catalog
from thriftbox.project.ports import assign_ports
from thriftbox.project.state import clear_state, write_state
from thriftbox.runtime.base import MockSpec, MockStatus, Project, Runtime, get_runtime
from thriftbox.supervisor.admin import AdminServer
from thriftbox.supervisor.reloader import Reloading

if TYPE_CHECKING:
    from thriftbox.stubs import StubBook

logger = logging.getLogger(__name__)

Reporter = Callable[[str], None]


@dataclass(frozen=True)
class ServeOptions:
    paths: tuple[Path | str, ...]
    runtime: str = "auto"
    host: str = "127.0.0.1"
    port: int = 9090
    include_dirs: tuple[Path, ...] = ()
    seed: int = 0
    mocks_dir: Path | None = None
    watch: bool = True
    root: Path = field(default_factory=Path.cwd)
    max_frame: int = 16 * 2**20
    admin_port: int | None = None  # None: --port minus 1 when free, else any free port; 0: any free port
    admin_host: str = "127.0.0.1"
    base_image: str | None = None  # Docker runtime: None means $THRIFTBOX_BASE_IMAGE, else python:3.11-slim
    workers: int = 1  # processes per mock host, for load tests (see thriftbox.host.workers)


def project_name(root: Path) -> str:
    """A slug of the project folder's name, safe in container and network names."""
    slug = re.sub(r"[^a-z0-9]+", "-", root.resolve().name.lower()).strip("-")
    return slug or "project"


def choose_runtime(name: str, base_image: str | None = None) -> tuple[Runtime, str]:
    """The runtime to use and why: ``auto`` picks Docker when an engine answers, else local processes."""
    if name != "auto":
        return get_runtime(name, base_image=base_image), f"--runtime {name}"
    from thriftbox.runtime.docker.sdk import engine_available

    ok, reason = engine_available()
    if ok:
        return get_runtime("docker", base_image=base_image), f"a Docker engine answers at {reason}"
    return get_runtime("process"), f"no Docker engine reachable ({reason})"


def validate_paths(paths: Sequence[Path | str]) -> tuple[Path, ...]:
    out = []
    for p in paths:
        text = str(p)
        if "://" in text:
            raise ConfigError(
                f"{text}: URLs are not served", hint="clone or download the IDL and pass a folder"
            )
        path = Path(text)
        if not path.exists():
            raise ConfigError(
                f"{text}: no such file or folder", hint="pass the folder that holds your .thrift files"
            )
        out.append(path.resolve())
    return tuple(out)


class Session(Reloading):
    """One ``serve``: owns the runtime, the state file, the watcher and the reload loop."""

    def __init__(
        self, options: ServeOptions, report: Reporter | None = None, runtime: Runtime | None = None
    ) -> None:
        self.options = options
        self.report: Reporter = report or (lambda line: logger.info("%s", line))
        self.paths = validate_paths(options.paths)
        self.include_dirs = validate_paths(options.include_dirs)
        self.mocks_dir = validate_paths([options.mocks_dir])[0] if options.mocks_dir else None
        self.catalog: Catalog | None = None
        self.runtime = runtime
        self.runtime_reason = "given"
        self.project = Project(
            root=options.root.resolve(),
            name=project_name(options.root),
            idl_dirs=self.paths,
            include_dirs=self.include_dirs,
            mocks_dir=self.mocks_dir,
            seed=options.seed,
            host=options.host,
            max_frame=options.max_frame,
            workers=options.workers,
        )
        self.ports: dict[str, int] = {}
        self.admin_url = ""
        self.admin: AdminServer | None = None
        self._changes: queue.Queue[set[Path]] = queue.Queue()
        self._stop = threading.Event()
        self._watcher: object | None = None
        self._stubs: StubBook | None = None  # the last good stub files: which services each one touches
        self._unapplied: set[Path] = set()  # changed since the last good reload (a bad save keeps them)
        self._watched: tuple[Path, ...] = ()

    # -- start / stop --------------------------------------------------------------------------------------

    def load(self) -> Catalog:
        return load_catalog(self.paths, self.include_dirs)

    def start(self) -> list[MockStatus]:
        self.catalog = self.load()
        if not self.catalog.services:
            raise ConfigError(
                "no service found in " + ", ".join(map(str, self.paths)),
                hint="thriftbox serves the `service` definitions of your .thrift files; check the folder",
            )
        self._stubs = self._load_stubs(self.catalog)  # a broken stub file stops serve here, path:line
        if self.runtime is None:
            self.runtime, self.runtime_reason = choose_runtime(self.options.runtime, self.options.base_image)
        self.ports = assign_ports(
            self.project.state_dir, self.catalog.services, self.options.port, host=self.project.host
        )
        specs = [MockSpec(sid, port) for sid, port in self.ports.items()]
        t0 = time.perf_counter()
        try:
            self.runtime.start(self.project, specs)
        except ThriftboxError as err:
            self.runtime.stop()
            if self.options.runtime != "auto" or self.runtime.name != "docker":
                raise
            # auto chose Docker because an engine answers, but it cannot serve (no base image, no registry...)
            self.report(f"the Docker runtime cannot start here ({err}); falling back to local processes")
            self.runtime, self.runtime_reason = get_runtime("process"), "the Docker runtime could not start"
            self.runtime.start(self.project, specs)
        except BaseException:
            self.runtime.stop()
            raise
        self.started_in = time.perf_counter() - t0
        self._start_admin()
        self._write_state()
        return self.runtime.status()

    def _start_admin(self) -> None:
        from thriftbox.project.ports import port_free

        port = self.options.admin_port
        if port is None:
            wanted = self.options.port - 1
            port = wanted if wanted > 0 and port_free(self.options.admin_host, wanted) else 0
        runtime = self.runtime
        assert runtime is not None
        self.admin = AdminServer(runtime.control_urls, self.options.admin_host, port, root=self.project.root)
        self.admin.start()
        self.admin_url = self.admin.url

    def stop(self) -> None:
        self._stop.set()
        admin, self.admin = self.admin, None
        if admin is not None:
            admin.stop()
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.stop()  # type: ignore[attr-defined]
        if self.runtime is not None:
            self.runtime.stop()
        clear_state(self.project.state_dir)

    def _write_state(self) -> None:
        assert self.runtime is not None
        project = {
            "name": self.project.name,
            "idl_dirs": [str(p) for p in self.paths],
            "include_dirs": [str(p) for p in self.include_dirs],
            "mocks_dir": str(self.mocks_dir) if self.mocks_dir else None,
            "seed": self.options.seed,
        }
        write_state(
            self.project.state_dir,
            runtime=self.runtime.name,
            admin_url=self.admin_url,
            mocks=self.runtime.status(),
            project=project,
        )

    # -- the loop ------------------------------------------------------------------------------------------

    def run_forever(self, tick: float = 1.0) -> None:
        """Supervise and reload until :meth:`stop` (or Ctrl-C in the caller)."""
        if self.options.watch:
            self.start_watching()
        while not self._stop.is_set():
            try:
                batch = self._changes.get(timeout=tick)
            except queue.Empty:
                batch = None
            if batch is not None:
                while not self._changes.empty():
                    batch |= self._changes.get_nowait()
                self.apply_changes(batch)
            assert self.runtime is not None
            events = self.runtime.supervise()
            if events:
                self._write_state()  # first: `thriftbox status` agrees with what is reported
            for line in events:
                self.report(line)
