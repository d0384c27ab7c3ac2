"""The ``thriftbox`` command: a thin click layer over the Python API.

Exit codes: 0 success; 1 an error thriftbox expected (bad IDL, no engine, port taken, a failed call);
2 bad usage (click's own, and ConfigError); 3 ``call`` got a declared Thrift exception back.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.markup import escape

from thriftbox.about import __version__
from thriftbox.cli.admin import journal, reset, stubs
from thriftbox.cli.common import handle_errors, include_opt, path_arg, tls_opts
from thriftbox.cli.contract import breaking, verify
from thriftbox.cli.export import export, image, probe
from thriftbox.cli.host import host, reaper
from thriftbox.cli.init import init
from thriftbox.cli.output import configure_logging, err, out, print_json, status_table
from thriftbox.cli.record import record
from thriftbox.cli.serve import serve
from thriftbox.errors import ConfigError

if TYPE_CHECKING:
    from thriftbox.client.transport import Tls

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
@click.option(
    "--json", "as_json", is_flag=True, help="Print a JSON array (service, host, port, runtime, state, ...)."
)
@handle_errors
def status(as_json: bool) -> None:
    """Show what the `serve` running in this folder (or a parent) serves. Exit 1 when none runs."""
    from thriftbox.project.state import find_serving

    _, state = find_serving(Path.cwd())
    if state is None:
        if as_json:
            print_json([])
        else:
            err.print("nothing is served from this folder (start with: thriftbox serve idl/)")
        sys.exit(1)
    mocks = [asdict(m) for m in state.mocks]
    if state.reload_error:
        err.print(
            "[yellow]warning:[/] last reload failed, still serving the last good definitions: "
            + escape(state.reload_error)
        )
    if as_json:
        print_json(mocks)
    else:
        out.print(status_table(mocks, title=f"runtime: {state.runtime}"))


@main.command()
@click.argument("paths", nargs=-1, required=True)  # plain strings: a Path would hide "https://"
@include_opt
@handle_errors
def check(paths: tuple[str, ...], include_dirs: tuple[Path, ...]) -> None:
    """Validate IDL: print its services and methods, exit 1 on the first error."""
    from thriftbox.idl import load_catalog
    from thriftbox.supervisor.config import validate_paths
    from thriftbox.values import check_annotations

    catalog = load_catalog(validate_paths(paths), validate_paths(include_dirs))
    check_annotations(catalog)  # as serve does: a misspelt faker provider is an error here too
    for svc in catalog.services.values():
        out.print(f"[bold]{svc.id}[/]" + (f" extends {svc.extends}" if svc.extends else ""))
        for m in svc.methods.values():
            args = ", ".join(f"{a.id}: {a.type} {a.name}" for a in m.args)
            throws = f" throws ({', '.join(str(t.type) for t in m.throws)})" if m.throws else ""
            prefix = "oneway " if m.oneway else ""
            out.print(f"  {prefix}{m.returns} {m.name}({args}){throws}")
        for r in svc.rocket.values():
            if r.kind != "interaction":  # listed under their interaction below
                out.print(f"  {r.signature()}  [dim](not served: {r.kind}, needs Rocket)[/]")
    for inter in catalog.interactions.values():
        out.print(f"[bold]interaction {inter.qname}[/]  [dim](not served: needs Rocket)[/]")
        for r in inter.methods.values():
            out.print(f"  {r.signature()}")
    n_methods = sum(len(s.methods) for s in catalog.services.values())
    rocket = sum(1 for s in catalog.services.values() for r in s.rocket.values() if r.kind != "interaction")
    rocket += sum(len(i.methods) for i in catalog.interactions.values())
    unserved = f", {rocket} not served (fbthrift Rocket only)" if rocket else ""
    err.print(
        f"ok: {len(catalog.files)} file(s), {len(catalog.services)} service(s), {n_methods} method(s){unserved}"
    )


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
@click.option(
    "--protocol",
    type=click.Choice(["binary", "compact", "header"]),
    default="binary",
    show_default=True,
    help="Thrift protocol to speak; header: THeader framing (fbthrift's default) with binary inside.",
)
@click.option("--framed", is_flag=True, help="Use the framed transport (Finagle's default).")
@tls_opts
@click.option(
    "--zlib", is_flag=True, help="Compress the call with THeader's zlib transform (--protocol header)."
)
@click.option(
    "-H",
    "--header",
    "headers",
    multiple=True,
    metavar="KEY=VALUE",
    help="A THeader info header to send (--protocol header; the journal shows it). Repeatable.",
)
@handle_errors
def call(
    target: str,
    json_args: str,
    address: str | None,
    idl_paths: tuple[Path, ...],
    include_dirs: tuple[Path, ...],
    protocol: str,
    framed: bool,
    tls: Tls | None,
    zlib: bool,
    headers: tuple[str, ...],
) -> None:
    """Call SERVICE.METHOD with JSON_ARGS (an object by argument name) and print the answer as JSON.

    \b
    Examples:
      thriftbox call Users.getUser '{"id": 42}'
      thriftbox call feed.Feed.getHomeFeed '{"userId": 42, "limit": 3}' --protocol compact --framed
      thriftbox call Calculator.add '{"num1": 1, "num2": 2}' --idl tutorial/ --address 127.0.0.1:9090
      thriftbox call Users.getUser '{"id": 42}' --tls --tls-ca ca.pem
      thriftbox call Users.getUser '{"id": 42}' --protocol header --zlib -H request-id=r-7
    Exit status: 0 an answer, 3 a declared exception, 1 the call failed (unreachable, an application
    error), 2 bad usage (an unknown service, method or argument; JSON_ARGS not JSON).
    """
    from thriftbox.cli.calling import call_method

    try:
        args = json.loads(json_args)
    except json.JSONDecodeError as error:
        raise click.BadParameter(f"not JSON: {error}", param_hint="JSON_ARGS") from None
    header = protocol == "header"
    if header and framed:
        raise click.UsageError(
            "--framed and --protocol header exclude each other: THeader has its own framing"
        )
    if (zlib or headers) and not header:
        raise click.UsageError(f"{'--zlib' if zlib else '--header'} needs --protocol header")
    info: dict[str, str] = {}
    for item in headers:
        key, eq, value = item.partition("=")
        if not eq or not key:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="--header")
        info[key] = value
    outcome = call_method(
        target,
        args,
        address=address,
        idl_paths=idl_paths,
        include_dirs=include_dirs,
        protocol="binary" if header else protocol,
        framing="header" if header else "framed" if framed else "buffered",
        cwd=Path.cwd(),
        tls=tls,
        headers=info,
        zlib=zlib,
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
    from thriftbox.project.layout import project_name
    from thriftbox.project.state import find_serving
    from thriftbox.runtime.docker.sdk import down as docker_down

    layout, live = find_serving(Path.cwd())
    if live is not None and not all_projects:
        raise ConfigError(
            f"a `thriftbox serve` (pid {live.pid}) still runs in this folder and would recreate its containers",
            hint="stop it with Ctrl-C (it removes its containers); `down` is for what a crashed serve left behind",
        )
    removed = docker_down(None if all_projects else project_name(layout.root))
    for name in removed:
        out.print(f"removed {name}")
    err.print(f"{len(removed)} object(s) removed")


@main.command()
@click.argument("service")
@click.option("-f", "--follow", is_flag=True, help="Keep printing new lines.")
@handle_errors
def logs(service: str, follow: bool) -> None:
    """Show the log of the mock serving SERVICE, or of the real service SERVICE ([real.NAME]) (process runtime: the
    host log, or the real service's; docker: the container's)."""
    from thriftbox.supervisor.logs import service_logs

    try:
        for line in service_logs(Path.cwd(), service, follow=follow):
            out.print(line, markup=False)
    except KeyboardInterrupt:
        pass


main.add_command(serve)
main.add_command(init)
main.add_command(record)
main.add_command(host)
main.add_command(reaper)
main.add_command(journal)
main.add_command(stubs)
main.add_command(reset)
main.add_command(verify)
main.add_command(breaking)
main.add_command(image)
main.add_command(export)
main.add_command(probe)
