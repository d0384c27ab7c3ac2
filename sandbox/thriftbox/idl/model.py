"""thriftbox's own typed view of a set of Thrift IDL files.

Everything outside ``thriftbox.idl`` depends on these dataclasses, never on a parser. Names of structs,
unions, exceptions and enums are *qualified*: ``<file key>.<Name>``, where the file key is the short, unique
key of the file that declares them (see :class:`ThriftFile`). Typedefs are resolved away; the name a type was
written as survives in :attr:`TypeRef.alias` so that value generation can use it as a hint
(``typedef i64 Timestamp``).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Requiredness = Literal["required", "optional", "default"]
StructKind = Literal["struct", "union", "exception"]
RocketKind = Literal["stream", "sink", "factory", "interaction"]


class Kind(enum.Enum):
    BOOL = "bool"
    BYTE = "byte"  # also spelled i8
    I16 = "i16"
    I32 = "i32"
    I64 = "i64"
    DOUBLE = "double"
    STRING = "string"
    BINARY = "binary"
    UUID = "uuid"
    ENUM = "enum"
    STRUCT = "struct"  # structs, unions and exceptions
    LIST = "list"
    SET = "set"
    MAP = "map"
    VOID = "void"  # only as a method's return type


BASE_KINDS = frozenset(
    {Kind.BOOL, Kind.BYTE, Kind.I16, Kind.I32, Kind.I64, Kind.DOUBLE, Kind.STRING, Kind.BINARY, Kind.UUID}
)


@dataclass(frozen=True)
class TypeRef:
    """A fully resolved type.

    ``name`` is the qualified name of the enum or struct (ENUM, STRUCT); ``elem`` is the element type of a
    list or set and the value type of a map; ``key`` is a map's key type; ``alias`` is the typedef name the
    type was written as (the outermost one), ``None`` if it was written directly.
    """

    kind: Kind
    name: str | None = None
    elem: TypeRef | None = None
    key: TypeRef | None = None
    alias: str | None = None

    def __str__(self) -> str:
        if self.kind in (Kind.ENUM, Kind.STRUCT):
            return str(self.name).rsplit(".", 1)[-1]
        if self.kind in (Kind.LIST, Kind.SET):
            return f"{self.kind.value}<{self.elem}>"
        if self.kind is Kind.MAP:
            return f"map<{self.key},{self.elem}>"
        return str(self.kind.value)


@dataclass(frozen=True)
class Field:
    """A field of a struct, an argument of a method or a declared exception of a method."""

    id: int
    name: str
    type: TypeRef
    requiredness: Requiredness = "default"
    default: Any = None  # a Python value in thriftbox's value domain (see thriftbox.values), or None
    annotations: Mapping[str, str] = field(default_factory=dict)
    line: int = 0
    col: int = 0

    @property
    def required(self) -> bool:
        return self.requiredness == "required"


@dataclass(frozen=True)
class StructDef:
    qname: str
    name: str
    kind: StructKind
    fields: tuple[Field, ...]
    file: Path
    line: int = 0
    annotations: Mapping[str, str] = field(default_factory=dict)

    def field_named(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)


@dataclass(frozen=True)
class EnumDef:
    qname: str
    name: str
    values: Mapping[str, int]  # in declaration order
    file: Path
    line: int = 0
    annotations: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ConstDef:
    qname: str
    name: str
    type: TypeRef
    value: Any
    file: Path
    line: int = 0


@dataclass(frozen=True)
class Method:
    name: str
    args: tuple[Field, ...]
    returns: TypeRef  # Kind.VOID for void
    throws: tuple[Field, ...]
    oneway: bool
    declared_in: str  # id of the service that declares it (differs from the serving one when inherited)
    line: int = 0
    col: int = 0
    annotations: Mapping[str, str] = field(default_factory=dict)


_ROCKET_WHAT = {
    "stream": "a stream method (fbthrift's stream<...>)",
    "sink": "a sink method (fbthrift's sink<...>)",
    "factory": "the factory of interaction {interaction}",
    "interaction": "a method of interaction {interaction}",
}


@dataclass(frozen=True)
class RocketMethod:
    """An fbthrift method that only the Rocket transport carries, which thriftbox does not speak: a ``stream<>``
    or ``sink<>`` method, an interaction's factory (``performs X;``, ``X, T f()``) or an interaction's method.

    ``check`` lists it; a call to it is answered with a TApplicationException that says :attr:`reason`.
    ``method`` holds the arguments, the declared exceptions and the initial response (VOID without one).
    """

    kind: RocketKind
    method: Method
    elem: TypeRef | None = None  # what a stream yields, or what a sink takes
    final: TypeRef | None = None  # a sink's final response
    interaction: str | None = None  # qualified name of the interaction it creates or belongs to

    @property
    def name(self) -> str:
        return self.method.name

    def signature(self) -> str:
        """As ``check`` prints it: ``Counter, i32 stream<Message> subscribe(1: i64 since)``."""
        parts = []
        m = self.method
        if self.kind == "factory" and self.interaction:
            parts.append(self.interaction.rsplit(".", 1)[-1])
        if m.returns.kind is not Kind.VOID or not (parts or self.elem):
            parts.append(str(m.returns))
        if self.elem is not None:
            kind = "sink" if self.final is not None else "stream"
            parts.append(f"{kind}<{self.elem}" + (f", {self.final}>" if self.final is not None else ">"))
        args = ", ".join(f"{a.id}: {a.type} {a.name}" for a in m.args)
        throws = f" throws ({', '.join(str(t.type) for t in m.throws)})" if m.throws else ""
        return f"{', '.join(parts)} {m.name.rsplit('.', 1)[-1]}({args}){throws}"

    @property
    def reason(self) -> str:
        """Why a call to it is not answered, for the TApplicationException and ``check``."""
        short = (self.interaction or "").rsplit(".", 1)[-1]
        what = _ROCKET_WHAT[self.kind].format(interaction=short)
        return (
            f"'{self.name}' is {what}: it needs fbthrift's Rocket transport, which thriftbox does not speak "
            "(only its plain request-response methods are served)"
        )


@dataclass(frozen=True)
class InteractionDef:
    """fbthrift's ``interaction Name { ... }``: a stateful group of methods, spoken over Rocket only."""

    qname: str
    name: str
    file: Path
    methods: Mapping[str, RocketMethod]  # by the name a Rocket client calls: "Name.method"
    line: int = 0


