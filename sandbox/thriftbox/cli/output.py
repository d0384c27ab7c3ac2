"""Terminal output for the CLI: errors with their source line and hint, the status table. CLI-only."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from thriftbox.errors import ThriftboxError

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def render_error(error: ThriftboxError) -> None:
    """``path:line:col: message``, the offending line with a caret, and ``hint: ...``: never a traceback."""
    err.print(f"[bold red]error:[/] {escape(str(error))}")
    loc = error.location
    source = loc.source_line() if loc is not None else None
    if loc is not None and source is not None:
        err.print(f"  {loc.line:>5} | {escape(source)}")
        if loc.col:
            err.print("        | " + " " * (loc.col - 1) + "[bold red]^[/]")
    if error.hint:
        for i, line in enumerate(error.hint.splitlines()):
            err.print(("[cyan]hint:[/] " if i == 0 else "      ") + escape(line))


def status_table(rows: Sequence[dict[str, Any]], title: str | None = None) -> Table:
    table = Table(
        title=title,
        title_justify="left",
        header_style="bold",
        caption="every port serves binary, compact and JSON, buffered, framed or HTTP (detected per connection)",
        caption_justify="left",
    )
    for col in ("service", "address", "state", "runtime", "detail"):
        table.add_column(col)
    for r in rows:
        state = str(r.get("state", ""))
        colour = {"ready": "green", "running": "green", "dead": "red", "restarting": "yellow"}.get(
            state, "white"
        )
        if state.startswith(("exited", "removed")):
            colour = "red"
        real = r.get("kind") == "real"
        table.add_row(
            str(r["service"]) + (" (real)" if real else ""),
            f"{r['host']}:{r['port']}" if r["port"] else "-",
            f"[{colour}]{escape(state)}[/]",
            str(r.get("runtime", "")),
            escape(str(r.get("detail", ""))),
        )
    return table


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def configure_logging(verbose: int) -> None:
    """Log lines on stderr: warnings by default, -v for progress details, -vv for debug output."""
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))
    root = logging.getLogger("thriftbox")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
