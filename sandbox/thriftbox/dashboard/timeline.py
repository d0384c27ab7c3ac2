"""What happened to a running ``serve``: reloads (what changed) and errors (a broken save, ``file:line: message``).

``serve`` reports one line per event (:class:`thriftbox.supervisor.reloader.Reloader`); the session also hands
each line to a :class:`Timeline`, which the dashboard shows and streams. Bounded; safe to add to from any thread.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any

FAILED = ("reload failed", "error", "cannot ")


class Timeline:
    def __init__(self, capacity: int = 500) -> None:
        self._events: deque[dict[str, Any]] = deque(maxlen=capacity)
        self._lock = threading.Lock()
        self._seq = 0

    def add(self, line: str) -> None:
        """One reported line: an ``error`` when it says something failed, else a ``reload`` (or notice)."""
        kind = "error" if any(word in line for word in FAILED) else "reload"
        with self._lock:
            self._seq += 1
            self._events.append({"seq": self._seq, "time": round(time.time(), 3), "kind": kind, "text": line})

    def since(self, seq: int = 0) -> list[dict[str, Any]]:
        """Events after ``seq``, oldest first."""
        with self._lock:
            return [e for e in self._events if e["seq"] > seq]
