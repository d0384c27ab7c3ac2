"""One served demo for the console examples: a copy of idl/ and mocks/ and a real ``thriftbox serve``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.docs.blocks import Demo
from tests.serve_support import free_base_port, serve


@contextmanager
def served_demo(root: Path) -> Iterator[Demo]:
    (root / "served").mkdir()
    demo = Demo(root / "served", offline=root / "offline")
    demo.reset_files()
    base = free_base_port()
    with serve(demo.root, ["idl/"], "--mocks", "mocks/", "--port", str(base)):
        demo.base = base
        yield demo
