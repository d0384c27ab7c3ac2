"""What a host learned at run time survives a crash of its process or container: run-time stubs, simulated
state, sequence positions and the journal are written to its state folder (``thriftbox host --state-dir``)
twice a second when they changed, and read back before a restarted host opens its ports.

The folder belongs to one ``serve`` session (the runtime empties it when it starts a host for the first time and
removes it at the end), so a new ``serve`` starts clean. Two files:

- ``host.json``: ``{"rules": [...], "positions": {...}, "state": {...}, "journal_last_id": N}``, replaced
  atomically (written beside, then renamed);
- ``journal.jsonl``: one journal entry per line, appended; cut to its newest ``capacity`` lines once it holds
  twice as many (the lines as they are: nothing is rendered again), rewritten after the journal was cleared.

Only the main process of a host with ``--workers`` persists: its workers' journals and state are not kept. The
journal is written up to :data:`JOURNAL_PER_WRITE` entries per write (200 calls a second), the newest: turning
entries into JSON is what persisting costs, and a busier mock keeps only that many on disk. Entries are rendered
on the event loop, :data:`SLICE` at a time between calls: on a thread, the rendering held the GIL for up to 5 ms
at each call that came in meanwhile (a quarter of a sequential client's calls per second).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from thriftbox.host.journal import Journal, encode
from thriftbox.stubs import StubEngine

logger = logging.getLogger(__name__)

INTERVAL = 0.5  # seconds between checks for something new to write
JOURNAL_PER_WRITE = 100  # at most this many new journal entries per write (the newest): rendering costs CPU
SLICE = 20  # entries rendered in one go on the event loop (about a millisecond) before calls get their turn
SNAPSHOT = "host.json"
JOURNAL = "journal.jsonl"


@dataclass
class Restored:
    rules: int = 0
    state: int = 0
    journal: int = 0

    def __str__(self) -> str:
        return (
            f"restored from before a restart: {self.rules} run-time stub(s), {self.state} state entr(ies), "
            f"{self.journal} journal entr(ies)"
        )


class Persistence:
    """Writes a host's run-time state to ``folder`` and reads it back."""

    def __init__(self, folder: Path, journal: Journal) -> None:
        self.folder = folder
        self.journal = journal
        self._written_id = 0  # the newest journal id on disk
        self._lines = 0  # lines in the journal file
        self._last_snapshot = b""
        self._clears = journal.clears  # the journal's clear count when the file was last made to match it

    # -- reading back --------------------------------------------------------------------------------------

    def restore(self, engine: StubEngine) -> Restored | None:
        """Load what a previous process of this host wrote (None when nothing was)."""
        snapshot = self.folder / SNAPSHOT
        if not snapshot.is_file():
            return None
        try:
            data = json.loads(snapshot.read_text())
        except (OSError, ValueError) as err:
            logger.warning("cannot read %s, starting without it: %s", snapshot, err)
            return None
        done = Restored()
        state = data.get("state") or {}
        done.rules = engine.restore(data.get("rules") or [], data.get("positions") or {}, state)
        done.state = sum(len(items) for colls in state.get("data", {}).values() for items in colls.values())
        entries = self._journal_tail()
        last_id = max([int(data.get("journal_last_id") or 0), *(int(e["id"]) for e in entries)])
        self.journal.restore(entries, last_id)
        done.journal = len(entries)
        self._written_id = self.journal.last_id
        self._lines = len(entries)
        self._last_snapshot = snapshot.read_bytes()
        return done

    def _journal_tail(self) -> list[dict[str, Any]]:
        path = self.folder / JOURNAL
        if not path.is_file():
            return []
        tail: deque[dict[str, Any]] = deque(maxlen=self.journal.capacity)
        with path.open(encoding="utf-8", errors="replace") as lines:
            for line in lines:
                try:
                    entry = json.loads(line)
                except ValueError:  # a line cut short by the crash
                    continue
                if isinstance(entry, dict) and isinstance(entry.get("id"), int):
                    tail.append(entry)
        return list(tail)

    # -- writing -------------------------------------------------------------------------------------------

    async def run(self, engine: Callable[[], StubEngine | None]) -> None:
        """Write what changed every :data:`INTERVAL` seconds until cancelled, then once more."""
        self.folder.mkdir(parents=True, exist_ok=True)
        try:
            while True:
                await asyncio.sleep(INTERVAL)
                await self.write(engine())
        finally:
            with contextlib.suppress(Exception):
                await self.write(engine())

    async def write(self, engine: StubEngine | None) -> None:
        """Append new journal entries (all of them again after a clear; the file is cut to its newest lines when
        it grew to twice the journal), and replace the snapshot when it changed; the file work runs on a thread."""
        journal = self.journal
        rewrite = journal.clears != self._clears
        selected = (
            journal.select() if rewrite else journal.select(since_id=self._written_id)[-JOURNAL_PER_WRITE:]
        )
        self._written_id, self._clears = journal.last_id, journal.clears
        lines = await _encode_in_slices(selected)
        snapshot = {**(engine.dump() if engine is not None else {}), "journal_last_id": journal.last_id}
        blob = json.dumps(snapshot, default=str).encode()
        if lines or rewrite or blob != self._last_snapshot:
            await asyncio.to_thread(self._write, lines, rewrite, blob)

    def _write(self, lines: list[bytes], rewrite: bool, blob: bytes) -> None:
        path = self.folder / JOURNAL
        if rewrite:
            _replace(path, b"".join(line + b"\n" for line in lines))
            self._lines = len(lines)
        elif lines:
            with path.open("ab") as out:
                out.write(b"".join(line + b"\n" for line in lines))
            self._lines += len(lines)
            if self._lines > 2 * self.journal.capacity:
                kept = path.read_bytes().splitlines(keepends=True)[-self.journal.capacity :]
                _replace(path, b"".join(kept))
                self._lines = len(kept)
        if blob != self._last_snapshot:
            _replace(self.folder / SNAPSHOT, blob)
            self._last_snapshot = blob


async def _encode_in_slices(selected: list[Any]) -> list[bytes]:
    """The entries as JSON lines, rendered on the event loop :data:`SLICE` at a time, letting calls in between."""
    lines: list[bytes] = []
    for start in range(0, len(selected), SLICE):
        if start:
            await asyncio.sleep(0)
        lines += encode(selected[start : start + SLICE])
    return lines


def _replace(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: a crash leaves the old file or the new one, never half of one."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("wb") as out:
        out.write(data)
    os.replace(tmp, path)
