"""Stable port numbers: a service keeps its port across restarts, and new services get the next free one.

Assignments live in ``.thriftbox/ports.json`` in the project folder, so every runtime (and every engineer
running the same repository) numbers services the same way.
"""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Callable, Collection, Iterable, Mapping
from pathlib import Path

from thriftbox.project.layout import Layout

FIRST = "first_port"  # the key of the first port the numbers were given from (service ids always hold a dot)


def _load(path: Path) -> tuple[int | None, dict[str, int]]:
    """The first port remembered (None for an older file) and service id -> port."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, {}
    if not isinstance(data, dict):
        return None, {}
    first = data.get(FIRST)
    known = {str(k): int(v) for k, v in data.items() if k != FIRST and isinstance(v, int)}
    if not isinstance(first, int):  # written before the first port was kept: the lowest one stands for it
        first = min(known.values(), default=None)
    return first, known


def port_free(host: str, port: int) -> bool:
    """True when nothing listens on ``host:port`` (a bind without SO_REUSEPORT succeeds)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def assign_ports(
    layout: Layout,
    service_ids: Iterable[str],
    base: int,
    *,
    host: str = "127.0.0.1",
    persist: bool = True,
    fixed: Mapping[str, int] | None = None,
    report: Callable[[str], None] | None = None,
    reserved: Collection[int] = (),
) -> dict[str, int]:
    """Ports for ``service_ids``: the ``fixed`` one where given (thriftbox.toml), else the remembered one, else
    the lowest unused from ``base``.

    Ports recorded for services that no longer exist stay reserved, so a service that comes back gets its old
    port. New services skip ports that something else on this machine already listens on, and ``report`` is told
    so. A fixed port is not remembered; a service that remembered a port another one now has fixed moves to a
    free one. Asked for another ``base`` than the numbers were given from, every service is numbered anew from
    it (``serve --port``): the first port asked for wins over the ports remembered. ``reserved`` ports (those
    real services publish) are treated like fixed ones of no service: no mock is numbered onto them.
    """
    path = layout.ports_file
    fixed = dict(fixed or {})
    first, known = _load(path)
    if first is not None and first != base:
        known = {}
    pinned = set(fixed.values()) | set(reserved)
    taken = set(known.values()) | pinned
    result: dict[str, int] = {}
    for sid in sorted(service_ids):
        if sid in fixed:
            result[sid] = fixed[sid]
            continue
        if sid in known and known[sid] not in pinned:
            result[sid] = known[sid]
            continue
        port = base
        while port in taken or not port_free(host, port):
            if port not in taken:
                taken.add(port)  # in use by something else: said once; the next services skip it silently
                if report is not None:
                    instead = _next_free(port, taken, host)
                    report(f"port {port} is in use on {host}: {sid} serves on {instead} instead")
            port += 1
        known[sid] = port
        taken.add(port)
        result[sid] = port
    if persist:
        with contextlib.suppress(OSError):
            layout.folder.mkdir(parents=True, exist_ok=True)
            data = {FIRST: base, **dict(sorted(known.items()))}
            path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return result


def _next_free(port: int, taken: set[int], host: str) -> int:
    while port in taken or not port_free(host, port):
        port += 1
    return port
