"""``{users.Users}`` in a real service's environment and arguments: the one rule for those placeholders.

Pure: the caller says where each mock answers *from where the real service runs* (the Docker runtime: its DNS
name on the project network; the process runtime: the published address; an export: its own DNS names), and
gets the texts with ``{id}`` -> ``HOST:PORT``, ``{id.host}`` -> ``HOST``, ``{id.port}`` -> ``PORT``. A text's
other braces are left as they are; ``{{`` and ``}}`` are a literal ``{`` and ``}``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Mapping
from dataclasses import replace

from thriftbox.errors import ConfigError
from thriftbox.project.real import RealService

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_.]*)\}")
_PARTS = ("host", "port")

Address = tuple[str, int]


def _split(name: str, services: Collection[str]) -> tuple[str, str] | None:
    """``users.Users.port`` -> ``("users.Users", "port")``; None when ``name`` names no service."""
    if name in services:
        return name, ""
    sid, _, part = name.rpartition(".")
    return (sid, part) if part in _PARTS and sid in services else None


def names_in(text: str) -> list[str]:
    """The placeholders ``text`` holds, as written (without braces)."""
    return [m[1] for m in _PLACEHOLDER.finditer(text) if m[1]]


def substitute(text: str, addresses: Mapping[str, Address]) -> str:
    """``text`` with every placeholder replaced; one naming no service of ``addresses`` is left as it is."""

    def one(match: re.Match[str]) -> str:
        if not match[1]:
            return match[0][0]
        found = _split(match[1], addresses)
        if found is None:
            return match[0]
        host, port = addresses[found[0]]
        return {"": f"{host}:{port}", "host": host, "port": str(port)}[found[1]]

    return _PLACEHOLDER.sub(one, text)


def check(real: Mapping[str, RealService], served: Collection[str], disabled: Collection[str] = ()) -> None:
    """Every placeholder of ``real`` names a ``served`` service; a ConfigError at its key otherwise."""
    for name, svc in sorted(real.items()):
        for key, text in svc.texts():
            for placeholder in names_in(text):
                if _split(placeholder, served) is not None:
                    continue
                sid = placeholder
                if _split(placeholder, disabled) is not None:
                    raise ConfigError(
                        f"[real.{name}] {key}: {{{placeholder}}} names a disabled service",
                        hint="enable it (enabled = true), or stop using its address",
                        location=svc.location(key),
                    )
                close = difflib.get_close_matches(sid, list(served), 1)
                hint = f"did you mean {{{close[0]}}}?" if close else "served: " + ", ".join(sorted(served))
                raise ConfigError(
                    f"[real.{name}] {key}: {{{placeholder}}} names no served service",
                    hint=hint + " ({id.host} and {id.port} give the parts)",
                    location=svc.location(key),
                )


def resolve(svc: RealService, addresses: Mapping[str, Address]) -> RealService:
    """``svc`` with its environment, command and run resolved against ``addresses``."""
    return replace(
        svc,
        environment={k: substitute(v, addresses) for k, v in svc.environment.items()},
        command=tuple(substitute(a, addresses) for a in svc.command),
        run=tuple(substitute(a, addresses) for a in svc.run),
    )
