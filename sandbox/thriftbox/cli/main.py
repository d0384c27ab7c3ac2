"""The ``thriftbox`` command: a thin click layer over the Python API.

Exit codes: 0 success; 1 an error thriftbox expected (bad IDL, no engine, port taken, a failed call);
2 bad usage (click's own, and ConfigError); 3 ``call`` got a declared Thrift exception back.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
from pathlib import Path

import click
from rich.markup import escape

from thriftbox import __version__
from thriftbox.cli.admin import journal, reset, stubs
from thriftbox.cli.common import handle_errors, include_opt, path_arg, protocol_opt
from thriftbox.cli.contract import breaking, verify
from thriftbox.cli.output import configure_logging, err, out, print_json, status_table
from thriftbox.errors import ConfigError
from thriftbox.host.config import DEFAULT_MAX_FRAME
from thriftbox.runtime.base import RUNTIME_NAMES

EXIT_DECLARED_EXCEPTION = 3


@click.group(context_settings={"help_option_names": ["-h", "--help"], "auto_envvar_prefix": "THRIFTBOX"})
@click.version_option(__version__, prog_name="thriftbox")
@click.option("-v", "--verbose", count=True, help="More log output: -v progress details, -vv debug.")
def main(verbose: int) -> None:
    """thriftbox: every service in a folder of Thrift IDL, served by a realistic mock.

    \b
    Quick start:
      thriftbox serve idl/                  serve every service in idl/, from port 9090 up
      thriftbox status                      what is served, from another terminal
      thriftbox call Users.getUser '{"id": 42}'
      thriftbox check idl/                  validate IDL and list services and methods
    """
    configure_logging(verbose)


@main.command()
@click.argument("paths", nargs=-1, required=True)  # plain strings: a Path would hide "https://"
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
    help="First port; each service keeps its port across restarts (.thriftbox/ports.json).",
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
@handle_errors
def serve(
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
    base_image: str | None,
    workers: int,
) -> None:
    """Serve every service in PATHS (folders or .thrift files) until Ctrl-C.

    \b
    Examples:
      thriftbox serve idl/
      thriftbox serve idl/ --mocks mocks/ --port 9100
      thriftbox serve idl/ --runtime process --no-watch
      thriftbox serve idl/ --workers 4        # a load test: four processes per mock
    """
    from thriftbox.supervisor.session import ServeOptions, Session

    options = ServeOptions(
        paths=paths,
        runtime=runtime,
        host=host,
        port=port,
        include_dirs=include_dirs,
        seed=seed,
        mocks_dir=mocks_dir,
        watch=not no_watch,
        admin_port=admin_port,
        admin_host=admin_host,
        base_image=base_image,
        workers=workers,
    )
    if admin_host not in ("127.0.0.1", "localhost", "::1"):
        err.print(
            f"[yellow]warning:[/] the admin API listens on {admin_host}: anyone who reaches it can change stubs"
        )

    # escaped: error messages quote IDL and YAML, whose brackets are no markup
    session = Session(options, report=lambda line: err.print(f"[dim]{_now()}[/] {escape(line)}"))
    signal.signal(signal.SIGTERM, _interrupt)  # `kill`, `docker stop`, CI timeouts: clean up as on Ctrl-C
    try:
        with err.status("choosing a runtime..."):
            from thriftbox.supervisor.session import choose_runtime

            session.runtime, session.runtime_reason = choose_runtime(runtime, base_image)
        err.print(f"runtime: [bold]{session.runtime.name}[/] ({session.runtime_reason})")
        with err.status("starting mocks...") as progress:
            if hasattr(session.runtime, "on_progress"):  # the Docker runtime builds its image first

                def show(line: str) -> None:
                    progress.update(f"building the mock image: {escape(line[:100])}")

                session.runtime.on_progress = show
            statuses = session.start()
        rows = [s.__dict__ for s in statuses]
        out.print(status_table(rows, title=f"{len(rows)} service(s) served in {session.started_in:.2f} s"))
        err.print(f"admin API: {session.admin_url}  (journal: thriftbox journal -f)")
        if options.watch:
            session.start_watching()  # before saying so: a save right after this line is seen
        watching = "watching for changes; " if options.watch else ""
        err.print(f"{watching}Ctrl-C to stop")
        session.run_forever()
    except KeyboardInterrupt:
        err.print("stopping...")
    finally:
        session.stop()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _now() -> str:
    import time

    return time.strftime("%H:%M:%S")


@main.command()
@click.option(
    "--json", "as_json", is_flag=True, help="Print a JSON array (service, host, port, runtime, state, ...)."
)
@handle_errors
def status(as_json: bool) -> None:
    """Show what the `serve` running in this folder serves. Exit 1 when none runs."""
    from thriftbox.project.state import read_state

    state = read_state(Path.cwd() / ".thriftbox")
    if state is None:
        if as_json:
            print_json([])
        else:
            err.print("nothing is served from this folder (start with: thriftbox serve idl/)")
        sys.exit(1)
    mocks = state.get("mocks", [])
    if as_json:
        print_json(mocks)
    else:
        out.print(status_table(mocks, title=f"runtime: {state.get('runtime')}"))


@main.command()
@click.argument("paths", nargs=-1, required=True)  # plain strings: a Path would hide "https://"
@include_opt
@handle_errors
def check(paths: tuple[str, ...], include_dirs: tuple[Path, ...]) -> None:
    """Validate IDL: print its services and methods, exit 1 on the first error."""
    from thriftbox.idl import load_catalog
    from thriftbox.supervisor.session import validate_paths

    catalog = load_catalog(validate_paths(paths), validate_paths(include_dirs))
    for svc in catalog.services.values():
        out.print(f"[bold]{svc.id}[/]" + (f" extends {svc.extends}" if svc.extends else ""))
        for m in svc.methods.values():
            args = ", ".join(f"{a.id}: {a.type} {a.name}" for a in m.args)
            throws = f" throws ({', '.join(str(t.type) for t in m.throws)})" if m.throws else ""
            prefix = "oneway " if m.oneway else ""
            out.print(f"  {prefix}{m.returns} {m.name}({args}){throws}")
    n_methods = sum(len(s.methods) for s in catalog.services.values())
    err.print(f"ok: {len(catalog.files)} file(s), {len(catalog.services)} service(s), {n_methods} method(s)")


@main.command()
@click.argument("target")
@click.argument("json_args", required=False, default="{}")
@click.option(
    "--address", default=None, help="HOST:PORT of the server [default: the served mock, from `status`]."
)
@click.option(
    "--idl", "idl_paths", multiple=True, type=path_arg, help="IDL to use [default: the served IDL]."
)
@include_opt
@protocol_opt
@click.option("--framed", is_flag=True, help="Use the framed transport (Finagle's default).")
@handle_errors
def call(
    target: str,
    json_args: str,
    address: str | None,
    idl_paths: tuple[Path, ...],
    include_dirs: tuple[Path, ...],
    protocol: str,
    framed: bool,
) -> None:
    """Call SERVICE.METHOD with JSON_ARGS (an object by argument name) and print the answer as JSON.

    \b
    Examples:
      thriftbox call Users.getUser '{"id": 42}'
      thriftbox call feed.Feed.getHomeFeed '{"userId": 42, "limit": 3}' --protocol compact --framed
      thriftbox call Calculator.add '{"num1": 1, "num2": 2}' --idl tutorial/ --address 127.0.0.1:9090
    Exit status: 0 answer, 3 a declared exception, 1 any other error.
    """
    from thriftbox.cli.calling import call_method

    try:
        args = json.loads(json_args)
    except json.JSONDecodeError as error:
        raise click.BadParameter(f"not JSON: {error}", param_hint="JSON_ARGS") from None
    outcome = call_method(
        target,
        args,
        address=address,
        idl_paths=idl_paths,
        include_dirs=include_dirs,
        protocol=protocol,
        framing="framed" if framed else "buffered",
        cwd=Path.cwd(),
    )
    print_json(outcome.body)
    if outcome.declared_exception:
        sys.exit(EXIT_DECLARED_EXCEPTION)


@main.command()
@click.option(
    "--all", "all_projects", is_flag=True, help="Remove the containers of every project, not just this one."
)
@handle_errors
def down(all_projects: bool) -> None:
    """Remove containers and networks that a crashed `serve` left behind (found by label)."""
    from thriftbox.project.state import read_state
    from thriftbox.runtime.docker.sdk import down as docker_down
    from thriftbox.supervisor.session import project_name

    live = read_state(Path.cwd() / ".thriftbox")
    if live is not None and not all_projects:
        raise ConfigError(
            f"a `thriftbox serve` (pid {live['pid']}) still runs in this folder and would recreate its containers",
            hint="stop it with Ctrl-C (it removes its containers); `down` is for what a crashed serve left behind",
        )
    removed = docker_down(None if all_projects else project_name(Path.cwd()))
    for name in removed:
        out.print(f"removed {name}")
    err.print(f"{len(removed)} object(s) removed")


@main.command()
@click.argument("service")
@click.option("-f", "--follow", is_flag=True, help="Keep printing new lines.")
@handle_errors
def logs(service: str, follow: bool) -> None:
    """Show the log of the mock serving SERVICE (process runtime: the host log; docker: the container's)."""
    from thriftbox.supervisor.logs import service_logs

    try:
        for line in service_logs(Path.cwd(), service, follow=follow):
            out.print(line, markup=False)
    except KeyboardInterrupt:
        pass


@main.command(hidden=True)
@click.option("--idl", "idl_dirs", multiple=True, required=True, type=path_arg)
@include_opt
@click.option("--mocks", "mocks_dir", type=path_arg, default=None)
@click.option("--seed", default=0, type=int)
@click.option("--service", "services", multiple=True, required=True, help="SERVICE_ID=PORT")
@click.option("--bind", default="127.0.0.1")
@click.option("--control-port", default=0, type=int)
@click.option("--max-frame", default=DEFAULT_MAX_FRAME, type=int)
@click.option("--workers", default=1, type=click.IntRange(1, 64))
@click.option("--worker-channel", default=None, type=int)
@click.option("--journal-start", default=0, type=int)
@handle_errors
def host(
    idl_dirs: tuple[Path, ...],
    include_dirs: tuple[Path, ...],
    mocks_dir: Path | None,
    seed: int,
    services: tuple[str, ...],
    bind: str,
    control_port: int,
    max_frame: int,
    workers: int,
    worker_channel: int | None,
    journal_start: int,
) -> None:
    """Run a mock host (used by the runtimes; not for direct use)."""
    from thriftbox.host.config import HostConfig
    from thriftbox.host.process import run_host

    if logging.getLogger("thriftbox").level > logging.INFO:
        configure_logging(1)  # a host's output is a log file: readiness, reloads and warnings belong in it

    mapping = {}
    for item in services:
        sid, _, port = item.rpartition("=")
        mapping[sid] = int(port)
    config = HostConfig(
        idl_dirs=idl_dirs,
        services=mapping,
        include_dirs=include_dirs,
        mocks_dir=mocks_dir,
        seed=seed,
        bind=bind,
        control_port=control_port,
        max_frame=max_frame,
        workers=workers,
        worker_channel=worker_channel,
        journal_start=journal_start,
    )
    run_host(config)


main.add_command(journal)
main.add_command(stubs)
main.add_command(reset)
main.add_command(verify)
main.add_command(breaking)
