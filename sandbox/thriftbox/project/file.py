"""``thriftbox.toml``: the team's checked-in project file, found from a folder or a parent (like git).

:data:`SERVE_KEYS` and :data:`SERVICE_KEYS` are the one definition of its keys: parsing checks against them, and
the reference page (docs/project-file.md) and ``thriftbox init``'s template are generated from them. Every
problem is a :class:`~thriftbox.errors.ConfigError` at ``thriftbox.toml:LINE:COL`` with a hint.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from thriftbox.errors import ConfigError, Location
from thriftbox.idl.model import Catalog
from thriftbox.project.locate import Positions
from thriftbox.project.real import RealService, read_real

FILENAME = "thriftbox.toml"

KINDS = {
    "string": "string",
    "integer": "integer",
    "boolean": "boolean",
    "path": "string (a path)",
    "paths": "list of strings (paths)",
    "strings": "list of strings",
    "address": "string (`HOST:PORT`)",
    "latency": "number (ms) or table",
    "env": "table of strings",
}


@dataclass(frozen=True)
class Key:
    """One key of the file: its name, kind, what it means and, for ``[serve]``, the option it stands for."""

    name: str
    kind: str  # one of KINDS
    meaning: str
    option: str = ""  # the `thriftbox serve` option it stands for
    field: str = ""  # the ServeConfig field it sets (its default is that field's)
    default: str = ""  # shown default, for keys that set no ServeConfig field
    low: int | None = None
    high: int | None = None
    choices: tuple[str, ...] = ()  # the values a string key takes (empty: any)


SERVE_KEYS = (
    Key("paths", "paths", "folders or .thrift files to serve", "PATHS", "paths"),
    Key("include", "paths", "folders that `include`s resolve against", "-I/--include-dir", "include_dirs"),
    Key("mocks", "path", "folder (or file) of stub files", "--mocks", "mocks_dir"),
    Key("seed", "integer", "seed of the generated data: same seed, same answers", "--seed", "seed"),
    Key(
        "port", "integer", "first port; services keep theirs across runs", "--port", "port", low=1, high=65535
    ),
    Key("runtime", "string", "where mocks run: `auto`, `process` or `docker`", "--runtime", "runtime"),
    Key("host", "string", "address mocks listen on / are published on", "--host", "host"),
    Key("workers", "integer", "processes answering each mock's port", "--workers", "workers", low=1, high=64),
    Key(
        "base_image",
        "string",
        "Docker runtime: base image with Python 3 and pip",
        "--base-image",
        "base_image",
    ),
    Key("admin_port", "integer", "port of the admin API", "--admin-port", "admin_port", low=0, high=65535),
    Key("admin_host", "string", "address of the admin API", "--admin-host", "admin_host"),
    Key("watch", "boolean", "reload on save (`false`: as `--no-watch`)", "--no-watch", "watch"),
    Key(
        "redact",
        "strings",
        "words that mark a field secret in recorded stub files (matched in its name, any case)",
        "--redact",
        "redact",
    ),
    Key(
        "now",
        "string",
        "pin the instant generated time is relative to (ISO date or datetime, UTC)",
        "--now",
        "now",
    ),
    Key(
        "tls_cert",
        "path",
        "PEM certificate (chain): TLS clients of the mock ports are answered in TLS, beside plaintext",
        "--tls-cert",
        "tls_cert",
    ),
    Key("tls_key", "path", "PEM private key of `tls_cert`", "--tls-key", "tls_key"),
    Key(
        "tls_client_ca",
        "path",
        "PEM CA certificate(s): TLS clients must present a certificate it signed (mutual TLS)",
        "--tls-client-ca",
        "tls_client_ca",
    ),
)
SERVICE_KEYS = (
    Key(
        "port",
        "integer",
        "a fixed port for this service",
        default="remembered, else the next free one",
        low=1,
        high=65535,
    ),
    Key("enabled", "boolean", "`false`: the service is not served", default="`true`"),
    Key(
        "latency",
        "latency",
        "reserved: checked, not applied yet (use a `default: {latency_ms: ...}` rule in its stub file)",
        default="none",
    ),
    Key(
        "proxy",
        "address",
        "`HOST:PORT` of the real backend: calls are forwarded to it (docs/recording.md)",
        default="none: answer from stubs and generated data",
    ),
    Key(
        "proxy_protocol",
        "string",
        "protocol spoken to the backend: `binary` or `compact`",
        default="`binary`",
        choices=("binary", "compact"),
    ),
    Key(
        "proxy_framing",
        "string",
        "framing spoken to the backend: `buffered`, `framed` or `header` (THeader)",
        default="`buffered`",
        choices=("buffered", "framed", "header"),
    ),
    Key(
        "proxy_tls",
        "boolean",
        "speak TLS to the backend",
        default="`false` (`true` with `proxy_ca` or `proxy_cert`)",
    ),
    Key(
        "proxy_ca",
        "path",
        "PEM CA certificate(s) the backend's certificate must chain to (TLS)",
        default="none: the backend's certificate is not verified",
    ),
    Key(
        "proxy_cert",
        "path",
        "PEM client certificate for a backend that asks for one (mutual TLS)",
        default="none",
    ),
    Key("proxy_key", "path", "PEM private key of `proxy_cert`", default="in `proxy_cert`'s file"),
    Key(
        "proxy_timeout_ms",
        "integer",
        "how long a call waits for the backend before the client gets an error",
        default="`5000`",
        low=1,
        high=3_600_000,
    ),
    Key(
        "record",
        "boolean",
        "write the backend's answers to `mocks/recorded/<id>.yaml` (as `serve --record`)",
        default="`false`",
    ),
    Key(
        "replicas",
        "integer",
        "copies of the mock in `thriftbox export compose` and `kubernetes` (not in `serve`)",
        default="1",
        low=1,
    ),
)
TABLES = {
    "serve": "what `thriftbox serve` takes",
    "services": 'per service: `[services."users.Users"]`',
    "real": "a real service of yours, started with the mocks: `[real.frontend]`",
}


@dataclass(frozen=True)
class ServiceSettings:
    """The ``[services."id"]`` table of one service."""

    port: int | None = None
    enabled: bool = True
    latency: float | dict[str, float] | None = None
    replicas: int = 1
    proxy: str | None = None  # HOST:PORT of the real backend
    proxy_protocol: str = "binary"
    proxy_framing: str = "buffered"
    proxy_timeout_ms: int = 5000
    proxy_tls: bool = False
    proxy_ca: Path | None = None
    proxy_cert: Path | None = None
    proxy_key: Path | None = None
    record: bool = False
    location: Location | None = field(default=None, compare=False)  # its table in the file, for errors


@dataclass(frozen=True)
class ProjectFile:
    """A parsed, checked ``thriftbox.toml``: ``serve`` holds the keys given (paths resolved against its folder)."""

    path: Path
    serve: dict[str, Any]
    services: dict[str, ServiceSettings]
    positions: Positions = field(repr=False, compare=False)
    real: dict[str, RealService] = field(default_factory=dict)  # [real.NAME] tables

    def error(self, keys: tuple[str, ...], message: str, hint: str | None = None) -> ConfigError:
        """A ConfigError at the value of ``keys`` (e.g. ``("serve", "runtime")``)."""
        return ConfigError(message, hint=hint, location=self.positions.location(keys, value=True))


def find_project_file(start: Path) -> Path | None:
    """``thriftbox.toml`` in ``start`` or the nearest parent that has one."""
    start = start.resolve()
    for folder in (start, *start.parents):
        candidate = folder / FILENAME
        if candidate.is_file():
            return candidate
    return None


def read_project_file(path: Path) -> ProjectFile:
    """Parse and check ``path``; raises ConfigError at ``thriftbox.toml:LINE:COL`` for any problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: cannot read it: {err}") from None
    positions = Positions.scan(path, text)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        message, where = positions.syntax_location(str(err))
        raise ConfigError(
            f"not valid TOML: {message}", hint="see https://toml.io for the syntax", location=where
        ) from None
    checker = _Checker(path.parent, positions)
    for name in data:
        if name not in TABLES:
            raise checker.unknown((name,), name, TABLES, "table")
        if not isinstance(data[name], dict):
            raise checker.wrong((name,), data[name], f"a table ([{name}])")
    serve = {key.name: checker.value(("serve", key.name), key, v) for key, v in checker.keys("serve", data)}
    services = {sid: checker.service(sid, table) for sid, table in data.get("services", {}).items()}
    real = {name: read_real(checker, name, table) for name, table in data.get("real", {}).items()}
    return ProjectFile(path, serve, services, positions, real)


