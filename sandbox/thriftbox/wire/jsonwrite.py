"""Apache's JSON protocol, written: a reply struct (by its thriftpy2 ``thrift_spec``) as Apache's ``TJSONProtocol``
writes it.

thriftpy2's own writer fails on containers inside containers (a ``set`` inside a ``map`` reached ``json.dumps``
as a set: ``list<map<string, set<i32>>>`` was always an ``INTERNAL_ERROR``) and writes NaN as a bare ``NaN``
token; this one follows the spec down every level and writes special doubles as Apache does (``"NaN"``,
``"Infinity"``, ``"-Infinity"``).
"""

from __future__ import annotations

import base64
import json
import math
from typing import Any

from thriftpy2.thrift import TType

NAMES = {
    TType.BOOL: "tf",
    TType.BYTE: "i8",
    TType.I16: "i16",
    TType.I32: "i32",
    TType.I64: "i64",
    TType.DOUBLE: "dbl",
    TType.STRING: "str",
    TType.BINARY: "str",
    TType.STRUCT: "rec",
    TType.LIST: "lst",
    TType.SET: "set",
    TType.MAP: "map",
}


def message(name: str, mtype: int, seqid: int, struct: Any) -> bytes:
    """``[1, name, type, seqid, {struct}]``, as bytes."""
    return json.dumps(
        [1, name, mtype, seqid, _struct(struct)], separators=(",", ":"), allow_nan=False
    ).encode()


def _split(desc: Any) -> tuple[int, Any]:
    """(ttype, argument) of a type descriptor of a container's element: ``8`` or ``(12, Cls)``."""
    return (desc[0], desc[1]) if isinstance(desc, tuple) else (desc, None)


def _struct(obj: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for fid, spec in obj.thrift_spec.items():
        value = getattr(obj, spec[1])
        if value is not None:
            arg = spec[2] if len(spec) == 4 else None
            out[str(fid)] = {NAMES[spec[0]]: _value(spec[0], arg, value)}
    return out


def _value(ttype: int, arg: Any, value: Any) -> Any:
    if ttype == TType.STRUCT:
        return _struct(value)
    if ttype in (TType.LIST, TType.SET):
        elem, elem_arg = _split(arg)
        return [NAMES[elem], len(value), *(_value(elem, elem_arg, v) for v in value)]
    if ttype == TType.MAP:
        (key, key_arg), (elem, elem_arg) = _split(arg[0]), _split(arg[1])
        pairs = {_key(key, key_arg, k): _value(elem, elem_arg, v) for k, v in value.items()}
        return [NAMES[key], NAMES[elem], len(value), pairs]
    if ttype == TType.BOOL:
        return 1 if value else 0
    if ttype == TType.BINARY:
        return base64.b64encode(value if isinstance(value, bytes) else str(value).encode()).decode("ascii")
    if ttype == TType.STRING and isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if ttype == TType.DOUBLE and not math.isfinite(value):
        return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
    return value


def _key(ttype: int, arg: Any, key: Any) -> str:
    """A map key: JSON object keys are strings, so Apache quotes numbers (and writes booleans as 1 or 0)."""
    value = _value(ttype, arg, key)
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), allow_nan=False)
