"""``thriftbox image build``, ``thriftbox export compose|kubernetes`` and ``thriftbox probe``: the environment
``serve --runtime docker`` runs, for machines without thriftbox (docs/team-stack.md)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.markup import escape

from thriftbox.cli.common import handle_errors, include_opt, path_arg
from thriftbox.cli.output import err, out

F = TypeVar("F", bound=Callable[..., Any])

# option (parameter name) -> the ServeConfig field it sets; given explicitly, it wins over thriftbox.toml
FIELDS = {
    "paths": "paths",
    "include_dirs": "include_dirs",
    "mocks_dir": "mocks_dir",
    "port": "port",
    "seed": "seed",
}


def project_options(fn: F) -> F:
    """What to export: as `serve` takes it (thriftbox.toml, PATHS and options over it)."""
    for option in reversed(
        [
            click.argument("paths", nargs=-1),
            include_opt,
            click.option("--mocks", "mocks_dir", type=path_arg, default=None, help="Folder of stub files."),
            click.option(
                "--port", default=9090, show_default=True, type=click.IntRange(1, 65535), help="First port."
            ),
            click.option("--seed", default=0, show_default=True, type=int, help="Seed for generated data."),
            click.option(
                "--base-image",
                envvar="THRIFTBOX_BASE_IMAGE",
                default=None,
                help="Base image of the mock image [default: python:3.11-slim].",
            ),
        ]
    ):
        fn = option(fn)
    return fn


def _plan(ctx: click.Context, image_tag: str | None = None) -> Any:
    """The ExportPlan of the project in this folder (thriftbox.toml, with the options given over it)."""
    from thriftbox.export.model import plan_export
    from thriftbox.project.file import find_project_file, read_project_file
    from thriftbox.supervisor.config import ServeConfig
    from thriftbox.supervisor.projectfile import config_from_project

    params = ctx.params
    found = find_project_file(Path.cwd())
    if found is None and not params["paths"]:
        raise click.UsageError("give the IDL folders, or write a thriftbox.toml (thriftbox init)", ctx)
    explicit = {
        field: params[name]
        for name, field in FIELDS.items()
        if ctx.get_parameter_source(name) not in (None, click.core.ParameterSource.DEFAULT)
    }
    if params["base_image"]:
        explicit["base_image"] = params["base_image"]
    if found is None:
        config = ServeConfig(**{field: params[name] for name, field in FIELDS.items()})
    else:
        config = config_from_project(read_project_file(found), Path.cwd(), **explicit)
        err.print(f"project file: {found}")
    return plan_export(config, image_tag)


@click.group()
def image() -> None:
    """The mock image that exports and `docker run` use."""


@image.command("build")
@project_options
@click.option(
    "--tag", "tag", default=None, help="Also tag the image so (e.g. registry.example/team/mocks:1)."
)
@click.option(
    "--bake", is_flag=True, help="Put the IDL and stubs into the image: it serves them with no mount."
)
@click.pass_context
@handle_errors
def image_build(ctx: click.Context, /, tag: str | None, bake: bool, **_: Any) -> None:
    """Build the mock image (once per thriftbox version and code) and print its tag.

    \b
    Examples:
      thriftbox image build                    # then: docker run -v $PWD/idl:/idl -p 9090:9090 TAG serve /idl
      thriftbox image build --bake --tag registry.example/team/mocks:1
    """
    from thriftbox.export.image import build

    plan = _plan(ctx) if bake else None
    with err.status("building the mock image...") as spinner:
        built = build(ctx.params["base_image"], tag, plan, lambda line: spinner.update(escape(line[:120])))
    out.print(built, markup=False, highlight=False)


baked_opt = click.option(
    "--baked",
    is_flag=True,
    help="The --image holds the IDL and stubs (`image build --bake`): mount nothing.",
)


def _check_baked(ctx: click.Context, baked: bool, image_tag: str | None) -> None:
    if baked and image_tag is None:
        raise click.UsageError("--baked needs --image: the tag `thriftbox image build --bake` printed", ctx)


@click.group()
def export() -> None:
    """Write what `serve --runtime docker` runs as files other tools deploy."""


def _written(path: Path, what: str) -> None:
    err.print(f"wrote {escape(str(path))} ({what})")


@export.command("compose")
@project_options
@click.option(
    "-o", "--output", type=path_arg, default=Path("compose.yaml"), show_default=True, help="File to write."
)
@click.option(
    "--image", "image_tag", default=None, help="The mock image to reference [default: `image build`'s]."
)
@baked_opt
@click.pass_context
@handle_errors
def export_compose(ctx: click.Context, /, output: Path, image_tag: str | None, baked: bool, **_: Any) -> None:
    """A Compose file: one service per mock, for `docker-compose up` and `docker stack deploy`.

    Folders are mounted relative to the file. Build the image first (`thriftbox image build`).

    \b
    Examples:
      thriftbox export compose -o compose.yaml && docker-compose up -d
      docker stack deploy -c compose.yaml mocks      # the same file on a swarm
    """
    from thriftbox.export.compose import header, render
    from thriftbox.export.yamlout import dump

    _check_baked(ctx, baked, image_tag)
    plan = _plan(ctx, image_tag)
    output.parent.mkdir(parents=True, exist_ok=True)
    document = render(plan, output.parent, baked=baked)
    output.write_text(dump(document, header(plan, output.name)), encoding="utf-8")
    _written(output, f"{len(plan.mocks)} mock(s), image {plan.image}")


@export.command("kubernetes")
@project_options
@click.option(
    "-o", "--output", type=path_arg, default=Path("k8s"), show_default=True, help="Folder to write."
)
@click.option(
    "--image", "image_tag", default=None, help="The mock image to reference [default: `image build`'s]."
)
@baked_opt
@click.pass_context
@handle_errors
def export_kubernetes(
    ctx: click.Context, /, output: Path, image_tag: str | None, baked: bool, **_: Any
) -> None:
    """Kubernetes manifests and a kustomization.yaml: `kubectl apply -k DIR`.

    \b
    Examples:
      thriftbox export kubernetes -o k8s/ && kubectl apply -k k8s/
    """
    from thriftbox.export.kubernetes import render
    from thriftbox.export.yamlout import dump_all

    _check_baked(ctx, baked, image_tag)
    plan = _plan(ctx, image_tag)
    output.mkdir(parents=True, exist_ok=True)
    files = render(plan, baked=baked)
    for name, documents in files.items():
        (output / name).write_text(dump_all(documents), encoding="utf-8")
    _written(output, f"{len(files)} file(s), {len(plan.mocks)} mock(s), image {plan.image}")


@click.command()
@click.argument("address")
@click.option("--timeout", default=2.0, show_default=True, type=float, help="Seconds to wait for the answer.")
def probe(address: str, timeout: float) -> None:
    """Exit 0 when a Thrift server answers a real call at HOST:PORT, else 1 (for health checks)."""
    from thriftbox.client.probe import probe as call

    host, _, port = address.rpartition(":")
    if not port.isdigit():
        raise click.BadParameter("give HOST:PORT", param_hint="ADDRESS")
    sys.exit(0 if call(host or "127.0.0.1", int(port), timeout) else 1)
