"""Checking wire values against their types: what the generator promises and the tests verify."""

from __future__ import annotations

from thriftbox.idl.model import Catalog, Kind, TypeRef
from thriftbox.values.convert import INT_KINDS, INT_RANGES, to_json


def is_valid(catalog: Catalog, t: TypeRef, value: object) -> bool:
    """Whether ``value`` is a well-formed wire value of ``t`` (required fields set, unions with one field,
    ints in range, enums declared, sets without duplicates)."""
    kind = t.kind
    if kind is Kind.BOOL:
        return isinstance(value, bool)
    if kind in INT_KINDS:
        lo, hi = INT_RANGES[kind]
        return isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi
    if kind is Kind.DOUBLE:
        return isinstance(value, float | int) and not isinstance(value, bool)
    if kind is Kind.STRING:
        return isinstance(value, str)
    if kind is Kind.BINARY:
        return isinstance(value, bytes)
    if kind is Kind.UUID:
        return isinstance(value, bytes) and len(value) == 16
    if kind is Kind.ENUM:
        return isinstance(value, int) and value in catalog.enum(str(t.name)).values.values()
    if kind is Kind.STRUCT:
        sdef = catalog.struct(str(t.name))
        if getattr(type(value), "__qualname__", None) != sdef.qname:
            return False
        set_count = 0
        for f in sdef.fields:
            v = getattr(value, f.name, None)
            if v is None:
                if f.required and sdef.kind != "union":
                    return False
                continue
            set_count += 1
            if not is_valid(catalog, f.type, v):
                return False
        return sdef.kind != "union" or set_count == 1 or not sdef.fields
    if kind in (Kind.LIST, Kind.SET):
        assert t.elem is not None
        if not isinstance(value, list) or not all(is_valid(catalog, t.elem, v) for v in value):
            return False
        return kind is Kind.LIST or len({repr(to_json(catalog, t.elem, v)) for v in value}) == len(value)
    if kind is Kind.MAP:
        assert t.key is not None
        assert t.elem is not None
        return isinstance(value, dict) and all(
            is_valid(catalog, t.key, k) and is_valid(catalog, t.elem, v) for k, v in value.items()
        )
    return False
