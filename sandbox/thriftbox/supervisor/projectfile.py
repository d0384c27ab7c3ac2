"""``thriftbox.toml`` meets :class:`ServeConfig`: the file's keys as serve's settings, its reference page and
the commented file ``thriftbox init`` writes, all from the one key definition in :mod:`thriftbox.project.file`.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from thriftbox.project.file import FILENAME, KINDS, SERVE_KEYS, SERVICE_KEYS, TABLES, Key, ProjectFile
from thriftbox.project.real import REAL_KEYS
from thriftbox.runtime.base import RUNTIME_NAMES
from thriftbox.supervisor.config import ServeConfig

_FIELDS = {f.name: f for f in dataclasses.fields(ServeConfig)}
SERVE_FIELDS = {key.name: key.field for key in SERVE_KEYS}  # [serve] key -> the ServeConfig field it sets


def config_from_project(project: ProjectFile | None, root: Path, **overrides: Any) -> ServeConfig:
    """The ServeConfig of ``project``'s ``[serve]`` and ``[services]``, with ``overrides`` (ServeConfig fields
    given explicitly, e.g. on the command line) winning over the file."""
    values: dict[str, Any] = {}
    if project is not None:
        runtime = project.serve.get("runtime")
        if runtime is not None and runtime not in RUNTIME_NAMES:
            raise project.error(
                ("serve", "runtime"),
                f"unknown runtime {runtime!r}",
                "choose one of: " + ", ".join(RUNTIME_NAMES),
            )
        for name in ("paths", "include", "mocks", "tls_cert", "tls_key", "tls_client_ca"):
            given = project.serve.get(name)
            missing = [p for p in ([given] if isinstance(given, Path) else given or ()) if not p.exists()]
            if missing and SERVE_FIELDS[name] not in overrides:
                raise project.error(
                    ("serve", name),
                    f"{os.path.relpath(missing[0], project.path.parent)}: no such file or folder",
                    "paths in thriftbox.toml are relative to its folder",
                )
        for have, need in (("tls_cert", "tls_key"), ("tls_key", "tls_cert"), ("tls_client_ca", "tls_cert")):
            if have in project.serve and need not in project.serve and SERVE_FIELDS[need] not in overrides:
                raise project.error(("serve", have), f"{have} needs {need}", f"add {need} to [serve]")
        fields = SERVE_FIELDS
        values = {fields[name]: value for name, value in project.serve.items()}
        values["services"] = dict(project.services)
        values["real"] = dict(project.real)
        values["project_file"] = project.path
        values["strict_services"] = "paths" not in overrides  # other IDL: settings of others do not apply
    return ServeConfig(**{**values, **overrides, "root": root})


def default_of(key: Key) -> str:
    """The default of ``key`` as the reference shows it: ServeConfig's, for the keys that set one of its fields."""
    if not key.field:
        return key.default
    value = _FIELDS[key.field].default
    if key.field == "admin_port":
        return "`port` minus 1, if free"
    if key.field == "base_image":
        return "`$THRIFTBOX_BASE_IMAGE`, else python:3.11-slim"
    if value is None:
        return "none"
    return f"`{_toml(list(value) if isinstance(value, tuple) else value)}`"


