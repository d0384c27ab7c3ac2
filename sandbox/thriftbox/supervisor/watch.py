"""Watch folders of IDL and stub files and report each save as one debounced batch of paths.

This is the only module that imports watchdog. A :class:`Watcher` runs watchdog's native observer (inotify on
Linux) and falls back to polling where the system's file-watch limits are exhausted, as they often are on CI
machines. Editors save in many ways (write in place, write a temporary file and rename it over the
original, several writes in a row, delete and re-create); every relevant event is collected until the
folder has been quiet for ``debounce`` seconds, and ``on_batch`` then receives the set of real paths that
changed, deleted ones included. Temporary, swap and backup files never reach it.
"""

from __future__ import annotations

import errno
import logging
import os
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from watchdog.events import (
    EVENT_TYPE_ATTRIB,
    EVENT_TYPE_CLOSED,
    EVENT_TYPE_CREATED,
    EVENT_TYPE_DELETED,
    EVENT_TYPE_MODIFIED,
    EVENT_TYPE_MOVED,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

from thriftbox.errors import ConfigError

__all__ = ["DEFAULT_SUFFIXES", "Watcher", "is_relevant", "watch_targets"]

logger = logging.getLogger(__name__)

# watchdog's inotify thread warns when a folder created inside a watched tree gets registered twice (its own race;
# the watch is kept). Users would see a RuntimeWarning on stderr for every `mkdir -p` in their IDL folder.
warnings.filterwarnings(
    "ignore", message="Callback with id", category=RuntimeWarning, module="watchdog.observers.inotify_c"
)

DEFAULT_SUFFIXES = frozenset({".thrift", ".yaml", ".yml", ".json"})

# Events that mean a file's content (or existence) changed; "opened" and "closed without writing" do not.
_CHANGE_EVENTS = frozenset(
    {EVENT_TYPE_CREATED, EVENT_TYPE_MODIFIED, EVENT_TYPE_MOVED, EVENT_TYPE_DELETED, EVENT_TYPE_CLOSED}
    | {EVENT_TYPE_ATTRIB}  # `touch file.thrift` forces a reload
)
# Names editors give their temporary, swap, lock and backup files. Most fail the suffix test anyway
# (`foo.thrift~`, `.foo.thrift.swp`, `foo.thrift.tmp`, `4913`); these patterns catch the rest.
_TEMP_PREFIXES = (".#", "._", ".~lock.")  # emacs lock, macOS AppleDouble, LibreOffice lock
_TEMP_ENDINGS = ("~", "#", ".swp", ".swo", ".swx", ".tmp", ".bak", ".orig", "___jb_tmp___", "___jb_old___")
# Limits whose exhaustion makes inotify unusable: the watch limit (ENOSPC) and the instance limit (EMFILE).
_WATCH_LIMIT_ERRNOS = frozenset({errno.ENOSPC, errno.EMFILE})


def is_relevant(path: Path, suffixes: Iterable[str] = DEFAULT_SUFFIXES) -> bool:
    """Whether a change to ``path`` matters: its suffix is watched and it is no editor's temporary file."""
    name = path.name
    if name.startswith(_TEMP_PREFIXES) or name.endswith(_TEMP_ENDINGS):
        return False
    return path.suffix.lower() in suffixes


def watch_targets(paths: Iterable[Path]) -> list[tuple[Path, bool]]:
    """The fewest ``(folder, recursive)`` watches that cover ``paths``.

    A folder is watched recursively; a file is watched through its parent folder, non-recursively, so that a
    rename over it (the way many editors save) is still seen. Watches inside a recursive one are dropped.
    """
    wanted: dict[Path, bool] = {}
    for path in paths:
        resolved = path.resolve()
        folder, recursive = (resolved, True) if resolved.is_dir() else (resolved.parent, False)
        wanted[folder] = wanted.get(folder, False) or recursive
    recursive_roots = [f for f, rec in wanted.items() if rec]
    return sorted(
        (folder, rec)
        for folder, rec in wanted.items()
        if not any(root != folder and folder.is_relative_to(root) for root in recursive_roots)
    )


class _Handler(FileSystemEventHandler):
    """Turns watchdog events into relevant paths, handed to ``sink``."""

    def __init__(self, suffixes: frozenset[str], sink: Callable[[set[Path]], None]) -> None:
        self._suffixes = suffixes
        self._sink = sink

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory or event.event_type not in _CHANGE_EVENTS:
            return
        # A move reports its destination (a temporary file renamed over the original) and its source when
        # that was a real file: renaming it away is a deletion.
        candidates = (
            [event.src_path, event.dest_path] if event.event_type == EVENT_TYPE_MOVED else [event.src_path]
        )
        paths = {Path(os.fsdecode(p)) for p in candidates if p}
        relevant = {p for p in paths if is_relevant(p, self._suffixes)}
        if relevant:
            self._sink(relevant)


class Watcher:
    """Calls ``on_batch(paths)`` once per save of any relevant file under ``folders``.

    ``folders`` are watched recursively (a file among them through its folder, non-recursively). ``on_batch`` runs
    on the watcher's own thread, one batch at a time; changes made while it runs form the next batch, and an
    exception in it is logged and does not stop the watcher. A batch is delivered once no relevant event has
    arrived for ``debounce`` seconds, and at the latest ``max(2, 10 * debounce)`` seconds after its first
    event, so a steady stream of writes still reloads now and then. When polling (every ``poll_interval``
    seconds), the quiet period is at least 1.5 poll intervals. Pending changes are dropped by :meth:`stop`.
    """

    def __init__(
        self,
        folders: Sequence[Path],
        on_batch: Callable[[set[Path]], None],
        *,
        debounce: float = 0.15,
        suffixes: frozenset[str] = DEFAULT_SUFFIXES,
        force_polling: bool = False,
        poll_interval: float = 0.5,
    ) -> None:
        if debounce < 0 or poll_interval <= 0:
            raise ValueError("debounce must be >= 0 and poll_interval > 0")
        self._folders = tuple(folders)
        self._on_batch = on_batch
        self._debounce = debounce
        self._max_wait = max(2.0, 10 * debounce)
        self._suffixes = frozenset(s.lower() for s in suffixes)
        self._force_polling = force_polling
        self._poll_interval = poll_interval
        self._observer: BaseObserver | None = None
        self._polling = False
        self._cond = threading.Condition()
        self._pending: set[Path] = set()
        self._first_at = 0.0
        self._last_at = 0.0
        self._stopping = False
        self._thread: threading.Thread | None = None

    @property
    def polling(self) -> bool:
        """True when changes are found by polling rather than by the system's native notifications."""
        return self._polling

    def start(self) -> None:
        """Start watching; returns at once. Changes made after it returns are reported.

        Raises :class:`~thriftbox.errors.ConfigError` when a folder does not exist or cannot be watched.
        """
        if self._thread is not None:
            raise RuntimeError("a Watcher can be started only once")
        for path in self._folders:
            if not path.exists():
                raise ConfigError(
                    f"cannot watch {path}: no such file or folder", hint="check the paths to watch"
                )
        targets = watch_targets(self._folders)
        observer = None if self._force_polling else self._start_native(targets)
        if observer is None:
            try:
                observer = self._start_observer(PollingObserver(timeout=self._poll_interval), targets)
            except OSError as err:
                raise _cannot_watch(err) from err
            self._polling = True
            # Polls see one save split across two scans when it straddles one: wait longer than a scan.
            self._debounce = max(self._debounce, 1.5 * self._poll_interval)
            self._max_wait = max(self._max_wait, 10 * self._debounce)
        self._observer = observer
        self._thread = threading.Thread(target=self._deliver, name="thriftbox-watch-debounce", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop watching and join the threads. Safe to call more than once, or before :meth:`start`."""
        with self._cond:
            self._stopping = True
            self._pending.clear()
            self._cond.notify_all()
        observer, self._observer = self._observer, None
        if observer is not None:
            observer.stop()
            observer.join()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()

    def __enter__(self) -> Watcher:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _start_native(self, targets: list[tuple[Path, bool]]) -> BaseObserver | None:
        """The native observer, started; ``None`` when the system's watch limits are exhausted."""
        try:
            return self._start_observer(Observer(), targets)
        except OSError as err:
            if err.errno not in _WATCH_LIMIT_ERRNOS:
                raise _cannot_watch(err) from err
            logger.warning(
                "cannot use native file notifications (%s); polling every %ss instead. Raising the limit "
                "(sysctl fs.inotify.max_user_watches / max_user_instances) makes reloads faster.",
                err.strerror or err,
                self._poll_interval,
            )
            return None

    def _start_observer(self, observer: BaseObserver, targets: list[tuple[Path, bool]]) -> BaseObserver:
        handler = _Handler(self._suffixes, self._collect)
        try:
            for folder, recursive in targets:
                observer.schedule(handler, str(folder), recursive=recursive)
            observer.start()
        except OSError:
            observer.unschedule_all()  # stops the emitters that did start
            raise
        return observer

    def _collect(self, paths: set[Path]) -> None:
        """Called on the observer's thread with the relevant paths of one event."""
        now = time.monotonic()
        with self._cond:
            if self._stopping:
                return
            if not self._pending:
                self._first_at = now
            self._pending |= paths
            self._last_at = now
            self._cond.notify_all()

    def _next_batch(self) -> set[Path] | None:
        """Block until a batch is due and return it; ``None`` once the watcher stops."""
        with self._cond:
            while not self._stopping:
                if not self._pending:
                    self._cond.wait()
                    continue
                due = min(self._last_at + self._debounce, self._first_at + self._max_wait)
                remaining = due - time.monotonic()
                if remaining > 0:
                    self._cond.wait(remaining)
                    continue
                batch, self._pending = self._pending, set()
                return batch
            return None

    def _deliver(self) -> None:
        while (batch := self._next_batch()) is not None:
            logger.debug("changed: %s", ", ".join(sorted(map(str, batch))))
            try:
                self._on_batch(batch)
            except Exception:
                logger.exception("reload after a change to %s failed", ", ".join(sorted(map(str, batch))))


def _cannot_watch(err: OSError) -> ConfigError:
    where = f" {err.filename}" if err.filename else ""
    return ConfigError(
        f"cannot watch{where}: {err.strerror or err}", hint="check that the folder exists and is readable"
    )
