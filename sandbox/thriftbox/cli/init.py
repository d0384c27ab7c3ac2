"""``thriftbox init``: write a commented ``thriftbox.toml`` for the IDL found below the current folder."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.markup import escape

from thriftbox.cli.common import handle_errors
from thriftbox.cli.output import err, out
from thriftbox.errors import ConfigError, ThriftboxError

SKIPPED = {".git", ".hg", ".venv", "venv", "node_modules", "build", "dist", "__pycache__"}


@click.command()
@click.option("--force", is_flag=True, help="Overwrite an existing thriftbox.toml.")
@handle_errors
def init(force: bool) -> None:
    """Write a commented thriftbox.toml for the IDL below this folder.

    The folders holding .thrift files become `paths`, a `mocks/` folder becomes `mocks`, and each service found
    gets a commented `[services."id"]` example. Then `thriftbox serve` (no arguments) serves them.
    """
    from thriftbox.idl import load_catalog
    from thriftbox.project.file import FILENAME
    from thriftbox.supervisor.projectfile import template

    here = Path.cwd()
    target = here / FILENAME
    if target.exists() and not force:
        raise ConfigError(
            f"{FILENAME} already exists here", hint="keep it, or overwrite it: thriftbox init --force"
        )
    folders = idl_folders(here)
    if not folders:
        err.print("[yellow]warning:[/] no .thrift file below this folder; `paths` says idl, edit it")
    services: list[str] = []
    try:
        services = sorted(load_catalog([here / f for f in folders]).services) if folders else []
    except ThriftboxError as error:
        err.print(f"[yellow]warning:[/] the IDL does not load ({escape(str(error))}); no services listed")
    mocks = "mocks" if (here / "mocks").is_dir() else None
    target.write_text(template(folders or ["idl"], mocks, services), encoding="utf-8")
    out.print(f"wrote {FILENAME}: serves {', '.join(folders or ['idl'])}, {len(services)} service(s)")
    err.print("next: thriftbox serve")
    sys.stdout.flush()


def idl_folders(root: Path) -> list[str]:
    """The top-level folders (or files) below ``root`` that hold .thrift files, relative to it."""
    found: set[str] = set()
    for path in root.rglob("*.thrift"):
        parts = path.relative_to(root).parts
        if any(p in SKIPPED or p.startswith(".") for p in parts[:-1]):
            continue
        found.add(parts[0] if len(parts) > 1 else ".")
    return sorted(found)
