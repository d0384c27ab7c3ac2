"""Health that means something: a mock host that exists but does not answer its health check is
``unresponsive``, and is replaced once it has been silent for a grace period (both runtimes).

:class:`HealthWatch` keeps the one rule: a check every :data:`HEALTH_EVERY` seconds with a
:data:`HEALTH_TIMEOUT`; the first unanswered one makes the host ``unresponsive``; :data:`UNRESPONSIVE_GRACE`
seconds of silence after that, it is to be replaced; an answer makes it healthy again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import Enum

HEALTH_EVERY = 2.0  # seconds between health checks of a running host
HEALTH_TIMEOUT = 2.0  # seconds a health check may take before it counts as unanswered
UNRESPONSIVE_GRACE = 10.0  # seconds a host may leave its health checks unanswered before it is replaced


class Verdict(Enum):
    SILENT = "silent"  # the first unanswered check: the host is unresponsive from now on
    REPLACE = "replace"  # silent for the grace period: replace it
    BACK = "back"  # it answers again


class HealthWatch:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.checked_at = 0.0
        self.silent_since: float | None = None

    @property
    def unresponsive(self) -> bool:
        return self.silent_since is not None

    def due(self) -> bool:
        """Whether a check is due now (and, if so, counts it as made)."""
        now = self.clock()
        if now - self.checked_at < HEALTH_EVERY:
            return False
        self.checked_at = now
        return True

    def saw(self, answered: bool) -> Verdict | None:
        """What a check's outcome means (None: nothing new)."""
        now = self.clock()
        if answered:
            was, self.silent_since = self.silent_since, None
            return Verdict.BACK if was is not None else None
        if self.silent_since is None:
            self.silent_since = now
            return Verdict.SILENT
        return Verdict.REPLACE if now - self.silent_since >= UNRESPONSIVE_GRACE else None

    def silent_for(self) -> float:
        return 0.0 if self.silent_since is None else self.clock() - self.silent_since

    def reset(self) -> None:
        self.silent_since = None
