"""Hot reload for a ``serve`` session: what to watch, what a batch of saved files changes, and applying it.

A :class:`Reloader` is a part of a :class:`thriftbox.supervisor.session.Session` (which owns one once its mocks
run); it lives apart because deciding what a save means is its own job: only the affected services reload, a
bad save changes nothing, and changes a failed reload could not apply wait for the next good save.
"""

from __future__ import annotations

import dataclasses
import queue
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from thriftbox.errors import ThriftboxError
from thriftbox.idl import load_catalog
from thriftbox.idl.model import Catalog
from thriftbox.project.ports import assign_ports
from thriftbox.runtime.base import MockSpec, Project, Runtime
from thriftbox.supervisor.plan import ReloadPlan, plan_reload
from thriftbox.values import check_annotations

if TYPE_CHECKING:
    from thriftbox.stubs import StubBook
    from thriftbox.supervisor.watch import Watcher


def load_stub_book(mocks_dir: Path | None, catalog: Catalog) -> StubBook:
    """The stub files checked against ``catalog``; raises StubError (``path:line``) for a bad one."""
    from thriftbox.idl.classes import Classes
    from thriftbox.stubs import load_stubs

    return load_stubs(mocks_dir, catalog, Classes(catalog))


class Reloader:
    """What a running session serves (catalog, stub files, ports) and how saves change it.

    ``changed`` is called after a reload changed what runs or whether the last one failed (the session rewrites
    its state file)."""

    def __init__(
        self,
        project: Project,
        runtime: Runtime,
        *,
        catalog: Catalog,
        stubs: StubBook,
        ports: dict[str, int],
        first_port: int,
        report: Callable[[str], None],
        changed: Callable[[], None],
        fixed_ports: Mapping[str, int] | None = None,
        disabled: frozenset[str] = frozenset(),
    ) -> None:
        self.project = project
        self.runtime = runtime
        self.catalog = catalog
        self.ports = ports
        self.first_port = first_port
        self.fixed_ports = dict(fixed_ports or {})
        self.disabled = disabled  # never started, by a reload either (enabled = false in thriftbox.toml)
        self.report = report
        self.changed = changed
        self.changes: queue.Queue[set[Path]] = queue.Queue()  # batches of saved paths, from the watcher
        self._stubs: StubBook | None = stubs  # the last good stub files: which services each one touches
        self._unapplied: set[Path] = set()  # changed since the last good reload (a bad save keeps them)
        self._watcher: Watcher | None = None
        self._watched: tuple[Path, ...] = ()
        self.last_error: str | None = None  # why the last reload failed; None once one succeeds

    @property
    def paths(self) -> tuple[Path, ...]:
        return self.project.idl_dirs

    @property
    def include_dirs(self) -> tuple[Path, ...]:
        return self.project.include_dirs

    @property
    def mocks_dir(self) -> Path | None:
        return self.project.mocks_dir

    def load(self) -> Catalog:
        catalog = load_catalog(self.paths, self.include_dirs)
        check_annotations(catalog)  # a misspelt faker provider fails the reload at its line, as at start
        return catalog

    def stop_watching(self) -> None:
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.stop()

    def drain(self, timeout: float) -> set[Path] | None:
        """The paths saved since the last call, waiting up to ``timeout`` for a first batch; None for none."""
        try:
            batch = self.changes.get(timeout=timeout)
        except queue.Empty:
            return None
        while not self.changes.empty():
            batch |= self.changes.get_nowait()
        return batch

    def start_watching(self) -> None:
        """Watch the IDL paths, the include folders, included files outside them, and the stub folder."""
        self._rewatch()

    def _watch_paths(self) -> tuple[Path, ...]:
        """What to watch: the given paths, and each file of the catalog that none of them covers."""
        given = [*self.paths, *self.include_dirs, *([self.mocks_dir] if self.mocks_dir else [])]
        files = self.catalog.files
        outside = [f for f in files if not any(f == g or f.is_relative_to(g) for g in given)]
        return tuple(sorted({p for p in [*given, *outside] if p.exists()}))

    def _rewatch(self) -> None:
        """(Re)start the watcher when the paths to watch changed; the old one stops once the new one runs."""
        from thriftbox.supervisor.watch import Watcher

        paths = self._watch_paths()
        if paths == self._watched:
            return
        watcher = Watcher(paths, self.changes.put)
        try:
            watcher.start()
        except ThriftboxError as err:
            self.report(f"cannot watch for changes: {one_line(err)}")
            return
        old, self._watcher, self._watched = self._watcher, watcher, paths
        was_polling = old.polling if old is not None else False
        if old is not None:
            old.stop()
        if watcher.polling and not was_polling:
            self.report(
                "file watching falls back to polling (the system's inotify limit is exhausted): "
                "reloads take up to a second longer; raise fs.inotify.max_user_watches/instances"
            )

    def _load_stubs(self, catalog: Catalog) -> StubBook:
        return load_stub_book(self.mocks_dir, catalog)

    def _is_stub_file(self, path: Path) -> bool:
        from thriftbox.stubs.source import SUFFIXES

        mocks = self.mocks_dir
        return mocks is not None and path.suffix.lower() in SUFFIXES and path.is_relative_to(mocks)

    def _matters(self, path: Path) -> bool:
        """Whether a changed file can change what is served: IDL in the served and include folders or in the
        catalog (a file among the paths, an include from elsewhere), stub files in --mocks."""
        if self.project.layout.owns(path):
            return False
        if path.suffix.lower() != ".thrift":
            return self._is_stub_file(path)
        folders = [p for p in (*self.paths, *self.include_dirs) if p.is_dir()]
        known = self.catalog.files
        return path in known or path in self.paths or any(path.is_relative_to(f) for f in folders)

    def apply_changes(self, changed: set[Path]) -> None:
        """Reload what ``changed`` affects and report it in one line; a bad save is reported and changes nothing.

        Only the affected services reload: those whose IDL files (their own, included, ancestors') or stub
        files changed. New services start on a port of their own, vanished ones stop, the rest are not touched.
        Changes a failed reload could not apply are kept and applied with the next good save.
        """
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
            plan = self._enabled(plan_reload(self.catalog, new, self._unapplied, self._stub_services(stubs)))
            stubs = self._apply(plan, new, stubs)
        except ThriftboxError as err:
            self._failed(names, err)
            return
        self.catalog, self._stubs, self._unapplied = new, stubs, set()
        failed_before, self.last_error = self.last_error, None
        if not plan.empty or failed_before:
            self.changed()
        self.report(f"{names}: {plan.summary()} in {(time.perf_counter() - t0) * 1000:.0f} ms")
        if self._watched:
            self._rewatch()  # an include outside the watched folders may have come or gone

    def _enabled(self, plan: ReloadPlan) -> ReloadPlan:
        """``plan`` without the disabled services: they neither start, reload nor stop."""
        if not self.disabled:
            return plan
        off = self.disabled
        return dataclasses.replace(
            plan,
            started=tuple(s for s in plan.started if s not in off),
            stopped=tuple(s for s in plan.stopped if s not in off),
            reloaded=tuple(c for c in plan.reloaded if c.service_id not in off),
        )

    def _shown(self, path: Path) -> str:
        """A changed file as the user knows it: relative to the project folder when it is inside."""
        root = self.project.root
        return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)

    def _failed(self, names: str, err: ThriftboxError) -> None:
        self.last_error = one_line(err)
        self.report(f"{names}: reload failed, still serving the last good definitions: {self.last_error}")
        self.changed()  # `thriftbox status` shows it too

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
        ports = dict(self.ports)
        if plan.started:
            ports.update(
                assign_ports(
                    self.project.layout,
                    [*ports, *plan.started],
                    self.first_port,
                    host=self.project.host,
                    fixed=self.fixed_ports,
                    report=self.report,
                )
            )
        started = [MockSpec(sid, ports[sid]) for sid in plan.started]
        self.runtime.reload([c.service_id for c in plan.reloaded], started, plan.stopped)
        self.ports = {sid: port for sid, port in ports.items() if sid not in plan.stopped}


def one_line(err: ThriftboxError) -> str:
    """``path:line:col: message (hint: ...)``: an error as the CLI renders it, on one line."""
    hint = "; ".join(line.strip() for line in (err.hint or "").splitlines() if line.strip())
    return f"{err} (hint: {hint})" if hint else str(err)
