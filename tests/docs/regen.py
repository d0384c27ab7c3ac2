"""Rewrites the ``<!-- doc-test: demo -->`` console blocks of README.md and docs/ from real runs:
``python -m tests.docs.regen`` (a command whose output still matches keeps its lines, ``...`` included)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from tests.docs.blocks import all_blocks, regenerated, run_block
from tests.docs.demo import served_demo
from tests.serve_support import cli_env


def main() -> int:
    blocks = [b for b in all_blocks() if b.kind == "demo"]
    new: dict[tuple[Path, int], list[str]] = {}
    with tempfile.TemporaryDirectory() as tmp, served_demo(Path(tmp)) as demo:
        for b in blocks:
            new[(b.path, b.line)] = regenerated(b, run_block(b, demo, cli_env()))
    for path in sorted({b.path for b in blocks}):
        lines = path.read_text().splitlines()
        for b in sorted((b for b in blocks if b.path == path), key=lambda b: -b.line):
            lines[b.line : b.line + len(b.body)] = new[(b.path, b.line)]
        path.write_text("\n".join(lines) + "\n")
        print(f"regenerated {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