@dataclass(frozen=True)
class ServiceDef:
    """A service, with inherited methods included (ancestors' methods first, then its own).

    ``methods`` are the ones served. ``rocket`` holds fbthrift methods only Rocket carries (streams, sinks,
    interaction factories, and the methods of the interactions it creates, as ``"Interaction.method"``).
    """

    id: str  # "<file key>.<Name>", stable across runs
    name: str
    file: Path
    methods: Mapping[str, Method]
    extends: str | None = None  # the parent's service id
    line: int = 0
    annotations: Mapping[str, str] = field(default_factory=dict)
    rocket: Mapping[str, RocketMethod] = field(default_factory=dict)


@dataclass(frozen=True)
class ThriftFile:
    """One parsed .thrift file.

    ``key`` is the file's stem, extended by as many parent folders (joined with "/") as it takes to be
    unique among all loaded files, e.g. ``fb303`` or ``if/fb303``. Service ids and qualified names start
    with it.
    """

    path: Path  # absolute, resolved
    key: str
    includes: tuple[Path, ...]  # absolute paths of the files it includes directly
    namespaces: Mapping[str, str] = field(default_factory=dict)
    package: str | None = None  # fbthrift's ``package "domain/path"``


def match_service(ids: Iterable[str], ref: str) -> list[str]:
    """The service ids that ``ref`` names: the id itself (``users.Users``), else the bare name (``Users``),
    else the file key (``users``); the first of these that matches any id decides, letter case counting
    before it is ignored. Several ids mean that ``ref`` is ambiguous. The one rule for every place that
    takes a service from a user: the CLI, the admin API, the pytest fixture, stub files."""
    forms = []  # (id, name, file key): in the order they are tried
    for sid in ids:
        key, _, name = sid.rpartition(".")
        forms.append((sid, name, key))
    for fold in (False, True):
        wanted = ref.lower() if fold else ref
        for i in range(3):
            found = [f[0] for f in forms if (f[i].lower() if fold else f[i]) == wanted]
            if found:
                return found
    return []


@dataclass
class Catalog:
    """Everything loaded from a set of roots. Built by :func:`thriftbox.idl.load_catalog`."""

    roots: tuple[Path, ...]
    files: dict[Path, ThriftFile] = field(default_factory=dict)
    structs: dict[str, StructDef] = field(default_factory=dict)
    enums: dict[str, EnumDef] = field(default_factory=dict)
    consts: dict[str, ConstDef] = field(default_factory=dict)
    services: dict[str, ServiceDef] = field(default_factory=dict)  # by id, sorted by id
    interactions: dict[str, InteractionDef] = field(default_factory=dict)  # fbthrift's, by qualified name

    def struct(self, qname: str) -> StructDef:
        return self.structs[qname]

    def enum(self, qname: str) -> EnumDef:
        return self.enums[qname]

    def find_service(self, ref: str) -> ServiceDef | None:
        """The service ``ref`` names (see :func:`match_service`); None for none, or for more than one."""
        if ref in self.services:  # the usual case: an id
            return self.services[ref]
        found = match_service(self.services, ref)
        return self.services[found[0]] if len(found) == 1 else None

    def dependencies(self, path: Path) -> set[Path]:
        """``path`` and every file it includes, transitively."""
        seen: set[Path] = set()
        stack = [path]
        while stack:
            p = stack.pop()
            if p in seen or p not in self.files:
                continue
            seen.add(p)
            stack.extend(self.files[p].includes)
        return seen

    def service_files(self, service_id: str) -> set[Path]:
        """Every file a service's definition depends on: its own file, its includes, its ancestors'."""
        files: set[Path] = set()
        svc: ServiceDef | None = self.services[service_id]
        while svc is not None:
            files |= self.dependencies(svc.file)
            svc = self.services.get(svc.extends) if svc.extends else None
        return files

    def iter_methods(self) -> Iterator[tuple[ServiceDef, Method]]:
        for svc in self.services.values():
            for m in svc.methods.values():
                yield svc, m
