"""Warnings about misbehaving clients, rate-limited: a flood of bad connections must not flood the log.

A mock under a fuzzer or a port scanner sees thousands of malformed connections a second; one log line each
grew a host log to 88 MB in a fuzz run. :class:`RateLimited` lets the first :data:`BURST` warnings of each
:data:`WINDOW` seconds through, counts the rest, and says how many it held back when the next window opens.
"""

from __future__ import annotations

import logging
import time

WINDOW = 10.0  # seconds
BURST = 20  # warnings logged per window; the others are counted


class RateLimited:
    def __init__(self, logger: logging.Logger, window: float = WINDOW, burst: int = BURST) -> None:
        self.logger = logger
        self.window = window
        self.burst = burst
        self._started = 0.0
        self._logged = 0
        self._held = 0

    def warning(self, msg: str, *args: object) -> None:
        now = time.monotonic()
        if now - self._started >= self.window:
            if self._held:
                self.logger.warning(
                    "%d more warning(s) like the above in the last %.0f s were not logged",
                    self._held,
                    now - self._started,
                )
            self._started, self._logged, self._held = now, 0, 0
        if self._logged < self.burst:
            self._logged += 1
            self.logger.warning(msg, *args)
        else:
            self._held += 1

    @property
    def held(self) -> int:
        """Warnings counted but not logged in the current window."""
        return self._held
