"""Loading a set of .thrift files and everything they include into one catalog.

Nothing is cached between calls: every call reads the files again, so a changed file is picked up.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from thriftbox.errors import IdlError, Location
from thriftbox.idl import discover
from thriftbox.idl.model import Catalog
from thriftbox.idl.parser import parse
from thriftbox.idl.resolve import build_catalog
from thriftbox.idl.scope import build_scopes
from thriftbox.idl.syntax import Document

MAX_FILE_BYTES = (
    8 * 2**20
)  # per IDL file: the largest real one we know is 165 KiB; loading costs ~2.5 CPU s/MiB


def load_catalog(paths: Sequence[Path | str], include_dirs: Sequence[Path | str] = ()) -> Catalog:
    """Parse and resolve the .thrift files under ``paths`` (folders recursively, or single files).

    Included files are resolved against the including file's folder first, then each of ``include_dirs``
    in order, and are loaded too. Raises :class:`~thriftbox.errors.IdlError` for anything wrong in them.
    """
    if isinstance(paths, str | Path):
        paths = [paths]
    roots, files = discover.expand(paths)
    dirs = discover.include_dirs(include_dirs)
    loader = _Loader(dirs, discover.allowed_folders(roots, dirs))
    try:
        for path in files:
            loader.visit(path, [])
        keys = discover.file_keys(loader.docs)
        scopes = build_scopes(loader.docs, keys, loader.edges)
        return build_catalog(roots, scopes)
    except IdlError as err:
        raise discover.unquoted(err) from None
    except RecursionError:
        raise IdlError(
            "the IDL nests too deeply to load",
            hint="a chain of includes, typedefs, constants or extends is hundreds of levels long",
        ) from None


class _Loader:
    def __init__(self, include_dirs: list[Path], allowed: list[Path]) -> None:
        self.include_dirs = include_dirs
        self.allowed = allowed
        self.docs: dict[Path, Document] = {}
        self.edges: dict[Path, list[tuple[str, Path]]] = {}

    def visit(self, path: Path, stack: list[Path]) -> None:
        """Parse ``path`` and, depth first, what it includes; ``stack`` is the chain of includers."""
        if path in self.docs:
            return
        text = read_source(path)
        try:
            doc = parse(text, path)
        except IdlError as err:
            raise discover.unquoted(err, parsing=True) from None
        self.docs[path] = doc
        self.edges[path] = []
        stack.append(path)
        for inc in doc.includes:
            where = Location(path, inc.line, inc.col)
            target = discover.find_include(inc.path, path, self.include_dirs, self.allowed, where)
            if target in stack:
                cycle = [p.name for p in stack[stack.index(target) :]] + [target.name]
                raise IdlError(
                    "include cycle: " + " -> ".join(cycle),
                    hint="Thrift files cannot include each other in a circle; move the shared definitions "
                    "into a file that both include",
                    location=where,
                )
            self.edges[path].append((inc.path, target))
            self.visit(target, stack)
        stack.pop()


def read_source(path: Path) -> str:
    """The text of one IDL file; IdlError when it cannot be read, is too large or is not UTF-8."""
    try:
        with path.open("rb") as f:
            size = os.fstat(f.fileno()).st_size
            data = b"" if size > MAX_FILE_BYTES else f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise IdlError(f"cannot read {path}: {exc.strerror}", location=Location(path)) from None
    if len(data) > MAX_FILE_BYTES or size > MAX_FILE_BYTES:  # a file that grew while read
        raise IdlError(
            f"too large for an IDL file: {max(size, len(data)):,} bytes "
            f"(at most {MAX_FILE_BYTES:,}: {MAX_FILE_BYTES // 2**20} MiB)",
            hint="loading takes seconds per MiB; split the file into files that include each other "
            "(the limit is thriftbox.idl.loader.MAX_FILE_BYTES)",
            location=Location(path),
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise IdlError(
            "the file is not valid UTF-8 text",
            hint="save it as UTF-8",
            location=Location(path, line),
        ) from None
