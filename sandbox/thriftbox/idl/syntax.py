"""The syntax tree of one .thrift file, as written: names are not resolved yet.

Produced by :mod:`thriftbox.idl.parser`, consumed by :mod:`thriftbox.idl.resolve`. Every node keeps the
1-based line and column where it starts, for error messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from thriftbox.idl.model import Requiredness, StructKind

TypeNodeKind = Literal["base", "named", "list", "set", "map"]
ConstKind = Literal["int", "double", "string", "ident", "list", "map"]


@dataclass(frozen=True)
class TypeNode:
    """A type as written: a base type (``name`` is e.g. "i32"), a name to resolve, or a container."""

    kind: TypeNodeKind
    name: str = ""
    args: tuple[TypeNode, ...] = ()  # element type; key and value type for maps
    line: int = 0
    col: int = 0


@dataclass(frozen=True)
class ConstNode:
    """A constant value as written. ``value`` is an int, float, str, identifier, tuple of ConstNode (list)
    or tuple of (key, value) ConstNode pairs (map)."""

    kind: ConstKind
    value: object
    line: int = 0
    col: int = 0


@dataclass(frozen=True)
class FieldNode:
    id: int  # explicit, or the implicit -1, -2, ... Apache assigns
    name: str
    type: TypeNode
    requiredness: Requiredness
    default: ConstNode | None
    annotations: Mapping[str, str]
    line: int
    col: int


@dataclass(frozen=True)
class StructNode:
    kind: StructKind
    name: str
    fields: tuple[FieldNode, ...]
    annotations: Mapping[str, str]
    line: int
    col: int


@dataclass(frozen=True)
class EnumValueNode:
    name: str
    value: int
    line: int
    col: int


@dataclass(frozen=True)
class EnumNode:
    name: str
    values: tuple[EnumValueNode, ...]
    annotations: Mapping[str, str]
    line: int
    col: int


@dataclass(frozen=True)
class TypedefNode:
    name: str
    type: TypeNode
    line: int
    col: int


@dataclass(frozen=True)
class ConstDefNode:
    name: str
    type: TypeNode
    value: ConstNode
    line: int
    col: int


@dataclass(frozen=True)
class StreamNode:
    """fbthrift's ``stream<T throws (...)>`` or ``sink<T throws (...), Final throws (...)>`` return type."""

    kind: Literal["stream", "sink"]
    elem: TypeNode
    throws: tuple[FieldNode, ...]
    final: TypeNode | None  # a sink's final response
    final_throws: tuple[FieldNode, ...]
    line: int
    col: int


@dataclass(frozen=True)
class FunctionNode:
    name: str
    oneway: bool
    returns: TypeNode | None  # None for void
    args: tuple[FieldNode, ...]
    throws: tuple[FieldNode, ...]
    annotations: Mapping[str, str]
    line: int
    col: int
    # fbthrift's return-type list "Interaction, Response, stream<T>": the element before the response (an
    # interaction the call creates), and the stream or sink last
    lead: TypeNode | None = None
    stream: StreamNode | None = None


@dataclass(frozen=True)
class ServiceNode:
    name: str
    extends: str | None
    functions: tuple[FunctionNode, ...]
    annotations: Mapping[str, str]
    line: int
    col: int
    extends_line: int = 0
    extends_col: int = 0
    interaction: bool = False  # fbthrift's "interaction Name { ... }": methods only Rocket carries
    performs: tuple[tuple[str, int, int], ...] = ()  # fbthrift's "performs Name;": (name, line, col)


@dataclass(frozen=True)
class IncludeNode:
    path: str  # as written
    line: int
    col: int


Definition = StructNode | EnumNode | TypedefNode | ConstDefNode | ServiceNode


@dataclass
class Document:
    """One parsed file."""

    path: Path
    includes: list[IncludeNode] = field(default_factory=list)
    namespaces: dict[str, str] = field(default_factory=dict)
    package: str | None = None  # fbthrift's package "domain/path"
    definitions: list[Definition] = field(default_factory=list)
