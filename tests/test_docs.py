"""The docs say what the code does: the CLI reference is generated from the commands, links resolve,
and the README starts with the two commands a new user needs."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import click
import pytest

from thriftbox.cli.main import main

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
HEADER = """# CLI reference

<!-- generated from the commands' own help: python -m tests.test_docs > docs/cli.md -->

Every command has `--help` (or `-h`). Options can also be set in the environment as
`THRIFTBOX_<COMMAND>_<OPTION>` (e.g. `THRIFTBOX_SERVE_PORT=9100`).

## Exit codes

| code | meaning |
|---|---|
| 0 | success |
| 1 | an error thriftbox expected: bad IDL or stub file, no Docker engine, a port taken, a failed call, \
a violation found by `verify`, a breaking change found by `breaking`, nothing served (`status`) |
| 2 | bad usage: unknown option, missing folder, unknown service or method |
| 3 | `call` got a declared Thrift exception back (its JSON is printed) |
"""


def cli_reference() -> str:
    ctx = click.Context(main, info_name="thriftbox")
    out = [HEADER]
    entries: list[tuple[str, click.Command, click.Context]] = []
    for top in sorted(main.commands):
        command = main.commands[top]
        entries.append((top, command, click.Context(command, info_name=top, parent=ctx)))
        if isinstance(command, click.Group):  # `thriftbox export compose`: each subcommand its own section
            parent = entries[-1][2]
            for leaf in sorted(command.commands):
                sub_cmd = command.commands[leaf]
                entries.append(
                    (f"{top} {leaf}", sub_cmd, click.Context(sub_cmd, info_name=leaf, parent=parent))
                )
    for name, cmd, sub in entries:
        if cmd.hidden:
            continue
        out += [
            f"## `thriftbox {name}`",
            "",
            "```",
            f"thriftbox {name} " + " ".join(cmd.collect_usage_pieces(sub)),
        ]
        out += ["```", ""]
        body: list[str] = []
        examples: list[str] = []
        for line in (cmd.help or "").replace("\b\n", "").splitlines():
            if line.strip().startswith("Examples:"):
                examples.append("")
            elif examples and line.startswith("  "):
                examples.append(line.strip())
            elif line.strip():
                body.append(line.strip())
        out += [" ".join(body), ""]
        shown = [e for e in examples if e]
        if shown:
            out += [
                "<!-- doc-test: illustrative -->",
                "```console",
                *("$ " + e if e.startswith("thriftbox") else "# " + e for e in shown),
                "```",
                "",
            ]
        rows = []
        for p in cmd.params:
            if isinstance(p, click.Option) and "--help" not in p.opts:
                names = ", ".join(f"`{o}`" for o in p.opts + p.secondary_opts)
                default = p.default if p.show_default and p.default not in (None, False, ()) else None
                shown_default = f"`{default}`" if default is not None else ""
                rows.append(f"| {names} | {(p.help or '').replace('|', '/')} | {shown_default} |")
        if rows:
            out += ["| option | meaning | default |", "|---|---|---|", *rows, ""]
    return "\n".join(out).rstrip() + "\n"


def test_the_cli_reference_is_current() -> None:
    assert (DOCS / "cli.md").read_text() == cli_reference(), (
        "regenerate: python -m tests.test_docs > docs/cli.md"
    )


def test_the_readme_starts_with_the_two_commands() -> None:
    lines = (REPO / "README.md").read_text().splitlines()
    assert lines[:4] == ["```", "make serve", "make test", "```"]


@pytest.mark.parametrize(
    "page", [*sorted(p.name for p in DOCS.glob("*.md")), "../README.md", "../ARCHITECTURE.md"]
)
def test_links_between_pages_resolve(page: str) -> None:
    path = (DOCS / page).resolve()
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", path.read_text()):
        if "://" in target:
            continue
        assert (path.parent / target).exists(), f"{page} links to {target}, which does not exist"


if __name__ == "__main__":
    sys.stdout.write(cli_reference())
