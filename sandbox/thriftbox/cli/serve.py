"""``thriftbox serve``: start the mocks through :func:`thriftbox.serve` and show what happens until Ctrl-C."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import click
from rich.markup import escape

from thriftbox.cli.common import handle_errors, include_opt, path_arg
from thriftbox.cli.output import err, out, status_table
from thriftbox.client.target import DEFAULT_REDACT
from thriftbox.runtime.base import RUNTIME_NAMES

# option (parameter name) -> the ServeConfig field it sets; given explicitly, it wins over thriftbox.toml
FIELDS = {
    "paths": "paths",
    "runtime": "runtime",
    "host": "host",
    "port": "port",
    "include_dirs": "include_dirs",
    "seed": "seed",
    "mocks_dir": "mocks_dir",
    "no_watch": "watch",
    "admin_port": "admin_port",
    "admin_host": "admin_host",
    "base_image": "base_image",
    "workers": "workers",
    "now": "now",
    "no_dashboard": "dashboard",
    "tls_cert": "tls_cert",
    "tls_key": "tls_key",
    "tls_client_ca": "tls_client_ca",
    "proxies": "proxies",
    "proxy_mode": "proxy_mode",
    "record": "record",
    "redact": "redact",
}


@click.command()
@click.argument("paths", nargs=-1)  # plain strings: a Path would hide "https://"
@click.option(
    "--runtime",
    type=click.Choice(RUNTIME_NAMES),
    default="auto",
    show_default=True,
    help="Where mocks run: a container per service (docker), local processes, or docker if one answers.",
)
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address mocks listen on / are published on."
)
@click.option(
    "--port",
    default=9090,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="First port: services are numbered from it and keep their ports across restarts while it stays "
    "the same (.thriftbox/ports.json).",
)
@include_opt
@click.option(
    "--seed", default=0, show_default=True, type=int, help="Seed for generated data: same seed, same answers."
)
@click.option(
    "--mocks", "mocks_dir", type=path_arg, default=None, help="Folder of stub files (.yaml, .yml, .json)."
)
@click.option("--no-watch", is_flag=True, help="Do not reload when IDL or stub files change.")
@click.option(
    "--admin-port",
    type=click.IntRange(0, 65535),
    default=None,
    help="Port of the admin API (journal, stubs, state) on --admin-host [default: --port minus 1, if free].",
)
@click.option(
    "--admin-host",
    default="127.0.0.1",
    show_default=True,
    help="Address of the admin API. Anything but loopback exposes it to your network.",
)
@click.option(
    "--no-dashboard", is_flag=True, help="Do not serve the dashboard (web pages at the admin API's root)."
)
@click.option(
    "--base-image",
    envvar="THRIFTBOX_BASE_IMAGE",
    default=None,
    help="Docker runtime: base image with Python 3 and pip [default: python:3.11-slim].",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Processes answering each mock's port, for load tests: up to one per core. Stub counters "
    "(sequences, times, state) then count per process.",
)
@click.option(
    "--now",
    default=None,
    metavar="WHEN",
    help="Pin the instant generated time is relative to (ISO date or time, UTC) [default: the start of today]: "
    "the same answers on any day.",
)
@click.option(
    "--tls-cert",
    type=path_arg,
    default=None,
    metavar="PEM",
    help="Certificate (chain) of the mock ports: a client that starts a TLS handshake is answered in TLS, "
    "plaintext clients keep working on the same port. Needs --tls-key.",
)
@click.option("--tls-key", type=path_arg, default=None, metavar="PEM", help="Private key of --tls-cert.")
@click.option(
    "--tls-client-ca",
    type=path_arg,
    default=None,
    metavar="PEM",
    help="Require TLS clients to present a certificate this CA signed (mutual TLS).",
)
@click.option(
    "--proxy",
    "proxies",
    multiple=True,
    metavar="ID=HOST:PORT",
    help="Forward the calls of service ID to the real backend at HOST:PORT (repeatable). How to speak to it: "
    "proxy_protocol, proxy_framing (header: THeader), proxy_tls, proxy_ca... in thriftbox.toml, or "
    "ID=HOST:PORT,PROTOCOL,FRAMING,TIMEOUT_MS[,tls][,ca=PEM][,cert=PEM][,key=PEM] (docs/recording.md).",
)
@click.option(
    "--proxy-mode",
    type=click.Choice(["forward", "fallback"]),
    default="forward",
    show_default=True,
    help="forward: every call goes to the backend; fallback: stub rules and state first, the backend for the "
    "rest.",
)
@click.option(
    "--record",
    is_flag=True,
    help="Write what the backends answer as stub files, mocks/recorded/<id>.yaml (replay: serve without --proxy).",
)
@click.option(
    "--redact",
    multiple=True,
    metavar="WORD",
    default=DEFAULT_REDACT,
    show_default=True,
    help="With --record: fields whose names contain WORD (any case) are left out of recorded files (repeatable).",
)
@click.pass_context
@handle_errors
def serve(
    ctx: click.Context,
    paths: tuple[str, ...],
    runtime: str,
    host: str,
    port: int,
    include_dirs: tuple[Path, ...],
    seed: int,
    mocks_dir: Path | None,
    no_watch: bool,
    admin_port: int | None,
    admin_host: str,
    no_dashboard: bool,
    base_image: str | None,
    workers: int,
    now: str | None,
    tls_cert: Path | None,
    tls_key: Path | None,
    tls_client_ca: Path | None,
    proxies: tuple[str, ...],
    proxy_mode: str,
    record: bool,
    redact: tuple[str, ...],
) -> None:
    """Serve every service in PATHS (folders or .thrift files) until Ctrl-C.

    Without PATHS, serves what thriftbox.toml (in this folder or a parent) says; options given here override
    the file (see docs/project-file.md).

    \b
    Examples:
      thriftbox serve                         # as thriftbox.toml says
      thriftbox serve idl/
      thriftbox serve idl/ --mocks mocks/ --port 9100
      thriftbox serve idl/ --runtime process --no-watch
      thriftbox serve idl/ --workers 4        # a load test: four processes per mock
      thriftbox serve idl/ --tls-cert server.pem --tls-key server.key   # TLS beside plaintext
    """
    from thriftbox.project.file import find_project_file, read_project_file
    from thriftbox.supervisor.config import ServeConfig
    from thriftbox.supervisor.projectfile import config_from_project
    from thriftbox.supervisor.session import serve as serve_api

    found = find_project_file(Path.cwd())
    if found is None and not paths:
        raise click.UsageError(
            "Missing argument 'PATHS...': give the IDL folders, or write a thriftbox.toml (thriftbox init)",
            ctx,
        )
    given = dict(  # fields: watch, dashboard
        ctx.params, no_watch=not no_watch, no_dashboard=not no_dashboard, proxies=_proxies(proxies)
    )
    if found is None:
        config = ServeConfig(**{field: given[name] for name, field in FIELDS.items()})
    else:
        explicit = {
            field: given[name]
            for name, field in FIELDS.items()
            if ctx.get_parameter_source(name) not in (None, click.core.ParameterSource.DEFAULT)
        }
        project = read_project_file(found)
        config = config_from_project(project, Path.cwd(), **explicit)
        err.print(f"project file: {found}")
    signal.signal(signal.SIGTERM, _interrupt)  # `kill`, `docker stop`, CI timeouts: clean up as on Ctrl-C
    session = None
    try:
        with err.status("choosing a runtime...") as spinner:
            session = serve_api(
                config,
                # escaped: error messages quote IDL and YAML, whose brackets are no markup
                report=lambda line: err.print(f"[dim]{_now()}[/] {escape(line)}"),
                progress=lambda line: spinner.update(escape(line[:120])),
                on_runtime=lambda name, why: err.print(f"runtime: [bold]{name}[/] ({escape(why)})"),
            )
        statuses = session.status()
        rows = [s.__dict__ for s in statuses]
        real = sum(1 for s in statuses if s.kind == "real")
        also = f" and {real} real service(s)" if real else ""
        served = f"{len(rows) - real} service(s) served in {session.started_in:.2f} s{also}"
        out.print(status_table(rows, title=served))
        err.print(f"admin API: {session.admin_url}  (journal: thriftbox journal -f)")
        if session.dashboard_url:
            err.print(f"dashboard: {session.dashboard_url}")
        watching = "watching for changes; " if config.watch else ""
        err.print(f"{watching}Ctrl-C to stop")
        session.run_forever()
    except KeyboardInterrupt:
        err.print("stopping...")
    finally:
        if session is not None:
            session.stop()


def _proxies(items: tuple[str, ...]) -> dict[str, str]:
    """``--proxy ID=HOST:PORT`` options as ``{id: HOST:PORT}``."""
    out = {}
    for item in items:
        sid, sep, address = item.partition("=")
        if not sep or not sid or not address:
            raise click.BadParameter(f"{item!r} is not ID=HOST:PORT", param_hint="--proxy")
        out[sid] = address
    return out


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _now() -> str:
    return time.strftime("%H:%M:%S")
