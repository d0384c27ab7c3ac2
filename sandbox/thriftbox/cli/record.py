"""``thriftbox record``: serve one service as a recording proxy for a while, then say what was recorded."""

from __future__ import annotations

import re
import signal
import time
from pathlib import Path
from typing import Any

import click

from thriftbox.cli.common import handle_errors, include_opt, path_arg
from thriftbox.cli.output import err, out
from thriftbox.errors import ConfigError

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h)?$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}
PROGRESS_EVERY = 2.0  # seconds between looks at the journal while recording
QUIET_PROGRESS = 30.0  # a progress line at least this often, even when no call came


def parse_duration(text: str) -> float:
    """``60s``, ``5m``, ``1h``, ``500ms`` or plain seconds, as seconds; ConfigError otherwise."""
    match = _DURATION.match(text.strip())
    if match is None:
        raise ConfigError(f"--duration {text!r} is not a duration", hint="e.g. 60s, 5m or 1h")
    return float(match.group(1)) * _UNITS[match.group(2)]


@click.command()
@click.argument("paths", nargs=-1)
@click.option(
    "--target",
    required=True,
    metavar="HOST:PORT",
    help="The real backend to record; spoken to as the service's proxy_* keys in thriftbox.toml say (THeader, "
    "TLS...), or as HOST:PORT,PROTOCOL,FRAMING,TIMEOUT_MS[,tls][,ca=PEM]... says (as serve --proxy).",
)
@click.option("--service", "service_id", required=True, metavar="ID", help="The service it serves (its id).")
@click.option("--duration", default="60s", show_default=True, help="How long to record (60s, 5m, 1h).")
@click.option("--mocks", "mocks_dir", type=path_arg, default=None, help="Stub folder [default: mocks/].")
@click.option("--port", default=None, type=click.IntRange(1, 65535), help="First port, as for serve.")
@include_opt
@handle_errors
def record(
    paths: tuple[str, ...],
    target: str,
    service_id: str,
    duration: str,
    mocks_dir: Path | None,
    port: int | None,
    include_dirs: tuple[Path, ...],
) -> None:
    """Record a real backend: serve SERVICE as a proxy to TARGET on its usual port for DURATION (or until
    Ctrl-C), write its answers to mocks/recorded/<id>.yaml and print a summary.

    \b
    Examples:
      thriftbox record idl/ --target staging-users:9090 --service users.Users --duration 5m
      thriftbox serve idl/ --mocks mocks/      # then: replay what was recorded
    """
    from thriftbox.idl import load_catalog
    from thriftbox.project.file import ServiceSettings, find_project_file, read_project_file
    from thriftbox.supervisor.config import ServeConfig, validate_paths
    from thriftbox.supervisor.projectfile import config_from_project
    from thriftbox.supervisor.session import serve as serve_api

    seconds = parse_duration(duration)
    found = find_project_file(Path.cwd())
    project = read_project_file(found) if found is not None else None
    base = config_from_project(project, Path.cwd(), **({"paths": paths} if paths else {}))
    if not paths and project is None:
        raise click.UsageError("give the IDL folders, or write a thriftbox.toml (thriftbox init)")
    catalog = load_catalog(validate_paths(base.paths), validate_paths([*base.include_dirs, *include_dirs]))
    if service_id not in catalog.services:
        raise ConfigError(
            f"--service {service_id}: the IDL defines no such service",
            hint="name it by its id: " + ", ".join(sorted(catalog.services)[:8]),
        )
    # only this service is served (on the port it usually has); the others keep their settings, disabled
    services = {sid: base.services.get(sid, ServiceSettings()) for sid in catalog.services}
    services = {
        sid: s if sid == service_id else ServiceSettings(port=s.port, enabled=False)
        for sid, s in services.items()
    }
    config = ServeConfig(
        paths=base.paths,
        include_dirs=(*base.include_dirs, *include_dirs),
        mocks_dir=mocks_dir or base.mocks_dir or Path("mocks"),
        runtime="process",
        port=port or base.port,
        seed=base.seed,
        watch=False,
        services=services,
        proxies={service_id: target},
        record=True,
        redact=base.redact,
    )
    if config.mocks_dir is not None:
        Path(config.mocks_dir).mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, _interrupt)
    session = serve_api(config, report=lambda line: err.print(line, markup=False))
    counted = _Counter()
    try:
        served = session.ports.get(service_id)
        err.print(
            f"recording {service_id} on port {served} -> {target} for {duration} (Ctrl-C to stop early)"
        )
        start = time.monotonic()
        deadline, said, said_at = start + seconds, 0, start
        while time.monotonic() < deadline:
            time.sleep(min(PROGRESS_EVERY, max(0.0, deadline - time.monotonic())))
            total = sum(counted.update().values())
            now = time.monotonic()
            if total != said or now - said_at >= QUIET_PROGRESS:  # as calls come in, else now and then
                err.print(f"  {now - start:.0f} s: {total} call(s) recorded", markup=False)
                said, said_at = total, now
    except KeyboardInterrupt:
        pass
    finally:
        counted.update()
        session.stop()  # the host writes what it has not written yet as it stops
    written = Path(config.mocks_dir or "mocks") / "recorded" / f"{service_id}.yaml"
    _summary(service_id, counted.counts, written)
    if counted.failed:
        out.print(
            f"{counted.failed} call(s) failed at the backend, not recorded (thriftbox journal)", markup=False
        )


class _Counter:
    """Calls the backend answered, per method, read from the journal of the serve this command runs as they
    come (a cursor: each entry is read once, and none is missed while the journal holds it)."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.failed = 0  # calls the backend did not answer (refused, timed out...): nothing to record
        self.cursor = ""

    def update(self) -> dict[str, int]:
        from dataclasses import replace

        from thriftbox.cli.admin import admin
        from thriftbox.control.messages import JournalQuery

        try:
            api = admin()
            while True:
                page = api.journal(replace(JournalQuery(), since=self.cursor))
                for entry in page.entries:
                    proxied = entry.get("proxied")
                    if proxied and "error" in proxied:
                        self.failed += 1
                    elif proxied:
                        self.counts[entry["method"]] = self.counts.get(entry["method"], 0) + 1
                if not page.entries or not page.cursor or page.cursor == self.cursor:
                    return self.counts
                self.cursor = page.cursor
        except Exception:  # the summary is a courtesy: the file is what matters
            return self.counts


def _summary(service_id: str, calls: dict[str, int], written: Path) -> None:
    import yaml

    doc: dict[str, Any] = {}
    if written.is_file():
        doc = yaml.safe_load(written.read_text(encoding="utf-8")) or {}
    methods = doc.get("methods") or {}
    total = sum(calls.values())
    out.print(f"recorded {total} call(s) of {service_id}, {len(methods)} method(s):", markup=False)
    for name, rules in methods.items():
        out.print(f"  {name}: {calls.get(name, 0)} call(s), {len(rules)} distinct", markup=False)
    if methods:
        out.print(f"file written: {written}", markup=False)
    else:
        out.print("no file written: no call reached the backend", markup=False)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
