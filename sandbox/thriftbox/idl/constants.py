"""Constant values and field defaults: syntax-tree literals checked against their type, as Python values.

ints for integers and enums, float, bool (0 and 1 are accepted, as Apache does), str, bytes for binary, the
16 bytes of a uuid, list for list and set, dict for map (container keys become tuples so that they are
hashable), and dict of field name to value for a struct.
"""

from __future__ import annotations

import copy
import difflib
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from thriftbox.idl.model import EnumDef, Kind, TypeRef
from thriftbox.idl.scope import FileScope
from thriftbox.idl.syntax import ConstDefNode, ConstNode
from thriftbox.idl.ttypes import INT_KINDS, INT_RANGES

_INTEGRAL = INT_KINDS | {Kind.ENUM}
_DESCRIBE = {
    "int": "an integer",
    "double": "a number",
    "string": "a string",
    "list": "a list",
    "map": "a map",
}

TypeResolver = Callable[[FileScope, str, int, int], TypeRef]
FieldTypes = dict[str, dict[str, TypeRef]]  # struct qname -> field name -> type


class ConstValues:
    """Evaluates constants (each once, memoized) and converts literals to a target type."""

    def __init__(self, named_type: TypeResolver, enums: dict[str, EnumDef], fields: FieldTypes) -> None:
        self._named_type = named_type
        self._enums = enums
        self._fields = fields
        self._done: dict[tuple[Path, str], tuple[TypeRef, Any]] = {}
        self._busy: set[tuple[Path, str]] = set()
        self._types: dict[tuple[Path, str], TypeRef] = {}

    def declare(self, scope: FileScope, cdef: ConstDefNode, ctype: TypeRef) -> None:
        """Record a constant's resolved type (before any value is evaluated)."""
        self._types[(scope.path, cdef.name)] = ctype

    def const(self, scope: FileScope, cdef: ConstDefNode) -> Any:
        """The value of the constant ``cdef`` declared in ``scope``."""
        key = (scope.path, cdef.name)
        if key not in self._done:
            ctype = self._types[key]
            self._done[key] = (ctype, self._guarded(key, scope, ctype, cdef.value, cdef))
        return self._done[key][1]

    def _guarded(
        self, key: tuple[Path, str], scope: FileScope, t: TypeRef, node: ConstNode, cdef: ConstDefNode
    ) -> Any:
        if key in self._busy:
            scope.fail(f"constant '{cdef.name}' refers to itself", cdef.line, cdef.col)
        self._busy.add(key)
        try:
            return self.convert(scope, t, node)
        finally:
            self._busy.discard(key)

    def convert(self, scope: FileScope, t: TypeRef, node: ConstNode) -> Any:
        """``node``, written in ``scope``, as a value of type ``t``."""
        if node.kind == "ident":
            return self._ident(scope, t, node)
        kind, value = t.kind, node.value
        if node.kind == "int" and isinstance(value, int):
            if kind is Kind.BOOL and value in (0, 1):
                return bool(value)
            if kind in INT_RANGES:
                low, high = INT_RANGES[kind]
                if not low <= value <= high:
                    _fail(
                        scope, node, f"{value} does not fit in {kind.value}", f"{kind.value}: {low}..{high}"
                    )
                return value
            if kind is Kind.ENUM:
                edef = self._enums[str(t.name)]
                if value not in edef.values.values():
                    names = ", ".join(f"{n} = {v}" for n, v in edef.values.items())
                    _fail(scope, node, f"{value} is not a value of enum {edef.name}", f"values: {names}")
                return value
        if kind is Kind.DOUBLE and node.kind in ("int", "double"):
            return float(value)  # type: ignore[arg-type]
        if node.kind == "string" and isinstance(value, str) and kind in (Kind.STRING, Kind.BINARY, Kind.UUID):
            return self._string(scope, kind, value, node)
        if node.kind in ("list", "map") and value == () and kind in (Kind.LIST, Kind.SET, Kind.MAP):
            return {} if kind is Kind.MAP else []  # Apache takes [] and {} for any empty container
        if node.kind == "list" and kind in (Kind.LIST, Kind.SET) and isinstance(value, tuple):
            assert t.elem is not None
            items = [self.convert(scope, t.elem, item) for item in value]
            return list({_freeze(v): v for v in items}.values()) if kind is Kind.SET else items
        if node.kind == "map" and isinstance(value, tuple):
            if kind is Kind.MAP:
                assert t.key is not None
                assert t.elem is not None
                return {
                    _freeze(self.convert(scope, t.key, k)): self.convert(scope, t.elem, v) for k, v in value
                }
            if kind is Kind.STRUCT:
                return self._struct(scope, t, value)
        _fail(scope, node, f"expected {_type_name(t)} value, found {_DESCRIBE[node.kind]}")

    def _string(self, scope: FileScope, kind: Kind, value: str, node: ConstNode) -> str | bytes:
        if kind is Kind.STRING:
            return value
        if kind is Kind.BINARY:
            return value.encode("utf-8")
        try:
            return uuid.UUID(value).bytes
        except ValueError:
            _fail(scope, node, f"'{value}' is not a uuid", "write it as 00112233-4455-6677-8899-aabbccddeeff")

    def _struct(self, scope: FileScope, t: TypeRef, items: tuple[tuple[ConstNode, ConstNode], ...]) -> Any:
        fields = self._fields[str(t.name)]
        result: dict[str, Any] = {}
        for key, value in items:
            if key.kind != "string":
                _fail(
                    scope,
                    key,
                    f"expected a quoted field name of {t}, found {_DESCRIBE.get(key.kind, key.value)}",
                )
            name = str(key.value)
            if name not in fields:
                close = difflib.get_close_matches(name, list(fields), n=3)
                hint = (
                    f"did you mean {' or '.join(repr(c) for c in close)}?"
                    if close
                    else f"fields: {', '.join(fields)}"
                )
                _fail(scope, key, f"{t} has no field '{name}'", hint)
            result[name] = self.convert(scope, fields[name], value)
        return result

    def _ident(self, scope: FileScope, t: TypeRef, node: ConstNode) -> Any:
        name = str(node.value)
        found = scope.find_const(name)
        if found is not None:
            cscope, cdef = found
            ctype = self._types[(cscope.path, cdef.name)]
            self.const(cscope, cdef)  # validates it against its own type, and catches cycles
            if not _compatible(t, ctype):
                _fail(scope, node, f"constant '{name}' is {_type_name(ctype)}, not {_type_name(t)}")
            return copy.deepcopy(self._guarded((cscope.path, cdef.name), cscope, t, cdef.value, cdef))
        prefix, _, member = name.rpartition(".")
        if prefix and scope.find_type(prefix) is not None:
            etype = self._named_type(scope, prefix, node.line, node.col)
            if etype.kind is Kind.ENUM:
                edef = self._enums[str(etype.name)]
                if member not in edef.values:
                    scope.unknown(f"value of enum {edef.name}", member, node.line, node.col, edef.values)
                if t.kind not in _INTEGRAL or (t.kind is Kind.ENUM and t.name != etype.name):
                    _fail(scope, node, f"'{name}' is a value of enum {edef.name}, not {_type_name(t)}")
                return edef.values[member]
        scope.unknown("constant", name, node.line, node.col, self._candidates(scope))

    def _candidates(self, scope: FileScope) -> list[str]:
        names = scope.visible("consts")
        for tname in scope.visible("types"):
            found = scope.find_type(tname)
            if found is not None and (edef := self._enums.get(found[0].qname(found[1].name))) is not None:
                names.extend(f"{tname}.{v}" for v in edef.values)
        return names


def _compatible(target: TypeRef, source: TypeRef) -> bool:
    if target.kind in _INTEGRAL and source.kind in _INTEGRAL:
        return target.kind is not Kind.ENUM or target.name == source.name or source.kind is not Kind.ENUM
    if target.kind is Kind.DOUBLE:
        return source.kind in _INTEGRAL or source.kind is Kind.DOUBLE
    if target.kind is Kind.STRUCT:
        return source.kind is Kind.STRUCT and source.name == target.name
    return target.kind is source.kind or {target.kind, source.kind} == {Kind.LIST, Kind.SET}


def _freeze(value: Any) -> Any:
    """A hashable equivalent of a map key: lists become tuples, dicts tuples of (key, value) pairs."""
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple((_freeze(k), _freeze(v)) for k, v in value.items())
    return value


def _type_name(t: TypeRef) -> str:
    name = t.alias or str(t)
    return f"{'an' if name[0].lower() in 'aeiou' else 'a'} {name}"


def _fail(scope: FileScope, node: ConstNode, message: str, hint: str | None = None) -> NoReturn:
    scope.fail(message, node.line, node.col, hint)
