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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from thriftbox.admin import AdminServer
from thriftbox.errors import ConfigError, ThriftboxError
from thriftbox.idl import load_catalog
from thriftbox.idl.model import Catalog
from thriftbox.ports import assign_ports
from thriftbox.reload import ReloadPlan, plan_reload
from thriftbox.runtime import MockSpec, MockStatus, Project, Runtime, get_runtime
from thriftbox.state import clear_state, write_state

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


def project_name(root: Path) -> str:
    """A slug of the project folder's name, safe in container and network names."""
    slug = re.sub(r"[^a-z0-9]+", "-", root.resolve().name.lower()).strip("-")
    return slug or "project"


def choose_runtime(name: str) -> tuple[Runtime, str]:
    """The runtime to use and why: ``auto`` picks Docker when an engine answers, else local processes."""
    if name != "auto":
        return get_runtime(name), f"--runtime {name}"
    from thriftbox.runtime.docker import engine_available

    ok, reason = engine_available()
    if ok:
        return get_runtime("docker"), f"a Docker engine answers at {reason}"
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


class Session:
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
            self.runtime, self.runtime_reason = choose_runtime(self.options.runtime)
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
        from thriftbox.ports import port_free

        port = self.options.admin_port
        if port is None:
            wanted = self.options.port - 1
            port = wanted if wanted > 0 and port_free(self.options.admin_host, wanted) else 0
        runtime = self.runtime
        assert runtime is not None
        self.admin = AdminServer(runtime.control_urls, self.options.admin_host, port)
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
            for line in events:
                self.report(line)
            if events:
                self._write_state()

    def start_watching(self) -> None:
        """Watch the IDL paths, the include folders, included files outside them, and the stub folder."""
        self._rewatch()

    def _watch_paths(self) -> tuple[Path, ...]:
        """What to watch: the given paths, and each file of the catalog that none of them covers."""
        given = [*self.paths, *self.include_dirs, *([self.mocks_dir] if self.mocks_dir else [])]
        files = self.catalog.files if self.catalog is not None else {}
        outside = [f for f in files if not any(f == g or f.is_relative_to(g) for g in given)]
        return tuple(sorted({p for p in [*given, *outside] if p.exists()}))

    def _rewatch(self) -> None:
        """(Re)start the watcher when the paths to watch changed; the old one stops once the new one runs."""
        from thriftbox.watch import Watcher

        paths = self._watch_paths()
        if paths == self._watched:
            return
        watcher = Watcher(paths, self._changes.put)
        try:
            watcher.start()
        except ThriftboxError as err:
            self.report(f"cannot watch for changes: {_one_line(err)}")
            return
        old, self._watcher, self._watched = self._watcher, watcher, paths
        if isinstance(old, Watcher):
            was_polling = old.polling
            old.stop()
        else:
            was_polling = False
        if watcher.polling and not was_polling:
            self.report(
                "file watching falls back to polling (the system's inotify limit is exhausted): "
                "reloads take up to a second longer; raise fs.inotify.max_user_watches/instances"
            )

    def _load_stubs(self, catalog: Catalog) -> StubBook:
        """The stub files checked against ``catalog``; raises StubError (``path:line``) for a bad one."""
        from thriftbox.idl.classes import Classes
        from thriftbox.stubs import load_stubs

        return load_stubs(self.mocks_dir, catalog, Classes(catalog))

    def _is_stub_file(self, path: Path) -> bool:
        from thriftbox.stubs.source import SUFFIXES

        mocks = self.mocks_dir
        return mocks is not None and path.suffix.lower() in SUFFIXES and path.is_relative_to(mocks)

    def _matters(self, path: Path) -> bool:
        """Whether a changed file can change what is served: IDL in the served and include folders or in the
        catalog (a file among the paths, an include from elsewhere), stub files in --mocks."""
        if path.is_relative_to(self.project.state_dir):
            return False
        if path.suffix.lower() != ".thrift":
            return self._is_stub_file(path)
        folders = [p for p in (*self.paths, *self.include_dirs) if p.is_dir()]
        known = self.catalog.files if self.catalog is not None else {}
        return path in known or path in self.paths or any(path.is_relative_to(f) for f in folders)

    def apply_changes(self, changed: set[Path]) -> None:
        """Reload what ``changed`` affects and report it in one line; a bad save is reported and changes nothing.

        Only the affected services reload: those whose IDL files (their own, included, ancestors') or stub
        files changed. New services start on a port of their own, vanished ones stop, the rest are not touched.
        Changes a failed reload could not apply are kept and applied with the next good save.
        """
        assert self.catalog is not None
        assert self.runtime is not None
        t0 = time.perf_counter()
        relevant = {p.resolve() for p in changed}
        relevant = {p for p in relevant if self._matters(p)}
        if not relevant:
            return
        self._unapplied |= relevant
        names = ", ".join(sorted(self._shown(p) for p in relevant))
        try:
            new = self.load()
            saved_stubs = any(self._is_stub_file(p) for p in self._unapplied)
            stubs = self._load_stubs(new) if saved_stubs else None
            plan = plan_reload(self.catalog, new, self._unapplied, self._stub_services(stubs))
            stubs = self._apply(plan, new, stubs)
        except ThriftboxError as err:
            self._failed(names, err)
            return
        self.catalog, self._stubs, self._unapplied = new, stubs, set()
        if not plan.empty:
            self._write_state()
        self.report(f"{names}: {plan.summary()} in {(time.perf_counter() - t0) * 1000:.0f} ms")
        if self.options.watch and self._watched:
            self._rewatch()  # an include outside the watched folders may have come or gone

    def _shown(self, path: Path) -> str:
        """A changed file as the user knows it: relative to the project folder when it is inside."""
        root = self.project.root
        return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)

    def _failed(self, names: str, err: ThriftboxError) -> None:
        self.report(f"{names}: reload failed, still serving the last good definitions: {_one_line(err)}")

    def _stub_services(self, stubs: StubBook | None) -> set[str]:
        """The services the changed stub files have documents for, before or after the change."""
        books = [book for book in (self._stubs, stubs) if book is not None]
        changed = [p for p in self._unapplied if self._is_stub_file(p)]
        return {sid for p in changed for book in books for sid in book.services_in(p)}

    def _apply(self, plan: ReloadPlan, catalog: Catalog, stubs: StubBook | None) -> StubBook:
        """Have the runtime apply ``plan``; returns the stub files checked against ``catalog``.

        When no stub file was saved (``stubs`` None) and every affected service reloads in place, they are
        checked while the runtime reloads: the mock hosts check the same files against the same IDL and refuse
        the reload when they do not fit, so waiting for serve's own check first would only add its time to
        every reload. Starting and stopping mocks cannot be taken back, so then they are checked first.
        """
        if stubs is None and (plan.empty or plan.started or plan.stopped):
            stubs = self._load_stubs(catalog)
        if stubs is not None:
            if not plan.empty:
                self._reload_runtime(plan)
            return stubs
        with ThreadPoolExecutor(1, thread_name_prefix="thriftbox-reload") as pool:
            reloading = pool.submit(self._reload_runtime, plan)
            try:
                checked = self._load_stubs(catalog)
            except ThriftboxError:
                reloading.exception()  # the runtime refuses the same stub files: wait, report serve's error
                raise
            reloading.result()
        return checked

    def _reload_runtime(self, plan: ReloadPlan) -> None:
        """Start new services on ports of their own, stop vanished ones, reload the others."""
        assert self.runtime is not None
        ports = dict(self.ports)
        if plan.started:
            ports.update(
                assign_ports(
                    self.project.state_dir, [*ports, *plan.started], self.options.port, host=self.project.host
                )
            )
        started = [MockSpec(sid, ports[sid]) for sid in plan.started]
        self.runtime.reload([c.service_id for c in plan.reloaded], started, plan.stopped)
        self.ports = {sid: port for sid, port in ports.items() if sid not in plan.stopped}


def _one_line(err: ThriftboxError) -> str:
    """``path:line:col: message (hint: ...)``: an error as the CLI renders it, on one line."""
    hint = "; ".join(line.strip() for line in (err.hint or "").splitlines() if line.strip())
    return f"{err} (hint: {hint})" if hint else str(err)
