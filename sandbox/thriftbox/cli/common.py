"""What every CLI module shares: error rendering at the edge, common options."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from thriftbox.cli.output import render_error
from thriftbox.errors import ThriftboxError

F = TypeVar("F", bound=Callable[..., Any])


def handle_errors(fn: F) -> F:
    """Render ThriftboxErrors as ``path:line:col: message`` + hint and exit with their code; no traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ThriftboxError as error:
            render_error(error)
            sys.exit(error.exit_code)

    return wrapper  # type: ignore[return-value]


path_arg = click.Path(path_type=Path)
include_opt = click.option(
    "-I",
    "--include-dir",
    "include_dirs",
    multiple=True,
    type=path_arg,
    help="Extra folder to resolve `include`s from (after the including file's own folder). Repeatable.",
)
protocol_opt = click.option(
    "--protocol",
    type=click.Choice(["binary", "compact"]),
    default="binary",
    show_default=True,
    help="Thrift protocol to speak.",
)
