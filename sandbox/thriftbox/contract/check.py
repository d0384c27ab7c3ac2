"""Pure checks of decoded wire values against the IDL.

Values are in the wire value domain of :mod:`thriftbox.idl.classes`: bool, int (integers and enums), float,
str, bytes (binary, and uuid as its 16 bytes), payload instances for structs, lists (lists *and* sets, which
thriftpy2 decodes as lists), dicts. An absent field is ``None``.

Every problem names the place it was found with a path such as ``getUser.success.address.city`` or
``listUsers.success[2].email``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from thriftbox.idl.model import Catalog, Kind, Method, StructDef, TypeRef
from thriftbox.idl.ttypes import INT_RANGES

_PLAIN = (bool, int, float, str, bytes, bytearray, list, tuple, set, frozenset, dict)


@dataclass(frozen=True)
class Problem:
    """One way a value breaks the contract, at ``path``."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def check_value(catalog: Catalog, t: TypeRef, value: Any, path: str) -> list[Problem]:
    """Every way ``value`` fails to be a valid ``t``; empty when it conforms."""
    problems: list[Problem] = []
    _check(catalog, t, value, path, problems)
    return problems


def check_result(catalog: Catalog, method: Method, result: Any) -> list[Problem]:
    """Check a decoded ``<method>_result``: exactly one outcome, and that outcome valid.

    A non-void method must set ``success`` or one declared exception; a void method may set nothing (plain
    return) or one declared exception. Setting more than one is a violation too.
    """
    outcomes = [] if method.returns.kind is Kind.VOID else [("success", method.returns)]
    outcomes += [(f.name, f.type) for f in method.throws]
    present = [(name, t) for name, t in outcomes if getattr(result, name, None) is not None]
    if len(present) > 1:
        names = ", ".join(name for name, _ in present)
        return [Problem(method.name, f"more than one outcome set ({names}); a reply carries exactly one")]
    if not present:
        if method.returns.kind is Kind.VOID:
            return []
        declared = "success" + "".join(f" or {f.name}" for f in method.throws)
        return [Problem(f"{method.name}.success", f"no result: none of {declared} is set")]
    name, t = present[0]
    return check_value(catalog, t, getattr(result, name), f"{method.name}.{name}")


def describe(value: Any) -> str:
    """A short description of a value's type for messages: ``int 7``, ``str 'x'``, ``list``."""
    if isinstance(value, bool | int | float):
        return f"{type(value).__name__} {value!r}"
    if isinstance(value, str | bytes):
        shown = value if len(value) <= 20 else value[:20]
        return f"{type(value).__name__} {shown!r}{'...' if len(value) > 20 else ''}"
    return type(value).__name__


def _check(catalog: Catalog, t: TypeRef, value: Any, path: str, out: list[Problem]) -> None:
    if value is None:
        out.append(Problem(path, f"no value (expected {t})"))
        return
    kind = t.kind
    if kind is Kind.BOOL:
        if not isinstance(value, bool):
            out.append(Problem(path, f"expected bool, got {describe(value)}"))
    elif kind in INT_RANGES:
        _check_int(kind, value, path, out)
    elif kind is Kind.DOUBLE:
        if isinstance(value, bool) or not isinstance(value, float | int):
            out.append(Problem(path, f"expected double, got {describe(value)}"))
    elif kind is Kind.STRING:
        if isinstance(value, bytes):
            out.append(Problem(path, f"string is not valid UTF-8: {describe(value)}"))
        elif not isinstance(value, str):
            out.append(Problem(path, f"expected string, got {describe(value)}"))
    elif kind is Kind.BINARY:
        if not isinstance(value, bytes | bytearray):
            out.append(Problem(path, f"expected binary, got {describe(value)}"))
    elif kind is Kind.UUID:
        if not isinstance(value, bytes | bytearray) or len(value) != 16:
            out.append(Problem(path, f"expected a uuid (16 bytes), got {describe(value)}"))
    elif kind is Kind.ENUM:
        _check_enum(catalog, t, value, path, out)
    elif kind is Kind.STRUCT:
        _check_struct(catalog, catalog.struct(str(t.name)), value, path, out)
    elif kind in (Kind.LIST, Kind.SET):
        _check_collection(catalog, t, value, path, out)
    elif kind is Kind.MAP:
        _check_map(catalog, t, value, path, out)
    else:  # VOID has no values
        out.append(Problem(path, f"unexpected value {describe(value)} for {t}"))


