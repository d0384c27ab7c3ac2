"""Builders for hand-made IDL models and a wire round trip, shared by the ``test_values_*`` modules.

The value generator only depends on :mod:`thriftbox.idl.model`, so most of its tests build the model
directly instead of parsing IDL.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from thriftpy2.protocol import TBinaryProtocolFactory, TCyBinaryProtocolFactory
from thriftpy2.transport import TMemoryBuffer

from thriftbox.idl.classes import Classes
from thriftbox.idl.model import (
    Catalog,
    EnumDef,
    Field,
    Kind,
    Method,
    Requiredness,
    ServiceDef,
    StructDef,
    StructKind,
    TypeRef,
)

FILE = Path("/virtual/models.thrift")

BOOL, BYTE, I16, I32, I64 = (TypeRef(k) for k in (Kind.BOOL, Kind.BYTE, Kind.I16, Kind.I32, Kind.I64))
DOUBLE, STRING, BINARY, UUID = (TypeRef(k) for k in (Kind.DOUBLE, Kind.STRING, Kind.BINARY, Kind.UUID))
VOID = TypeRef(Kind.VOID)


def list_of(t: TypeRef) -> TypeRef:
    return TypeRef(Kind.LIST, elem=t)


def set_of(t: TypeRef) -> TypeRef:
    return TypeRef(Kind.SET, elem=t)


def map_of(k: TypeRef, v: TypeRef) -> TypeRef:
    return TypeRef(Kind.MAP, key=k, elem=v)


def alias(t: TypeRef, name: str) -> TypeRef:
    return TypeRef(t.kind, t.name, t.elem, t.key, alias=name)


def f(
    fid: int,
    name: str,
    t: TypeRef,
    req: Requiredness = "default",
    default: Any = None,
    annotations: Mapping[str, str] | None = None,
) -> Field:
    return Field(fid, name, t, req, default, dict(annotations or {}), line=fid + 1, col=3)


class Model:
    """A catalog under construction: ``m.struct("User", f(1, "id", I64))`` returns the struct's TypeRef."""

    def __init__(self, key: str = "models") -> None:
        self.key = key
        self.catalog = Catalog(roots=(FILE.parent,))

    def struct(self, name: str, *fields: Field, kind: StructKind = "struct") -> TypeRef:
        qname = f"{self.key}.{name}"
        self.catalog.structs[qname] = StructDef(qname, name, kind, tuple(fields), FILE, line=1)
        return TypeRef(Kind.STRUCT, qname)

    def enum(self, name: str, **values: int) -> TypeRef:
        qname = f"{self.key}.{name}"
        self.catalog.enums[qname] = EnumDef(qname, name, dict(values), FILE)
        return TypeRef(Kind.ENUM, qname)

    def service(self, name: str, *methods: Method) -> str:
        sid = f"{self.key}.{name}"
        self.catalog.services[sid] = ServiceDef(sid, name, FILE, {m.name: m for m in methods})
        return sid

    def method(
        self,
        service: str,
        name: str,
        returns: TypeRef,
        *args: Field,
        throws: tuple[Field, ...] = (),
        oneway: bool = False,
        annotations: Mapping[str, str] | None = None,
    ) -> Method:
        return Method(
            name,
            tuple(args),
            returns,
            throws,
            oneway,
            f"{self.key}.{service}",
            annotations=dict(annotations or {}),
        )

    def classes(self) -> Classes:
        return Classes(self.catalog)


def wire_round_trip(obj: Any, pure_python: bool = False) -> Any:
    """Encode a payload with thriftpy2's binary protocol and decode it into a fresh instance."""
    factory = TBinaryProtocolFactory() if pure_python else TCyBinaryProtocolFactory()
    out_buf = TMemoryBuffer()
    out_proto = factory.get_protocol(out_buf)
    out_proto.write_struct(obj)
    if hasattr(out_proto, "flush"):  # the Cython protocol buffers writes
        out_proto.trans.flush()
    in_proto = factory.get_protocol(TMemoryBuffer(out_buf.getvalue()))
    fresh = type(obj)()
    in_proto.read_struct(fresh)
    return fresh


def as_decoded(value: Any) -> Any:
    """A deep copy of ``value`` as a decoder would rebuild it: unset fields with a declared default get it
    (thriftpy2 builds every struct it reads with its defaults, then sets what is on the wire)."""
    if isinstance(value, list):
        return [as_decoded(v) for v in value]
    if isinstance(value, dict):
        return {as_decoded(k): as_decoded(v) for k, v in value.items()}
    spec = getattr(type(value), "default_spec", None)
    if spec is None:
        return value
    copy = type(value).__new__(type(value))
    for name, default in spec:
        v = getattr(value, name, None)
        setattr(copy, name, as_decoded(default if v is None else v))
    return copy
