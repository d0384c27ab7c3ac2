"""The ``uuid`` type in Apache's JSON protocol: ``{"uid": "xxxxxxxx-xxxx-..."}``, map keys as that string.

thriftpy2's Apache JSON protocol reads and writes ``binary`` as base64 under ``"str"``; requests are rewritten
from ``"uid"`` to that (:func:`to_legacy`), replies from that to ``"uid"`` where the IDL says ``uuid``
(:func:`to_modern`, guided by the payload classes' ``thrift_uuids``).
"""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

from thriftbox.wire.scan import Malformed
from thriftbox.wire.uuidreply import elem_spec, reaches_uuid
from thriftbox.wire.uuidwire import UUID_LEAF


class UuidArgs(dict[str, Any]):
    """JSON arguments that were rewritten from uuid values: the client speaks the uuid type."""


def _uuid_b64(text: Any) -> str:
    try:
        raw = uuid.UUID(str(text)).bytes
    except ValueError:
        raise Malformed(f"not a uuid: {text!r}") from None
    return base64.b64encode(raw).decode("ascii")


def _legacy_value(tag: str, value: Any) -> Any:
    """A JSON value of type ``tag`` with the uuids in it as base64 binary."""
    if tag == "uid":
        return _uuid_b64(value)
    if tag == "rec" and isinstance(value, dict):
        return {fid: _legacy_typed(typed) for fid, typed in value.items()}
    if tag in ("lst", "set") and isinstance(value, list) and len(value) >= 2:
        et = value[0]
        return ["str" if et == "uid" else et, value[1], *(_legacy_value(et, v) for v in value[2:])]
    if tag == "map" and isinstance(value, list) and len(value) == 4 and isinstance(value[3], dict):
        kt, vt = value[0], value[1]
        entries = {(_uuid_b64(k) if kt == "uid" else k): _legacy_value(vt, v) for k, v in value[3].items()}
        return ["str" if kt == "uid" else kt, "str" if vt == "uid" else vt, value[2], entries]
    return value


def _legacy_typed(typed: Any) -> Any:
    if not (isinstance(typed, dict) and len(typed) == 1):
        raise Malformed("bad JSON field value")
    tag, value = next(iter(typed.items()))
    return {("str" if tag == "uid" else tag): _legacy_value(tag, value)}


def to_legacy(args: dict[str, Any]) -> UuidArgs:
    """The args of a JSON message, with the uuids in them as base64 binary."""
    return UuidArgs({fid: _legacy_typed(typed) for fid, typed in args.items()})


def has_uuid(data: bytes) -> bool:
    """Whether a JSON message may hold a uuid (the cheap check before :func:`to_legacy`)."""
    return b'"uid"' in data


# -- replies ------------------------------------------------------------------------------------------------


def _modern_value(tag: str, value: Any, mark: Any, inner: Any) -> Any:
    if mark is UUID_LEAF and tag == "str":
        return str(uuid.UUID(bytes=base64.b64decode(value + "=" * (-len(value) % 4))))
    if tag == "rec" and isinstance(inner, type):
        return _modern_struct(value, inner)
    if mark is None and not reaches_uuid(inner):
        return value
    if tag in ("lst", "set"):
        emark = mark[1] if mark else None
        _, e_inner = elem_spec(inner)
        et = value[0]
        out_tag = "uid" if emark is UUID_LEAF else et
        return [out_tag, value[1], *(_modern_value(et, v, emark, e_inner) for v in value[2:])]
    if tag == "map":
        kmark, vmark = (mark[1], mark[2]) if mark else (None, None)
        (_, k_inner), (_, v_inner) = elem_spec(inner[0]), elem_spec(inner[1])
        kt, vt = value[0], value[1]
        entries = {
            _modern_value(kt, k, kmark, k_inner): _modern_value(vt, v, vmark, v_inner)
            for k, v in value[3].items()
        }
        return ["uid" if kmark is UUID_LEAF else kt, "uid" if vmark is UUID_LEAF else vt, value[2], entries]
    return value


def _modern_struct(fields: dict[str, Any], cls: Any) -> dict[str, Any]:
    if not getattr(cls, "thrift_has_uuids", False):
        return fields
    marks: dict[int, Any] = getattr(cls, "thrift_uuids", {})
    spec: dict[int, Any] = cls.thrift_spec
    out: dict[str, Any] = {}
    for key, typed in fields.items():
        fid = int(key)
        tag, value = next(iter(typed.items()))
        mark = marks.get(fid)
        field = spec.get(fid)
        inner = field[2] if field is not None and len(field) > 3 else None
        out[key] = {("uid" if mark is UUID_LEAF else tag): _modern_value(tag, value, mark, inner)}
    return out


def to_modern(data: bytes, cls: Any) -> bytes:
    """An Apache JSON message (``[1, name, type, seqid, {fields}]``) of class ``cls``, uuids as uuid values."""
    doc = json.loads(data)
    doc[4] = _modern_struct(doc[4], cls)
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
