"""JSON/YAML values ↔ wire values, type-checked against the IDL.

``to_json`` is what users see (``thriftbox call``, the journal, the admin API): enums by name, binary as
base64, uuids as canonical strings, structs as dicts of their set fields, maps as objects when their keys can
be object keys and as ``[key, value]`` pairs otherwise. ``from_json`` accepts that and a little more (enum
numbers, plain text for binary, ``[key, value]`` pairs for any map) and reports mistakes with a path such as
``user.tags[2]``.
"""

from __future__ import annotations

import base64
import binascii
import copy
import difflib
import json
import math
import uuid
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import Any

from thriftbox.idl.classes import Classes
from thriftbox.idl.model import Catalog, Field, Kind, StructDef, TypeRef
from thriftbox.idl.ttypes import INT_KINDS as INT_KINDS  # re-exported: values/ modules import them from here
from thriftbox.idl.ttypes import INT_RANGES as INT_RANGES
from thriftbox.values.hints import normalize

_OBJECT_KEY_KINDS = INT_KINDS | {Kind.STRING, Kind.ENUM}
_CONTAINERS = (Kind.LIST, Kind.SET, Kind.MAP)


class ValueConversionError(ValueError):
    """A value does not fit its Thrift type. ``path`` says where (``user.tags[2]``), ``hint`` how to fix it."""

    def __init__(self, path: str, message: str, hint: str | None = None) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message
        self.hint = hint


# -- wire → JSON ---------------------------------------------------------------------------------------


def to_json(catalog: Catalog, t: TypeRef, value: object) -> object:
    """A JSON-able form of the wire value ``value`` of type ``t``."""
    if value is None:
        return None
    kind = t.kind
    if kind is Kind.ENUM:
        names = _enum_names(catalog, t)
        return names.get(value, value) if isinstance(value, int) else value
    if kind is Kind.BINARY:
        return base64.b64encode(value).decode("ascii") if isinstance(value, bytes | bytearray) else value
    if kind is Kind.UUID:
        return str(uuid.UUID(bytes=bytes(value))) if isinstance(value, bytes | bytearray) else value
    if kind is Kind.DOUBLE and isinstance(value, float) and not math.isfinite(value):
        return (
            "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
        )  # as Apache's JSON writes
    if kind is Kind.STRUCT:
        return fields_to_json(catalog.struct(str(t.name)).fields, value, partial(to_json, catalog))
    if kind in (Kind.LIST, Kind.SET):
        assert t.elem is not None
        return [to_json(catalog, t.elem, v) for v in value]  # type: ignore[attr-defined]
    if kind is Kind.MAP:
        assert t.key is not None
        assert t.elem is not None
        items = value.items()  # type: ignore[attr-defined]
        if t.key.kind in _OBJECT_KEY_KINDS:
            return {str(to_json(catalog, t.key, k)): to_json(catalog, t.elem, v) for k, v in items}
        return [[to_json(catalog, t.key, k), to_json(catalog, t.elem, v)] for k, v in items]
    return value


def fields_to_json(
    fields: Iterable[Field], value: object, convert: Callable[[TypeRef, object], object]
) -> dict[str, object]:
    """The set ``fields`` of ``value`` (a struct, an arguments payload, or a dict of them), each value turned
    into JSON by ``convert``: :func:`to_json` for structs; the journal passes one that never raises."""
    out: dict[str, object] = {}
    for f in fields:
        v = value.get(f.name) if isinstance(value, Mapping) else getattr(value, f.name, None)
        if v is not None:
            out[f.name] = convert(f.type, v)
    return out


# -- JSON → wire ---------------------------------------------------------------------------------------


def from_json(catalog: Catalog, classes: Classes, t: TypeRef, obj: object, path: str = "") -> object:
    """The wire value for the JSON/YAML value ``obj`` of type ``t``; raises ValueConversionError."""
    return _Converter(catalog, classes).convert(t, obj, path)


def override_from_json(catalog: Catalog, classes: Classes, t: TypeRef, obj: object, path: str = "") -> object:
    """Like :func:`from_json`, but a struct given as a dict stays a partial dict (field → wire value), nested
    struct dicts too: the form :meth:`ValueGenerator.answer` takes as ``overrides`` (named fields are kept,
    the rest is generated)."""
    conv = _Converter(catalog, classes)
    if t.kind is not Kind.STRUCT or not isinstance(obj, Mapping):
        return conv.convert(t, obj, path)
    sdef = catalog.struct(str(t.name))
    out: dict[str, object] = {}
    for key, v in obj.items():
        f = conv.field(sdef, key, path)
        sub = _join(path, f.name)
        if f.type.kind is Kind.STRUCT and isinstance(v, Mapping):
            out[f.name] = override_from_json(catalog, classes, f.type, v, sub)
        else:
            out[f.name] = conv.convert(f.type, v, sub)
    return out


