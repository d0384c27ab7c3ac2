"""Runtime classes for a catalog: thriftpy2 payloads whose ``thrift_spec`` drives the wire codecs.

thriftpy2's own parser generates these classes from source text and trips over names that are Python keywords
(``from``, ``async``). thriftbox builds them from its own model instead, so any field name works: instances are
filled with ``setattr``, which is also what thriftpy2's Cython decoder does.

Value domain on the wire side: bool, int (byte/i16/i32/i64 and enums), float, str, bytes (binary, and uuid as
its 16 bytes), payload instances for structs, lists (for list and set), dicts.
"""

from __future__ import annotations

import copy
from typing import Any

from thriftpy2.thrift import TException, TPayload

from thriftbox.idl.model import Catalog, Field, Kind, Method, StructDef, TypeRef
from thriftbox.idl.ttypes import SPEC_TTYPES


def _init(self: Any, /, **kwargs: Any) -> None:  # positional-only: a field may be named "self"
    cls = type(self)
    if not kwargs and cls.plain_defaults is not None:  # the usual case on the hot path: one C-level update
        self.__dict__.update(cls.plain_defaults)
        return
    for name, default in cls.default_spec:
        if name in kwargs:
            setattr(self, name, kwargs.pop(name))
        else:
            setattr(self, name, copy.deepcopy(default) if isinstance(default, list | dict) else default)
    if kwargs:
        raise TypeError(f"{type(self).__name__} has no field(s) {', '.join(sorted(kwargs))}")


def _plain(default_spec: list[tuple[str, Any]]) -> dict[str, Any] | None:
    """The defaults as one dict to copy into a new instance, unless one must be copied deeply (list, dict)."""
    if any(isinstance(default, list | dict) for _, default in default_spec):
        return None
    return dict(default_spec)


class Classes:
    """The payload classes of one catalog, built once and looked up by qualified name or method."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._structs: dict[str, type[TPayload]] = {}
        for sdef in catalog.structs.values():
            base: type = TException if sdef.kind == "exception" else TPayload
            cls = type(sdef.name, (base,), {"__init__": _init, "thrift_spec": {}})
            cls.__module__ = "thriftbox.generated"
            cls.__qualname__ = sdef.qname
            self._structs[sdef.qname] = cls
        for sdef in catalog.structs.values():
            made: Any = self._structs[sdef.qname]
            made.thrift_spec = self._field_specs(sdef.fields)
            made.default_spec = [(f.name, self._default(f)) for f in sdef.fields]
            made.plain_defaults = _plain(made.default_spec)
        self._args: dict[tuple[str, str], type[TPayload]] = {}
        self._results: dict[tuple[str, str], type[TPayload]] = {}

    # -- lookups -----------------------------------------------------------------------------------------

    def struct(self, qname: str) -> type[TPayload]:
        return self._structs[qname]

    def args(self, service_id: str, method: str) -> type[TPayload]:
        key = (service_id, method)
        if key not in self._args:
            m = self._method(service_id, method)
            self._args[key] = self._payload(f"{method}_args", m.args)
        return self._args[key]

    def result(self, service_id: str, method: str) -> type[TPayload]:
        key = (service_id, method)
        if key not in self._results:
            m = self._method(service_id, method)
            self._results[key] = self._result_class(m)
        return self._results[key]

    def _method(self, service_id: str, method: str) -> Method:
        """A served method, or an fbthrift method only Rocket carries (its arguments are still read)."""
        svc = self.catalog.services[service_id]
        m = svc.methods.get(method)
        return m if m is not None else svc.rocket[method].method

    # -- building ----------------------------------------------------------------------------------------

    def _result_class(self, m: Method) -> type[TPayload]:
        fields: list[Field] = []
        if m.returns.kind is not Kind.VOID:
            fields.append(Field(0, "success", m.returns))
        fields.extend(m.throws)
        cls = self._payload(f"{m.name}_result", tuple(fields))
        cls.oneway = m.oneway  # type: ignore[attr-defined]  # read by thriftpy2's TClient
        return cls

    def _payload(self, name: str, fields: tuple[Field, ...]) -> type[TPayload]:
        cls: Any = type(name, (TPayload,), {"__init__": _init})
        cls.__module__ = "thriftbox.generated"
        cls.thrift_spec = self._field_specs(fields)
        cls.default_spec = [(f.name, self._default(f)) for f in fields]
        cls.plain_defaults = _plain(cls.default_spec)
        payload: type[TPayload] = cls
        return payload

    def _field_specs(self, fields: tuple[Field, ...]) -> dict[int, tuple[Any, ...]]:
        specs: dict[int, tuple[Any, ...]] = {}
        for f in fields:
            ttype, inner = self.spec(f.type)
            if inner is None:
                specs[f.id] = (ttype, f.name, f.required)
            else:
                specs[f.id] = (ttype, f.name, inner, f.required)
        return specs

    def spec(self, t: TypeRef) -> tuple[int, Any]:
        """(ttype, nested spec or None) in thriftpy2's ``thrift_spec`` notation."""
        ttype = SPEC_TTYPES[t.kind]
        if t.kind is Kind.STRUCT:
            return ttype, self._structs[str(t.name)]
        if t.kind in (Kind.LIST, Kind.SET):
            assert t.elem is not None
            return ttype, self._elem(t.elem)
        if t.kind is Kind.MAP:
            assert t.key is not None
            assert t.elem is not None
            return ttype, (self._elem(t.key), self._elem(t.elem))
        return ttype, None

    def _elem(self, t: TypeRef) -> Any:
        ttype, inner = self.spec(t)
        return ttype if inner is None else (ttype, inner)

    def _default(self, f: Field) -> Any:
        return None if f.default is None else self.to_wire(f.type, f.default)

    def to_wire(self, t: TypeRef, value: Any) -> Any:
        """Turn a plain model value (dicts for structs) into the wire value domain (payload instances)."""
        if value is None:
            return None
        if t.kind is Kind.STRUCT and isinstance(value, dict):
            sdef: StructDef = self.catalog.structs[str(t.name)]
            kwargs = {}
            for f in sdef.fields:
                if f.name in value:
                    kwargs[f.name] = self.to_wire(f.type, value[f.name])
            return self._structs[sdef.qname](**kwargs)
        if t.kind in (Kind.LIST, Kind.SET):
            assert t.elem is not None
            return [self.to_wire(t.elem, v) for v in value]
        if t.kind is Kind.MAP and isinstance(value, dict):
            assert t.key is not None
            assert t.elem is not None
            return {self.to_wire(t.key, k): self.to_wire(t.elem, v) for k, v in value.items()}
        return value