def check_services(services: Mapping[str, ServiceSettings], catalog: Catalog, *, strict: bool = True) -> None:
    """Every configured service is in ``catalog`` (unless not ``strict``: the IDL was given elsewhere than the
    file), and no two share a fixed port; else a ConfigError."""
    for sid, settings in services.items():
        if sid in catalog.services or not strict:
            continue
        found = catalog.find_service(sid)
        close = [found.id] if found is not None else difflib.get_close_matches(sid, list(catalog.services), 1)
        hint = f"did you mean {close[0]!r}?" if close else "served: " + ", ".join(sorted(catalog.services))
        raise ConfigError(f"no service {sid!r} in the served IDL", hint=hint, location=settings.location)
    owners: dict[int, str] = {}
    for sid, settings in sorted(services.items()):
        if settings.port is None or not settings.enabled:
            continue
        if settings.port in owners:
            raise ConfigError(
                f"{sid} and {owners[settings.port]} both ask for port {settings.port}",
                hint="give each service a port of its own",
                location=settings.location,
            )
        owners[settings.port] = sid


class _Checker:
    """Checks values against their :class:`Key`; errors point at the file."""

    def __init__(self, folder: Path, positions: Positions) -> None:
        self.folder = folder
        self.positions = positions

    def keys(self, table: str, data: dict[str, Any]) -> Iterable[tuple[Key, Any]]:
        known = {k.name: k for k in SERVE_KEYS}
        for name, value in data.get(table, {}).items():
            if name not in known:
                raise self.unknown((table, name), name, known, f"key in [{table}]")
            yield known[name], value

    def service(self, sid: str, table: Any) -> ServiceSettings:
        where = ("services", sid)
        if not isinstance(table, dict):
            raise self.wrong(where, table, f'a table ([services."{sid}"])')
        known = {k.name: k for k in SERVICE_KEYS}
        values = {}
        for name, value in table.items():
            if name not in known:
                raise self.unknown((*where, name), name, known, "service key")
            values[name] = self.value((*where, name), known[name], value)
        for name in ("proxy_ca", "proxy_cert", "proxy_key"):
            if name in values and not values[name].is_file():
                raise ConfigError(
                    f"{name}: no such file {table[name]!r}",
                    hint=f"paths are relative to thriftbox.toml's folder, {self.folder}",
                    location=self.positions.location((*where, name), value=True),
                )
        return ServiceSettings(**values, location=self.positions.location(where))

    def value(self, where: tuple[str, ...], key: Key, value: Any) -> Any:
        kind = key.kind
        if kind == "integer":
            if not isinstance(value, int) or isinstance(value, bool):
                raise self.wrong(where, value, "an integer")
            if (key.low is not None and value < key.low) or (key.high is not None and value > key.high):
                bounds = f"from {key.low}" + (f" to {key.high}" if key.high is not None else " up")
                raise ConfigError(
                    f"{key.name} must be {bounds}, not {value}",
                    location=self.positions.location(where, value=True),
                )
            return value
        if kind == "boolean":
            if not isinstance(value, bool):
                raise self.wrong(where, value, "true or false")
            return value
        if kind == "string":
            if not isinstance(value, str):
                raise self.wrong(where, value, "a string")
            if key.choices and value not in key.choices:
                raise ConfigError(
                    f"{key.name} must be one of {', '.join(key.choices)}, not {value!r}",
                    location=self.positions.location(where, value=True),
                )
            return value
        if kind == "path":
            if not isinstance(value, str):
                raise self.wrong(where, value, "a string (a path relative to thriftbox.toml)")
            return self.folder / value
        if kind == "address":
            host, _, port = value.rpartition(":") if isinstance(value, str) else ("", "", "")
            if not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise self.wrong(where, value, 'HOST:PORT, e.g. "staging-users:9090"')
            return value
        if kind == "strings":
            if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                raise self.wrong(where, value, 'a list of strings, e.g. ["password", "token"]')
            return tuple(value)
        if kind == "paths":
            items = [value] if isinstance(value, str) else value
            if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
                raise self.wrong(where, value, 'a list of paths, e.g. ["idl"]')
            return tuple(self.folder / v for v in items)
        return self.latency(where, value)

    def latency(self, where: tuple[str, ...], value: Any) -> float | dict[str, float]:
        numbers = value.values() if isinstance(value, dict) else [value]
        if not all(isinstance(n, (int, float)) and not isinstance(n, bool) and n >= 0 for n in numbers):
            raise self.wrong(where, value, "milliseconds >= 0, or a table such as { p50 = 20, p99 = 400 }")
        return {str(k): float(v) for k, v in value.items()} if isinstance(value, dict) else float(value)

    def wrong(self, where: tuple[str, ...], value: Any, wanted: str) -> ConfigError:
        return ConfigError(
            f"{'.'.join(where)} must be {wanted}, not {_toml_type(value)} {value!r}",
            location=self.positions.location(where, value=True),
        )

    def unknown(self, where: tuple[str, ...], name: str, known: Iterable[str], what: str) -> ConfigError:
        names = list(known)
        close = difflib.get_close_matches(name, names, 1)
        hint = f"did you mean {close[0]!r}?" if close else "known: " + ", ".join(names)
        return ConfigError(f"unknown {what} {name!r}", hint=hint, location=self.positions.location(where))


def _toml_type(value: Any) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a float", str: "a string", list: "an array"}
    return "a table" if isinstance(value, dict) else names.get(type(value), type(value).__name__)
