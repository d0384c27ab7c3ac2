"""Every console example of README.md and docs/ is either produced by the program (``doc-test: demo``, run here
against a served demo) or checked for shape (``illustrative``, ``shell``): see tests/docs/blocks.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.docs.blocks import (
    Block,
    Demo,
    all_blocks,
    blocks_of,
    iter_marker_problems,
    run_block,
    shape_problems,
    stale,
)
from tests.docs.demo import served_demo
from tests.serve_support import cli_env

BLOCKS = all_blocks()
REGEN = "regenerate with: python -m tests.docs.regen"


def _ids(kind: str) -> list[Block]:
    return [b for b in BLOCKS if b.kind == kind]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    with served_demo(tmp_path_factory.mktemp("demo")) as d:
        yield d


def test_every_console_block_is_marked() -> None:
    assert BLOCKS, "no console block found: is the finder broken?"
    problems = list(iter_marker_problems(BLOCKS))
    assert not problems, "\n".join(problems)


def test_an_unmarked_block_is_named_with_its_line(tmp_path: Path) -> None:
    doc = tmp_path / "page.md"
    doc.write_text("# page\n\n```console\n$ thriftbox status\n```\n")
    problems = list(iter_marker_problems(blocks_of(doc)))
    assert len(problems) == 1
    assert "page.md:3" in problems[0].replace(str(tmp_path) + "/", "")
    assert "<!-- doc-test: demo -->" in problems[0]


@pytest.mark.parametrize("block", _ids("demo"), ids=lambda b: b.where)
def test_a_demo_block_is_what_the_program_prints(block: Block, demo: Demo) -> None:
    problems = stale(block, run_block(block, demo, cli_env()))
    assert not problems, f"{block.where} is stale ({REGEN}):\n" + "\n\n".join(problems)


def test_a_stale_demo_block_fails(tmp_path: Path, demo: Demo) -> None:
    block = next(b for b in _ids("demo") if any(out for _, out in b.commands()))
    results = run_block(block, demo, cli_env())
    assert not stale(block, results)
    lines = block.path.read_text().splitlines()
    # alter the first expected output line of the block in a copy of its page
    first_out = next(i for i, line in enumerate(block.body) if i and not line.startswith("$ ") and line)
    at = block.line + first_out
    lines[at] = lines[at].replace(lines[at].strip()[:1] or "x", "X", 1) + " (stale)"
    copy = tmp_path / block.path.name
    copy.write_text("\n".join(lines) + "\n")
    altered = next(b for b in blocks_of(copy) if b.line == block.line)
    assert altered.body != block.body
    assert stale(altered, results)


@pytest.mark.parametrize("block", _ids("illustrative") + _ids("shell"), ids=lambda b: b.where)
def test_an_unrun_block_names_real_commands_and_options(block: Block) -> None:
    problems = shape_problems(block)
    assert not problems, f"{block.where}:\n" + "\n".join(problems)


def test_the_shape_check_catches_an_unknown_option(tmp_path: Path) -> None:
    doc = tmp_path / "page.md"
    doc.write_text(
        "<!-- doc-test: illustrative -->\n```console\n$ thriftbox serve idl/ --no-such-flag\n"
        "$ thriftbox frobnicate\n$ make no-such-target\n```\n"
    )
    problems = shape_problems(blocks_of(doc)[0])
    assert any("--no-such-flag" in p for p in problems)
    assert any("frobnicate" in p for p in problems)
    assert any("no-such-target" in p for p in problems)
