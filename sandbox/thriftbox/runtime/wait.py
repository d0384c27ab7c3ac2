"""Waiting for mocks, free ports, who holds a port, and following log files: shared by every runtime."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

from thriftbox.errors import MockStartError, PortInUse

T = TypeVar("T")
LAST_LINES = 15  # of the log of a real service that exited, in the line reporting it


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_ready(
    targets: Sequence[T],
    answers: Callable[[T], bool],
    *,
    timeout: float,
    name: Callable[[T], str],
    gone: Callable[[Sequence[T]], None] = lambda _: None,
    check_every: float = 0.0,
    hint: Callable[[Sequence[T]], str | None] = lambda _: None,
) -> None:
    """The one readiness loop: return once ``answers(t)`` holds for every target (a real Thrift call answered).

    ``gone(pending)`` raises MockStartError when a target can no longer become ready (its process or container
    exited); it runs every ``check_every`` seconds. After ``timeout``: MockStartError naming the pending targets,
    with ``hint(pending)`` (a log's tail).
    """
    deadline = time.monotonic() + timeout
    next_check = time.monotonic() + check_every
    pending = list(targets)
    while pending:
        if time.monotonic() >= next_check:
            next_check = time.monotonic() + check_every
            gone(pending)
        pending = [t for t in pending if not answers(t)]
        if not pending:
            return
        if time.monotonic() > deadline:
            where = ", ".join(name(t) for t in pending[:5])
            raise MockStartError(f"mocks did not answer within {timeout:.0f} s: {where}", hint=hint(pending))
        time.sleep(0.05)


def host_exited(proc: subprocess.Popen[bytes], log: Path | None) -> Callable[[Sequence[object]], None]:
    """A ``gone`` check for :func:`wait_ready`: the mock host process exited before it was ready."""

    def check(_: Sequence[object]) -> None:
        if proc.poll() is not None:
            raise MockStartError(
                f"the mock host exited with code {proc.returncode} before it was ready", hint=log_hint(log)
            )

    return check


def log_hint(log: Path | None) -> str | None:
    if log is None:
        return None
    lines = list(tail(log, follow=False))[-15:]
    return "last lines of " + str(log) + ":\n" + "\n".join(lines) if lines else f"see {log}"


def tail(path: Path, *, follow: bool = False, poll: float = 0.2) -> Iterator[str]:
    """The lines of a log file; with ``follow``, keep yielding new lines until the consumer stops."""
    try:
        fh = path.open("r", encoding="utf-8", errors="replace")
    except OSError:
        return
    with fh:
        while True:
            line = fh.readline()
            if line:
                yield line.rstrip("\n")
            elif follow:
                time.sleep(poll)
            else:
                return


def describe_port_holder(port: int) -> str | None:
    """Which local process listens on ``port`` ("pid 123 (python3)"), from /proc; None if unknown."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            cols = row.split()
            if len(cols) > 9 and cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(cols[9])
    if not inodes:
        return None
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
            for fd in fds:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    name = Path(f"/proc/{pid}/comm").read_text().strip()
                    return f"pid {pid} ({name})"
        except OSError:
            continue
    return "another process"


def port_in_use(host: str, port: int, service_id: str, holder: str | None = None) -> PortInUse:
    """The error for a taken port, naming the port and, where it can be found, what holds it."""
    holder = holder or describe_port_holder(port)
    who = f" by {holder}" if holder else ""
    return PortInUse(
        f"port {port} on {host} (for {service_id}) is already in use{who}",
        hint=f"stop whatever holds it; {service_id} keeps the port .thriftbox/ports.json remembers for it, so "
        "delete that entry (or the file) to have it numbered anew from --port",
    )


def local_host(host: str) -> str:
    """Where this machine reaches a port published on ``host``."""
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host


def exited_line(name: str, code: object, lines: Sequence[str], where: str) -> str:
    """The report of a real service that exited: nothing restarts it."""
    last = "\n".join(f"  {line}" for line in lines[-LAST_LINES:])
    told = f"; last lines of {where}:\n{last}" if last else f" (its log is empty: {where})"
    return f"real service {name} exited ({code}); not restarted{told}"