def reference() -> str:
    """docs/project-file.md: every key of ``thriftbox.toml``, its type, default and meaning."""
    out = [
        "# The project file: `thriftbox.toml`",
        "",
        "<!-- generated from thriftbox.project.file: python -m tests.project.test_reference > docs/project-file.md -->",
        "",
        "`thriftbox.toml` at the root of your repository is the team's configuration of `thriftbox serve`, "
        "checked in. `thriftbox serve` with no arguments reads it from the current folder or the nearest "
        "parent that has one (as git finds `.git`); options given on the command line (or in the environment) "
        "override its keys. The pytest plugin reads the same file (see [the pytest plugin](pytest-plugin.md)). "
        "`thriftbox init` writes a commented one for the IDL it finds.",
        "",
        "Paths are relative to the file's folder. `.thriftbox/` (remembered ports, state, logs) stays in the "
        "folder `serve` runs in, as without a file. An unknown key, a wrong type, a TOML syntax error or a "
        "service the IDL does not define is an error at `thriftbox.toml:LINE:COL` with a hint, exit code 2, "
        "and nothing starts.",
        "",
        "```toml",
        template(["idl"], "mocks", ["users.Users"], commented=False).rstrip(),
        "```",
        "",
    ]
    for table, keys in (("serve", SERVE_KEYS), ("services", SERVICE_KEYS)):
        out += [f"## `[{table}]`: {TABLES[table]}", "", "| key | type | default | `serve` option | meaning |"]
        out.append("|---|---|---|---|---|")
        for key in keys:
            option = f"`{key.option}`" if key.option else ""
            out.append(
                f"| `{key.name}` | {KINDS[key.kind]}{_bounds(key)} | {default_of(key)} | {option} | {key.meaning} |"
            )
        out.append("")
    out += [
        'A `[services."id"]` table names a service by its id (`namespace.Service`, as `thriftbox status` shows '
        "it). A fixed `port` wins over the remembered one; another service that remembered that port moves to "
        "a free one. A service with `enabled = false` is not started, and hot reload does not start it either. "
        "`latency` accepts what a stub rule's `latency_ms` takes (a number of milliseconds, "
        "`{ min = 10, max = 50 }` or `{ p50 = 20, p99 = 400 }`) but is not applied yet; until it is, `serve` "
        "says so when it starts. The pytest plugin uses `enabled` but not fixed ports, so tests can run beside "
        "a `thriftbox serve`; it takes `paths`, `include`, `mocks`, `runtime`, `seed` and the `tls_` keys "
        "from `[serve]`.",
        "",
        f"## `[real.NAME]`: {TABLES['real']}",
        "",
        "| key | type | meaning | example |",
        "|---|---|---|---|",
        *(f"| `{k.name}` | {KINDS[k.kind]} | {k.meaning} | `{k.example}` |" for k in REAL_KEYS),
        "",
        "Each `[real.NAME]` is started once every mock answers: in the Docker runtime a container (from `image`, "
        "which must exist locally, or built from `build`) on the mocks' network; in the process runtime the "
        "local process `run` (working in the file's folder unless `working_dir` says otherwise). In "
        "`environment`, `command` and `run`, `{users.Users}` becomes `HOST:PORT` of that mock as seen from "
        "where the service runs (Docker: its DNS name on the network and its port; processes: `host` and its "
        "port); `{users.Users.host}` and `{users.Users.port}` give the parts. A placeholder naming no served "
        "service, a published port a mock also uses, or (Docker) an image that does not exist is an error "
        "at its line before anything starts. See [the team stack](team-stack.md#real-services).",
        "",
    ]
    return "\n".join(out)


def template(
    paths: Iterable[str], mocks: str | None, services: Iterable[str], *, commented: bool = True
) -> str:
    """A ``thriftbox.toml`` serving ``paths``: the other ``[serve]`` keys commented with their defaults, and a
    commented ``[services."id"]`` example per service."""
    lines = [
        f"# {FILENAME}: the project's thriftbox configuration (reference: docs/project-file.md).",
        "# `thriftbox serve` with no arguments reads it; command-line options override it.",
        "",
        "[serve]",
    ]
    given: Mapping[str, Any] = {"paths": list(paths), **({"mocks": mocks} if mocks else {})}
    for key in SERVE_KEYS:
        if key.name in given:
            lines.append(f"{key.name} = {_toml(given[key.name])}  # {key.meaning}")
        elif commented:
            lines.append(f"# {key.name} = {_example(key)}  # {key.meaning}")
    for i, sid in enumerate(services):
        prefix = "# " if commented else ""
        lines += ["", f'{prefix}[services."{sid}"]', f"{prefix}port = {9190 + i}  # a fixed port"]
        if commented and i == 0:
            lines += [
                f"# {key.name} = {_example(key, service=True)}  # {key.meaning}"
                for key in SERVICE_KEYS
                if key.name != "port"
            ]
    if commented:
        lines += ["", f"# [real.frontend]  # {TABLES['real'].split(':')[0]} (image or build, or run)"]
        lines += [f"# {k.name} = {k.example}  # {k.meaning}" for k in REAL_KEYS]
    return "\n".join(lines) + "\n"


def _example(key: Key, *, service: bool = False) -> str:
    if service:
        return {
            "enabled": "false",
            "latency": "{ p50 = 20, p99 = 400 }",
            "replicas": "2",
            "proxy": '"staging-users:9090"',
            "proxy_protocol": '"compact"',
            "proxy_framing": '"framed"',
            "proxy_timeout_ms": "2000",
            "proxy_tls": "true",
            "proxy_ca": '"certs/staging-ca.pem"',
            "proxy_cert": '"certs/me.pem"',
            "proxy_key": '"certs/me.key"',
            "record": "true",
        }[key.name]
    value = _FIELDS[key.field].default
    if value is None:
        examples = {
            "admin_port": "9089",
            "base_image": '"python:3.11-slim"',
            "mocks": '"mocks"',
            "now": '"2026-01-31"',
            "tls_cert": '"tls/server.pem"',
            "tls_key": '"tls/server.key"',
            "tls_client_ca": '"tls/clients-ca.pem"',
        }
        return examples[key.name]
    return _toml(list(value) if isinstance(value, tuple) else value)


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(map(_toml, value)) + "]"
    return str(value)


def _bounds(key: Key) -> str:
    if key.low is None:
        return ""
    return f", {key.low}..{key.high}" if key.high is not None else f", >= {key.low}"
