"""``[real.NAME]`` tables of ``thriftbox.toml``: the user's own services, started beside the mocks.

:data:`REAL_KEYS` is the one definition of their keys (the reference page is generated from it);
:func:`read_real` checks one table into a :class:`RealService`. Which runtime can run it (``image``/``build``
for Docker, ``run`` for processes) is checked by :func:`check_runnable` once the runtime is known.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from thriftbox.errors import ConfigError, Location


@dataclass(frozen=True)
class RealKey:
    name: str
    kind: str  # a KINDS entry of project.file
    meaning: str
    example: str


REAL_KEYS = (
    RealKey(
        "image", "string", "Docker: the image to run (must exist locally: nothing is pulled)", '"app:dev"'
    ),
    RealKey(
        "build", "path", "Docker: a folder with a Dockerfile, built into the image to run", '"./frontend"'
    ),
    RealKey(
        "command",
        "strings",
        "Docker: the container's command (default: the image's)",
        '["python3", "app.py"]',
    ),
    RealKey(
        "run", "strings", "process runtime: the command line of a local process", '["python3", "-m", "app"]'
    ),
    RealKey(
        "volumes",
        "strings",
        'Docker: `"SRC:DST[:ro]"` bind mounts, SRC relative to thriftbox.toml',
        '["./frontend:/app:ro"]',
    ),
    RealKey(
        "environment",
        "env",
        "variables; `{users.Users}` is where that mock answers from where the service runs",
        '{ USERS_ADDR = "{users.Users}" }',
    ),
    RealKey(
        "ports",
        "strings",
        '`"HOST:CONTAINER"` ports published on `host` (process: informative)',
        '["18080:8080"]',
    ),
    RealKey(
        "working_dir",
        "string",
        "where it runs (Docker: in the container; process: relative to thriftbox.toml)",
        '"/app"',
    ),
)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")
_PORT = re.compile(r"^(\d{1,5}):(\d{1,5})$")


@dataclass(frozen=True)
class Volume:
    source: Path  # resolved against the file's folder
    target: str
    read_only: bool = False


@dataclass(frozen=True)
class RealService:
    """One ``[real.NAME]`` table, checked; ``locations`` say where each key is, for later errors."""

    name: str
    image: str | None = None
    build: Path | None = None
    command: tuple[str, ...] = ()
    run: tuple[str, ...] = ()
    volumes: tuple[Volume, ...] = ()
    environment: dict[str, str] = field(default_factory=dict)
    ports: tuple[tuple[int, int], ...] = ()  # (published on this machine, inside)
    working_dir: str | None = None
    folder: Path = Path()  # thriftbox.toml's folder: process runtime's working directory
    locations: Mapping[str, Location] = field(default_factory=dict, compare=False, repr=False)

    def location(self, key: str = "") -> Location | None:
        """Where ``key`` (or the table) is in the file."""
        return self.locations.get(key) or self.locations.get("")

    def texts(self) -> Iterable[tuple[str, str]]:
        """(key, text) of every value placeholders may appear in."""
        for value in self.environment.values():
            yield "environment", value
        for arg in self.command:
            yield "command", arg
        for arg in self.run:
            yield "run", arg


class _Positions(Protocol):
    def location(self, keys: tuple[str, ...], *, value: bool = False) -> Location: ...


class _Checker(Protocol):
    @property
    def folder(self) -> Path: ...
    @property
    def positions(self) -> _Positions: ...

    def wrong(self, where: tuple[str, ...], value: Any, wanted: str) -> ConfigError: ...
    def unknown(self, where: tuple[str, ...], name: str, known: Iterable[str], what: str) -> ConfigError: ...


def read_real(checker: _Checker, name: str, table: Any) -> RealService:
    """The ``[real.NAME]`` table ``table``, checked; ConfigError at ``thriftbox.toml:LINE:COL`` otherwise."""
    where = ("real", name)
    at = checker.positions.location
    if not isinstance(table, dict):
        raise checker.wrong(where, table, f"a table ([real.{name}])")
    if not _NAME.match(name):
        raise ConfigError(
            f"real service name {name!r} is not usable as a container and DNS name",
            hint="use letters, digits, '-' and '_' (up to 63), starting with a letter or digit",
            location=at(where),
        )
    known = {k.name: k for k in REAL_KEYS}
    values: dict[str, Any] = {}
    locations = {"": at(where)}
    for key, value in table.items():
        if key not in known:
            raise checker.unknown((*where, key), key, known, f"key in [real.{name}]")
        spot = (*where, key)
        locations[key] = at(spot, value=True)
        values[key] = _value(checker, spot, known[key].kind, value)
    if "image" in values and "build" in values:
        raise ConfigError(
            f"[real.{name}] has both image and build",
            hint="give one: `image` to run an image as it is, `build` to build one from a Dockerfile folder",
            location=locations["build"],
        )
    if not values.keys() & {"image", "build", "run"}:
        raise ConfigError(
            f"[real.{name}] says neither what image to run nor what command to run",
            hint='add image = "..." or build = "./folder" (Docker runtime), or run = [...] (process runtime)',
            location=locations[""],
        )
    if "volumes" in values:
        values["volumes"] = tuple(_volume(checker, (*where, "volumes"), v) for v in values["volumes"])
    if "ports" in values:
        values["ports"] = tuple(_ports(checker, (*where, "ports"), values["ports"]))
    return RealService(name, **values, folder=checker.folder, locations=locations)


def check_runnable(real: Mapping[str, RealService], runtime: str) -> None:
    """Every real service can run in ``runtime`` ("docker" or "process"); ConfigError at its table otherwise."""
    for name, svc in sorted(real.items()):
        if runtime == "docker" and svc.image is None and svc.build is None:
            raise ConfigError(
                f"[real.{name}] has no image or build: the Docker runtime runs real services as containers",
                hint='add image = "..." or build = "./folder", or serve with --runtime process to use `run`',
                location=svc.location(),
            )
        if runtime == "process" and not svc.run:
            raise ConfigError(
                f"[real.{name}] has no run: the process runtime runs real services as local processes",
                hint='add run = ["command", "arg", ...], or serve with --runtime docker to use its image',
                location=svc.location(),
            )


def _value(checker: _Checker, where: tuple[str, ...], kind: str, value: Any) -> Any:
    if kind == "string":
        if not isinstance(value, str):
            raise checker.wrong(where, value, "a string")
        return value
    if kind == "path":
        if not isinstance(value, str):
            raise checker.wrong(where, value, "a string (a path relative to thriftbox.toml)")
        return (checker.folder / value).resolve()
    if kind == "strings":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise checker.wrong(where, value, 'a list of strings, e.g. ["python3", "app.py"]')
        return tuple(value)
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise checker.wrong(where, value, 'a table of strings, e.g. { LOG_LEVEL = "debug" }')
    return dict(value)


def _volume(checker: _Checker, where: tuple[str, ...], text: str) -> Volume:
    parts = text.split(":")
    mode = parts.pop() if len(parts) == 3 else "rw"
    if len(parts) != 2 or not all(parts) or mode not in ("ro", "rw") or not parts[1].startswith("/"):
        raise ConfigError(
            f"volume {text!r} is not SRC:DST or SRC:DST:ro",
            hint='e.g. "./frontend:/app:ro": SRC relative to thriftbox.toml, DST an absolute path inside',
            location=checker.positions.location(where, value=True),
        )
    return Volume((checker.folder / parts[0]).resolve(), parts[1], mode == "ro")


def _ports(checker: _Checker, where: tuple[str, ...], items: tuple[str, ...]) -> Iterable[tuple[int, int]]:
    for text in items:
        match = _PORT.match(text)
        pair = (int(match[1]), int(match[2])) if match else (0, 0)
        if not all(1 <= p <= 65535 for p in pair):
            raise ConfigError(
                f"port {text!r} is not HOST:CONTAINER",
                hint='e.g. "18080:8080": published on 18080 here, 8080 inside (each from 1 to 65535)',
                location=checker.positions.location(where, value=True),
            )
        yield pair