def _check_int(kind: Kind, value: Any, path: str, out: list[Problem]) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        out.append(Problem(path, f"expected {kind.value}, got {describe(value)}"))
        return
    low, high = INT_RANGES[kind]
    if not low <= value <= high:
        out.append(Problem(path, f"{value} is out of range for {kind.value} ({low}..{high})"))


def _check_enum(catalog: Catalog, t: TypeRef, value: Any, path: str, out: list[Problem]) -> None:
    edef = catalog.enum(str(t.name))
    if isinstance(value, bool) or not isinstance(value, int):
        out.append(Problem(path, f"expected enum {edef.name}, got {describe(value)}"))
    elif value not in edef.values.values():
        declared = ", ".join(f"{n}={v}" for n, v in edef.values.items())
        out.append(Problem(path, f"undeclared value {value} of enum {edef.name} (declared: {declared})"))


def _check_struct(catalog: Catalog, sdef: StructDef, value: Any, path: str, out: list[Problem]) -> None:
    if isinstance(value, _PLAIN):
        out.append(Problem(path, f"expected {sdef.kind} {sdef.name}, got {describe(value)}"))
        return
    present = [f for f in sdef.fields if getattr(value, f.name, None) is not None]
    if sdef.kind == "union":
        if not present:
            out.append(Problem(path, f"union {sdef.name} has no field set; exactly one is required"))
        elif len(present) > 1:
            names = ", ".join(f.name for f in present)
            out.append(
                Problem(path, f"union {sdef.name} has {len(present)} fields set ({names}); exactly one")
            )
    else:
        for f in sdef.fields:
            if f.required and getattr(value, f.name, None) is None:
                out.append(
                    Problem(f"{path}.{f.name}", f"required field {f.id}: {f.name} ({f.type}) is missing")
                )
    for f in present:
        _check(catalog, f.type, getattr(value, f.name), f"{path}.{f.name}", out)


def _check_collection(catalog: Catalog, t: TypeRef, value: Any, path: str, out: list[Problem]) -> None:
    assert t.elem is not None
    if not isinstance(value, list | tuple | set | frozenset):
        out.append(Problem(path, f"expected {t}, got {describe(value)}"))
        return
    for i, elem in enumerate(value):
        _check(catalog, t.elem, elem, f"{path}[{i}]", out)
    if t.kind is Kind.SET and isinstance(value, list | tuple):
        dupes = _duplicates(value)
        if dupes:
            out.append(Problem(path, f"set holds duplicate elements: {', '.join(map(repr, dupes[:3]))}"))


def _check_map(catalog: Catalog, t: TypeRef, value: Any, path: str, out: list[Problem]) -> None:
    assert t.key is not None
    assert t.elem is not None
    if not isinstance(value, dict):
        out.append(Problem(path, f"expected {t}, got {describe(value)}"))
        return
    for k, v in value.items():
        item = f"{path}[{k!r}]"
        out.extend(Problem(p.path, f"key: {p.message}") for p in check_value(catalog, t.key, k, item))
        _check(catalog, t.elem, v, item, out)


def _duplicates(values: Iterable[Any]) -> list[Any]:
    hashed: set[Any] = set()
    unhashable: list[Any] = []
    dupes: list[Any] = []
    for v in values:
        try:
            is_dupe = v in hashed
            hashed.add(v)
        except TypeError:  # a payload holding a list or dict: compare by equality
            is_dupe = v in unhashable
            unhashable.append(v)
        if is_dupe and v not in dupes:
            dupes.append(v)
    return dupes
