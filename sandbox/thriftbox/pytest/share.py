"""One set of mocks for every pytest-xdist worker: a lock file, a file saying where the mocks are, a users file.

All three live in the folder the workers' temporary folders share (``getbasetemp().parent``). The first worker
to take the lock serves and writes the info file; the others find it there and attach. Every worker lists
itself in the users file while it runs; the serving worker stops the mocks only once it is the last user.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from thriftbox.errors import MockStartError
from thriftbox.project.state import pid_alive

logger = logging.getLogger(__name__)

LOCK_TIMEOUT = 180.0  # the serving worker holds the lock while the mocks start (Docker images may build)
LAST_USER_TIMEOUT = 60.0


def source_address(worker: int) -> str:
    """The loopback address xdist worker ``n`` connects from (all of 127.0.0.0/8 is loopback on Linux)."""
    return f"127.0.0.{worker + 2}"


class Share:
    """This worker's part in sharing the mocks under ``folder``."""

    def __init__(self, folder: Path, worker: str) -> None:
        self.folder = folder
        self.worker = worker
        self.lock = folder / "thriftbox.lock"
        self.info = folder / "thriftbox-served.json"
        self.users = folder / "thriftbox-users"

    @contextlib.contextmanager
    def locked(self, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
        deadline = time.monotonic() + timeout
        with self.lock.open("a") as handle:
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise MockStartError(
                            f"thriftbox: waited {timeout:.0f} s for another xdist worker to serve the mocks",
                            hint=f"remove {self.lock} if no pytest runs",
                        ) from None
                    time.sleep(0.05)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def join(self, serve: Callable[[], dict[str, Any]]) -> tuple[dict[str, Any], bool]:
        """The served mocks' info, and whether this worker serves them: it does when nobody alive does yet.

        ``serve()`` starts the mocks and returns their info (``admin_url``, ``ports``, ``shared``).
        """
        with self.locked():
            info = self._served()
            serving = info is None
            if info is None:
                info = {**serve(), "pid": os.getpid(), "worker": self.worker}
                self.info.touch(mode=0o600)  # it holds the admin token
                self.info.chmod(0o600)
                self.info.write_text(json.dumps(info), encoding="utf-8")
            if info.get("shared"):
                self._write_users({**self._users(), self.worker: os.getpid()})
        return info, serving

    def leave(self) -> None:
        """This worker no longer uses the shared mocks."""
        with self.locked():
            users = self._users()
            users.pop(self.worker, None)
            self._write_users(users)

    def retire(self, stop: Callable[[], None], timeout: float = LAST_USER_TIMEOUT) -> None:
        """The serving worker's end: wait until no other worker uses the mocks, then ``stop()`` them."""
        deadline = time.monotonic() + timeout
        while True:
            with self.locked():
                others = {w: p for w, p in self._users().items() if w != self.worker and pid_alive(p)}
                if not others or time.monotonic() > deadline:
                    if others:
                        logger.warning(
                            "thriftbox: stopping the mocks while %s still use them", sorted(others)
                        )
                    self.info.unlink(missing_ok=True)
                    self._write_users({})
                    stop()  # under the lock: a late worker serves anew only once these ports are free
                    return
            time.sleep(0.1)

    def _served(self) -> dict[str, Any] | None:
        try:
            info: dict[str, Any] = json.loads(self.info.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        pid = int(info.get("pid") or 0)
        return info if pid > 0 and pid_alive(pid) else None

    def _users(self) -> dict[str, int]:
        try:
            lines = self.users.read_text(encoding="utf-8").split("\n")
        except OSError:
            return {}
        pairs = [line.split() for line in lines]
        return {p[0]: int(p[1]) for p in pairs if len(p) == 2 and p[1].isdigit()}

    def _write_users(self, users: dict[str, int]) -> None:
        self.users.write_text("".join(f"{w} {p}\n" for w, p in sorted(users.items())), encoding="utf-8")
