"""Turn raw replies (:mod:`thriftbox.contract.reader`) into payload instances, reporting what does not fit.

A field whose wire type differs from the IDL is a *problem*: a generated client would drop it (and then miss
a required field) or fail. A field id the IDL does not declare is only a *note* inside structs, since Thrift
clients skip unknown fields by design, but it is a problem in a result envelope, where it means an outcome
(an exception) the IDL does not declare.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from thriftpy2.thrift import TApplicationException, TType

from thriftbox.contract.check import Problem
from thriftbox.contract.reader import RawList, RawMap, RawStruct, type_name
from thriftbox.idl.classes import Classes
from thriftbox.idl.model import Field, Kind, Method, TypeRef
from thriftbox.idl.ttypes import TTYPE_UUID, WIRE_TTYPES


@dataclass
class Decoded:
    """A decoded payload plus what did not fit the IDL on the way."""

    value: Any
    problems: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)


class Decoder:
    """Decodes raw structs against one catalog's payload classes."""

    def __init__(self, classes: Classes) -> None:
        self.classes = classes
        self.catalog = classes.catalog

    def result(self, service_id: str, method: Method, raw: RawStruct) -> Decoded:
        """A ``<method>_result`` payload; undeclared field ids are problems here."""
        fields = [] if method.returns.kind is Kind.VOID else [Field(0, "success", method.returns)]
        fields += method.throws
        out = Decoded(self.classes.result(service_id, method.name)())
        self._fill(out.value, tuple(fields), raw, method.name, out, envelope=True)
        return out

    def application_exception(self, raw: RawStruct) -> TApplicationException:
        """The TApplicationException carried by an EXCEPTION message."""
        message = raw.get(1, (TType.STRING, b""))[1]
        kind = raw.get(2, (TType.I32, TApplicationException.UNKNOWN))[1]
        text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
        return TApplicationException(kind if isinstance(kind, int) else 0, text)

    def _fill(
        self, obj: Any, fields: tuple[Field, ...], raw: RawStruct, path: str, out: Decoded, *, envelope: bool
    ) -> None:
        by_id = {f.id: f for f in fields}
        for fid, (ttype, value) in raw.items():
            f = by_id.get(fid)
            if f is None:
                where, sent = f"{path}.<field {fid}>", f"field id {fid} ({type_name(ttype)})"
                if envelope:
                    out.problems.append(
                        Problem(where, f"{sent} is not a declared outcome (undeclared exception?)")
                    )
                else:
                    out.notes.append(Problem(where, f"undeclared {sent}; the provider's IDL has more fields"))
                continue
            setattr(obj, f.name, self._value(f.type, ttype, value, f"{path}.{f.name}", out))

    def _value(self, t: TypeRef, ttype: int | None, raw: Any, path: str, out: Decoded) -> Any:
        expected = WIRE_TTYPES[t.kind]
        if ttype != expected and not (t.kind is Kind.UUID and ttype == TTYPE_UUID):
            out.problems.append(Problem(path, f"sent as {type_name(ttype)}, but the IDL says {t}"))
            return None
        if t.kind is Kind.STRING:
            try:
                return raw.decode("utf-8")
            except UnicodeDecodeError:
                return raw  # check_value reports it
        if t.kind is Kind.STRUCT:
            sdef = self.catalog.struct(str(t.name))
            obj = self.classes.struct(sdef.qname)()
            self._fill(obj, sdef.fields, raw, path, out, envelope=False)
            return obj
        if t.kind in (Kind.LIST, Kind.SET):
            assert t.elem is not None
            assert isinstance(raw, RawList)
            return self._items(t.elem, raw.etype, raw.items, path, out)
        if t.kind is Kind.MAP:
            assert t.key is not None
            assert t.elem is not None
            assert isinstance(raw, RawMap)
            keys = self._items(t.key, raw.ktype, [k for k, _ in raw.items], path, out, suffix=" (keys)")
            values = self._items(t.elem, raw.vtype, [v for _, v in raw.items], path, out, suffix=" (values)")
            result: dict[Any, Any] = {}
            for i, (k, v) in enumerate(zip(keys, values, strict=True)):
                try:
                    result[k] = v
                except TypeError:
                    out.problems.append(
                        Problem(f"{path}[{i}]", "map key cannot be used as a key (unhashable)")
                    )
            return result
        return raw

    def _items(
        self, t: TypeRef, ttype: int | None, items: list[Any], path: str, out: Decoded, suffix: str = ""
    ) -> list[Any]:
        if not items:
            return []
        if ttype != WIRE_TTYPES[t.kind] and not (t.kind is Kind.UUID and ttype == TTYPE_UUID):
            out.problems.append(Problem(path, f"elements{suffix} sent as {type_name(ttype)}, IDL says {t}"))
            return []
        return [self._value(t, ttype, item, f"{path}[{i}]", out) for i, item in enumerate(items)]
