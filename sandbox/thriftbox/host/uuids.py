"""Where the uuids are: marks on payload classes, from the IDL model, for the uuid reply rewrite.

thriftpy2's ``thrift_spec`` says ``binary`` for a ``uuid`` (see :mod:`thriftbox.idl.classes`), so the wire
layer learns from these marks which binary values to send as uuid values:

* ``cls.thrift_uuids``: field id -> where in the field's type the uuids are: :data:`UUID_LEAF` (the field is a
  uuid), ``("list", elem)`` for lists and sets, ``("map", key, value)`` for maps (each part a mark or
  ``None``). Struct-typed parts need no mark: their own class carries one.
* ``cls.thrift_has_uuids``: ``True`` on a class from which a uuid can be reached through its fields.

:func:`mark_classes` marks every payload class of a :class:`~thriftbox.idl.classes.Classes` (it builds the
args and result classes of every method once); the mock side calls it after building the classes.
"""

from __future__ import annotations

from typing import Any

from thriftbox.idl.classes import Classes
from thriftbox.idl.model import Field, Kind, Method, TypeRef
from thriftbox.wire.uuidwire import UUID_LEAF


def uuid_mark(t: TypeRef) -> Any:
    """Where the uuids are in a value of type ``t`` (structs excluded); ``None`` when nowhere."""
    if t.kind is Kind.UUID:
        return UUID_LEAF
    if t.kind in (Kind.LIST, Kind.SET) and t.elem is not None:
        elem = uuid_mark(t.elem)
        return ("list", elem) if elem is not None else None
    if t.kind is Kind.MAP and t.key is not None and t.elem is not None:
        key, value = uuid_mark(t.key), uuid_mark(t.elem)
        return ("map", key, value) if key is not None or value is not None else None
    return None


def _structs_in(t: TypeRef) -> list[str]:
    if t.kind is Kind.STRUCT:
        return [str(t.name)]
    return [name for part in (t.elem, t.key) if part is not None for name in _structs_in(part)]


def result_fields(m: Method) -> tuple[Field, ...]:
    """The fields of a method's result struct: ``success`` (0) unless void, then the declared exceptions."""
    success = () if m.returns.kind is Kind.VOID else (Field(0, "success", m.returns),)
    return success + tuple(m.throws)


def mark_classes(classes: Classes) -> None:
    """Mark every struct, args and result class of ``classes`` (see the module docstring)."""
    catalog = classes.catalog
    owners: list[tuple[Any, tuple[Field, ...]]] = [
        (classes.struct(qname), sdef.fields) for qname, sdef in catalog.structs.items()
    ]
    for sid, svc in catalog.services.items():
        for name, m in svc.methods.items():
            owners.append((classes.args(sid, name), tuple(m.args)))
            owners.append((classes.result(sid, name), result_fields(m)))
    direct: dict[str, bool] = {}
    for qname, sdef in catalog.structs.items():
        direct[qname] = any(uuid_mark(f.type) is not None for f in sdef.fields)
    reaches = dict(direct)
    changed = True
    while changed:  # structs that reach a struct with uuids, to a fixed point (recursive types included)
        changed = False
        for qname, sdef in catalog.structs.items():
            if not reaches[qname] and any(
                reaches.get(s, False) for f in sdef.fields for s in _structs_in(f.type)
            ):
                reaches[qname] = changed = True
    for cls, fields in owners:
        marks = {f.id: mark for f in fields if (mark := uuid_mark(f.type)) is not None}
        cls.thrift_uuids = marks
        cls.thrift_has_uuids = bool(marks) or any(
            reaches.get(s, False) for f in fields for s in _structs_in(f.type)
        )