class _Converter:
    def __init__(self, catalog: Catalog, classes: Classes) -> None:
        self.catalog = catalog
        self.classes = classes

    def convert(self, t: TypeRef, obj: object, path: str) -> object:
        if obj is None:
            return None
        kind = t.kind
        if kind is Kind.BOOL:
            if isinstance(obj, bool):
                return obj
            raise _wrong(path, obj, "a bool", "write true or false")
        if kind in INT_KINDS:
            if isinstance(obj, float) and obj.is_integer():
                obj = int(obj)
            if not isinstance(obj, int) or isinstance(obj, bool):
                raise _wrong(path, obj, f"an integer ({kind.value})", _quote_hint(obj, number=True))
            lo, hi = INT_RANGES[kind]
            if not lo <= obj <= hi:
                raise ValueConversionError(path, f"{obj} is out of range for {kind.value} ({lo}..{hi})")
            return obj
        if kind is Kind.DOUBLE:
            if isinstance(obj, int | float) and not isinstance(obj, bool):
                return float(obj)
            if obj in ("NaN", "Infinity", "-Infinity"):
                return float(obj)  # what to_json and Apache's JSON protocol write for them
            raise _wrong(path, obj, "a number (double)", _quote_hint(obj, number=True))
        if kind is Kind.STRING:
            if isinstance(obj, str):
                return obj
            raise _wrong(path, obj, "a string", _quote_hint(obj, number=False))
        if kind is Kind.BINARY:
            return self._binary(obj, path)
        if kind is Kind.UUID:
            return self._uuid(obj, path)
        if kind is Kind.ENUM:
            return self._enum(t, obj, path)
        if kind is Kind.STRUCT:
            return self._struct(self.catalog.struct(str(t.name)), obj, path)
        if kind in (Kind.LIST, Kind.SET):
            return self._sequence(t, obj, path)
        if kind is Kind.MAP:
            return self._map(t, obj, path)
        raise ValueConversionError(path, f"no value can have type {kind.value}")

    def field(self, sdef: StructDef, key: object, path: str) -> Any:
        f = sdef.field_named(str(key))
        if f is not None:
            return f
        names = [x.name for x in sdef.fields]
        same = [n for n in names if normalize(n) == normalize(str(key))]
        close = same or difflib.get_close_matches(str(key), names, n=1)
        hint = (
            f"did you mean {close[0]!r}?" if close else f"{sdef.name} has: {', '.join(names) or 'no fields'}"
        )
        raise ValueConversionError(_join(path, str(key)), f"{sdef.name} has no field {key!r}", hint)

    def _struct(self, sdef: StructDef, obj: object, path: str) -> object:
        cls = self.classes.struct(sdef.qname)
        if isinstance(obj, cls):
            return obj
        if not isinstance(obj, Mapping):
            raise _wrong(
                path, obj, f"an object ({sdef.name})", f"write the fields of {sdef.name} as a mapping"
            )
        given = {self.field(sdef, k, path).name: v for k, v in obj.items()}
        if sdef.kind == "union" and sum(v is not None for v in given.values()) != 1:
            raise ValueConversionError(
                path,
                f"{sdef.name} is a union: set exactly one field, not {len(given)}",
                f"one of: {', '.join(f.name for f in sdef.fields)}",
            )
        instance = cls.__new__(cls)
        d = instance.__dict__
        defaults = dict(getattr(cls, "default_spec", ()))
        for f in sdef.fields:
            if f.name in given:
                d[f.name] = self.convert(f.type, given[f.name], _join(path, f.name))
            else:
                d[f.name] = copy.deepcopy(defaults.get(f.name))  # omitted: the declared default, if any
        return instance

    def _sequence(self, t: TypeRef, obj: object, path: str) -> list[object]:
        assert t.elem is not None
        if not isinstance(obj, list | tuple | set | frozenset):
            raise _wrong(path, obj, f"a list ({t})", "write the members in [brackets]")
        out = [self.convert(t.elem, v, f"{path}[{i}]") for i, v in enumerate(obj)]
        if t.kind is Kind.SET:
            seen: set[str] = set()
            for i, v in enumerate(out):
                key = repr(to_json(self.catalog, t.elem, v))
                if key in seen:
                    raise ValueConversionError(f"{path}[{i}]", f"duplicate member of a set: {key}")
                seen.add(key)
        return out

    def _map(self, t: TypeRef, obj: object, path: str) -> dict[object, object]:
        assert t.key is not None
        assert t.elem is not None
        if isinstance(obj, Mapping):
            pairs = [(self._key(t.key, k, path), v, _key_label(k)) for k, v in obj.items()]
        elif isinstance(obj, list | tuple):
            pairs = []
            for i, pair in enumerate(obj):
                if not isinstance(pair, list | tuple) or len(pair) != 2:
                    raise _wrong(
                        f"{path}[{i}]", pair, "a [key, value] pair", "write each entry as [key, value]"
                    )
                pairs.append((self.convert(t.key, pair[0], f"{path}[{i}][0]"), pair[1], str(i)))
        else:
            raise _wrong(path, obj, f"an object or a list of [key, value] pairs ({t})", None)
        out: dict[object, object] = {}
        for key, v, label in pairs:
            try:
                if key in out:
                    raise ValueConversionError(f"{path}[{label}]", "duplicate map key")
            except TypeError:
                raise ValueConversionError(
                    f"{path}[{label}]", f"a {t.key} cannot be a map key here"
                ) from None
            out[key] = self.convert(t.elem, v, f"{path}[{label}]")
        return out

    def _key(self, t: TypeRef, k: object, path: str) -> object:
        """A map key given as an object key: JSON makes every key a string, so parse it by the key type."""
        label = f"{path}[{_key_label(k)}]"
        if not isinstance(k, str) or t.kind in (Kind.STRING, Kind.ENUM, Kind.BINARY, Kind.UUID):
            return self.convert(t, k, label)
        try:
            if t.kind in INT_KINDS:
                return self.convert(t, int(k, 0), label)
            if t.kind is Kind.DOUBLE:
                return float(k)
            if t.kind is Kind.BOOL and k in ("true", "false"):
                return k == "true"
        except ValueError:
            pass
        raise ValueConversionError(
            label, f"{k!r} is not a {t} key", "write the map as a list of [key, value] pairs"
        )

    def _binary(self, obj: object, path: str) -> bytes:
        if isinstance(obj, bytes | bytearray):
            return bytes(obj)
        if isinstance(obj, Mapping) and len(obj) == 1:
            ((form, text),) = obj.items()
            if form == "text" and isinstance(text, str):
                return text.encode("utf-8")
            if form == "base64" and isinstance(text, str):
                return self._binary_b64(text, path)
            if form == "hex" and isinstance(text, str):
                try:
                    return bytes.fromhex(text)
                except ValueError:
                    raise ValueConversionError(path, "not valid hex", "write pairs of hex digits") from None
        if isinstance(obj, str):
            try:
                return base64.b64decode(obj, validate=True) if len(obj) % 4 == 0 else obj.encode("utf-8")
            except binascii.Error:
                return obj.encode("utf-8")
        raise _wrong(
            path, obj, "binary (a base64 or text string)", 'or {text: "..."}, {base64: "..."}, {hex: "..."}'
        )

    def _binary_b64(self, text: str, path: str) -> bytes:
        try:
            return base64.b64decode(text, validate=True)
        except binascii.Error:
            raise ValueConversionError(path, "not valid base64", None) from None

    def _uuid(self, obj: object, path: str) -> bytes:
        if isinstance(obj, bytes) and len(obj) == 16:
            return obj
        if isinstance(obj, uuid.UUID):
            return obj.bytes
        if isinstance(obj, str):
            try:
                return uuid.UUID(obj).bytes
            except ValueError:
                pass
        raise _wrong(path, obj, "a uuid", 'write it as "123e4567-e89b-12d3-a456-426614174000"')

    def _enum(self, t: TypeRef, obj: object, path: str) -> int:
        edef = self.catalog.enum(str(t.name))
        if isinstance(obj, str):
            name = obj.rsplit(".", 1)[-1] if obj.startswith(edef.name + ".") else obj
            if name in edef.values:
                return edef.values[name]
            close = difflib.get_close_matches(name.upper(), list(edef.values), n=1) or [
                n for n in edef.values if n.lower() == name.lower()
            ]
            hint = f"did you mean {close[0]!r}?" if close else f"one of: {', '.join(edef.values)}"
            raise ValueConversionError(path, f"{obj!r} is not a value of enum {edef.name}", hint)
        if isinstance(obj, int) and not isinstance(obj, bool):
            if obj in edef.values.values():
                return obj
            raise ValueConversionError(
                path,
                f"{obj} is not a value of enum {edef.name}",
                "one of: " + ", ".join(f"{n} ({v})" for n, v in edef.values.items()),
            )
        raise _wrong(path, obj, f"an {edef.name} name", f"one of: {', '.join(edef.values)}")


def _key_label(k: object) -> str:
    return json.dumps(k) if isinstance(k, str) else repr(k)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _wrong(path: str, obj: object, expected: str, hint: str | None) -> ValueConversionError:
    shown = json.dumps(obj) if isinstance(obj, str | int | float | bool) else type(obj).__name__
    return ValueConversionError(path, f"expected {expected}, got {shown}", hint)


def _quote_hint(obj: object, number: bool) -> str | None:
    if number and isinstance(obj, str):
        return "write the number without quotes"
    if not number and isinstance(obj, int | float) and not isinstance(obj, bool):
        return f'write it in quotes: "{obj}"'
    return None


def _enum_names(catalog: Catalog, t: TypeRef) -> dict[int, str]:
    names: dict[int, str] = {}
    for name, v in catalog.enum(str(t.name)).values.items():
        names.setdefault(v, name)
    return names
