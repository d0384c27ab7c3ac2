"""Contract commands: ``thriftbox verify`` (a provider answers as the IDL says) and ``thriftbox breaking``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from thriftbox.cli.common import handle_errors, include_opt, path_arg, protocol_opt, tls_opts
from thriftbox.cli.output import err, out
from thriftbox.errors import ConfigError

if TYPE_CHECKING:
    from thriftbox.client.transport import Tls


@click.command()
@click.argument("idl_paths", nargs=-1, required=True)
@click.option("--service", required=True, help="The service to verify: its id (file.Service) or unique name.")
@click.option("--target", required=True, help="HOST:PORT of the real server.")
@include_opt
@protocol_opt
@click.option(
    "--framing",
    type=click.Choice(["buffered", "framed"]),
    default="buffered",
    show_default=True,
    help="Transport framing (Finagle clients use framed).",
)
@click.option(
    "--cases", default=3, show_default=True, type=click.IntRange(0), help="Generated cases per method."
)
@click.option("--no-edges", is_flag=True, help="Skip the edge-value cases (0, -1, max ints, empty, long...).")
@click.option("--method", "methods", multiple=True, help="Only these methods. Repeatable.")
@click.option(
    "--contract", type=path_arg, default=None, help="Replay the interactions of a contract file instead."
)
@click.option("--junit", type=path_arg, default=None, help="Also write a JUnit XML report here.")
@click.option("--timeout", default=5.0, show_default=True, help="Seconds to wait for each answer.")
@click.option("--seed", default=0, show_default=True, help="Seed for generated arguments.")
@tls_opts
@handle_errors
def verify(
    idl_paths: tuple[str, ...],
    service: str,
    target: str,
    include_dirs: tuple[Path, ...],
    protocol: str,
    framing: str,
    cases: int,
    no_edges: bool,
    methods: tuple[str, ...],
    contract: Path | None,
    junit: Path | None,
    timeout: float,
    seed: int,
    tls: Tls | None,
) -> None:
    """Drive a real server with every method of SERVICE and check every answer against the IDL.

    \b
    Prints one line per violation (method and field path) and exits 1 if there is any.
    Examples:
      thriftbox verify idl/ --service Users --target 127.0.0.1:9000
      thriftbox verify idl/ --service users.Users --target svc:9000 --framing framed --junit reports/verify.xml
      thriftbox verify idl/ --service Users --target 127.0.0.1:9000 --contract contracts/web.json
    """
    from thriftbox.contract import verify as run_verify
    from thriftbox.idl import load_catalog
    from thriftbox.idl.classes import Classes
    from thriftbox.supervisor.config import validate_paths

    host, _, port = target.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(f"--target {target!r} is not HOST:PORT", hint="e.g. --target 127.0.0.1:9000")
    catalog = load_catalog(validate_paths(idl_paths), validate_paths(include_dirs))
    svc = catalog.find_service(service)
    if svc is None:
        raise ConfigError(
            f"no service {service!r} in the IDL", hint="services: " + ", ".join(catalog.services)
        )
    report = run_verify(
        catalog,
        Classes(catalog),
        svc.id,
        (host, int(port)),
        protocol=protocol,
        framing=framing,
        cases_per_method=cases,
        contract=contract,
        timeout=timeout,
        seed=seed,
        edges=not no_edges,
        methods=list(methods) or None,
        tls=tls,
    )
    for line in report.lines():
        out.print(line, markup=False)
    for note in report.notes:
        err.print(f"[yellow]note:[/] {note.method}: {note.path}: {note.message}")
    if junit is not None:
        report.to_junit(junit)
    err.print(report.summary())
    sys.exit(0 if report.ok else 1)


@click.command()
@click.argument("old")
@click.argument("new")
@include_opt
@click.option(
    "--info", is_flag=True, help="Also list compatible changes worth knowing (an exception added...)."
)
@handle_errors
def breaking(old: str, new: str, include_dirs: tuple[Path, ...], info: bool) -> None:
    """Report wire-incompatible changes from OLD to NEW; exit 1 when anything breaks.

    OLD and NEW are folders, or REV:folder for a git revision of one.

    \b
    Examples:
      thriftbox breaking HEAD~1:idl idl/
      thriftbox breaking main:idl idl/
      thriftbox breaking old-idl/ idl/ --info
    """
    from thriftbox.contract import breaking as find_breaks
    from thriftbox.contract import load_side

    findings = find_breaks(load_side(old, include_dirs), load_side(new, include_dirs), info=info)
    for finding in findings:
        out.print(finding.render(Path.cwd()), markup=False)
    broken = [f for f in findings if f.is_breaking]
    err.print(f"{len(broken)} breaking change(s)" if broken else "no breaking change")
    sys.exit(1 if broken else 0)
