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


def tls_opts(fn: F) -> F:
    """``--tls``, ``--tls-ca``, ``--tls-cert``, ``--tls-key``: the command gets one ``tls`` argument, a
    :class:`thriftbox.client.transport.Tls` or None. ``--tls-ca`` and ``--tls-cert`` imply ``--tls``."""

    @functools.wraps(fn)
    def wrapper(
        *args: Any,
        tls: bool,
        tls_ca: Path | None,
        tls_cert: Path | None,
        tls_key: Path | None,
        **kwargs: Any,
    ) -> Any:
        from thriftbox.client.transport import Tls

        if tls_key is not None and tls_cert is None:
            raise click.UsageError("--tls-key is the key of --tls-cert: give --tls-cert too")
        wanted = tls or tls_ca is not None or tls_cert is not None
        given = (str(p) if p is not None else None for p in (tls_ca, tls_cert, tls_key))
        return fn(*args, tls=Tls(*given) if wanted else None, **kwargs)

    options = [
        click.option(
            "--tls",
            is_flag=True,
            help="Speak TLS (to a mock served with --tls-cert). Without --tls-ca any certificate is taken.",
        ),
        click.option(
            "--tls-ca", type=path_arg, default=None, metavar="PEM", help="Check the server's certificate."
        ),
        click.option(
            "--tls-cert",
            type=path_arg,
            default=None,
            metavar="PEM",
            help="Client certificate, for servers that ask for one (mutual TLS).",
        ),
        click.option("--tls-key", type=path_arg, default=None, metavar="PEM", help="Key of --tls-cert."),
    ]
    decorated: Any = wrapper
    for option in reversed(options):
        decorated = option(decorated)
    return decorated  # type: ignore[no-any-return]


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
