"""Names visible in one file: its own definitions, and ``prefix.Name`` for each file it includes."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import NoReturn, TypeVar

from thriftbox.errors import IdlError, Location
from thriftbox.idl.syntax import (
    ConstDefNode,
    Document,
    EnumNode,
    ServiceNode,
    StructNode,
    TypedefNode,
)

TypeDefinition = StructNode | EnumNode | TypedefNode
T = TypeVar("T")


@dataclass
class FileScope:
    """One file's definitions by name, and the files it includes by their prefix."""

    path: Path
    key: str
    doc: Document
    types: dict[str, TypeDefinition] = field(default_factory=dict)
    consts: dict[str, ConstDefNode] = field(default_factory=dict)
    services: dict[str, ServiceNode] = field(default_factory=dict)
    interactions: dict[str, ServiceNode] = field(default_factory=dict)  # fbthrift's
    includes: dict[str, FileScope] = field(default_factory=dict)  # by prefix: the included file's stem
    include_paths: list[Path] = field(default_factory=list)  # every included file, in include order

    def qname(self, name: str) -> str:
        return f"{self.key}.{name}"

    def at(self, line: int, col: int = 0) -> Location:
        return Location(self.path, line, col)

    def fail(self, message: str, line: int, col: int = 0, hint: str | None = None) -> NoReturn:
        raise IdlError(message, hint=hint, location=self.at(line, col))

    def find_type(self, name: str) -> tuple[FileScope, TypeDefinition] | None:
        return _find(self, name, lambda s: s.types)

    def find_const(self, name: str) -> tuple[FileScope, ConstDefNode] | None:
        return _find(self, name, lambda s: s.consts)

    def find_service(self, name: str) -> tuple[FileScope, ServiceNode] | None:
        return _find(self, name, lambda s: s.services)

    def find_interaction(self, name: str) -> tuple[FileScope, ServiceNode] | None:
        return _find(self, name, lambda s: s.interactions)

    def visible(self, table: str) -> list[str]:
        """Every name of ``table`` ("types", "consts", "services", "interactions") that can be written in this file."""
        names = list(getattr(self, table))
        for prefix, inc in self.includes.items():
            names.extend(f"{prefix}.{n}" for n in getattr(inc, table))
        return names

    def unknown(self, what: str, name: str, line: int, col: int, candidates: Iterable[str]) -> NoReturn:
        """Raise "unknown <what>", with a did-you-mean hint or, for ``x.Name``, a hint about includes."""
        close = difflib.get_close_matches(name, list(candidates), n=3, cutoff=0.6)
        hint = None
        if close:
            hint = "did you mean " + " or ".join(repr(c) for c in close) + "?"
        elif "." in name and name.split(".", 1)[0] not in self.includes:
            prefix = name.split(".", 1)[0]
            known = ", ".join(sorted(self.includes)) or "none"
            hint = f"'{prefix}' is not an included file (included: {known}); add include \"{prefix}.thrift\""
        self.fail(f"unknown {what} '{name}'", line, col, hint)


def _find(
    scope: FileScope, name: str, table: Callable[[FileScope], dict[str, T]]
) -> tuple[FileScope, T] | None:
    """``Name`` in the file's own table, or ``prefix.Name`` in an included file's."""
    own = table(scope)
    if name in own:
        return scope, own[name]
    for prefix, inc in scope.includes.items():
        if name.startswith(prefix + "."):
            theirs = table(inc)
            if name[len(prefix) + 1 :] in theirs:
                return inc, theirs[name[len(prefix) + 1 :]]
    return None


def build_scopes(
    docs: dict[Path, Document], keys: dict[Path, str], edges: dict[Path, list[tuple[str, Path]]]
) -> dict[Path, FileScope]:
    """One scope per file. ``edges`` lists each file's includes: (name as written, resolved path).

    Duplicate names within a file are errors; types, services and interactions share one set of names (as in
    Apache and fbthrift).
    """
    scopes = {path: FileScope(path, keys[path], doc) for path, doc in docs.items()}
    for path, scope in scopes.items():
        seen: dict[str, int] = {}
        for d in scope.doc.definitions:
            if isinstance(d, ConstDefNode):
                if d.name in scope.consts:
                    first = scope.consts[d.name].line
                    scope.fail(f"constant '{d.name}' is already defined at line {first}", d.line, d.col)
                scope.consts[d.name] = d
                continue
            if d.name in seen:
                scope.fail(f"'{d.name}' is already defined at line {seen[d.name]}", d.line, d.col)
            seen[d.name] = d.line
            if isinstance(d, ServiceNode):
                (scope.interactions if d.interaction else scope.services)[d.name] = d
            else:
                scope.types[d.name] = d
        for written, target in edges[path]:
            scope.includes.setdefault(PurePosixPath(written).stem, scopes[target])
            if target not in scope.include_paths:
                scope.include_paths.append(target)
    return scopes
