"""Wire-incompatible changes between two versions of an IDL (``thriftbox breaking OLD NEW``).

Services are matched by id, then by name (a moved file); structs and enums by qualified name, then by name.
Fields, arguments and declared exceptions are matched by id: a renamed field with the same id and type is
wire-compatible and not reported. Each finding has a stable ``kind`` (see :data:`KINDS`) and points at the
new definition where there is one, else at the old.

Thrift has no ``reserved`` keyword. Removing a required field is always breaking; removing an optional or
default field is breaking unless its struct (or, for an argument, its method) carries the annotation
``(thriftbox.reserved = "3,4")`` naming the removed id, a promise that the id will not be reused.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from thriftbox.contract.gitrev import load_side
from thriftbox.errors import Location
from thriftbox.idl.model import Catalog, EnumDef, Field, Kind, Method, ServiceDef, StructDef, TypeRef

RESERVED = "thriftbox.reserved"
KINDS: dict[str, str] = {
    "SERVICE_REMOVED": "a service was removed",
    "METHOD_REMOVED": "a method was removed from a service",
    "METHOD_ONEWAY_CHANGED": "a method was made oneway, or no longer oneway",
    "METHOD_RETURN_TYPE_CHANGED": "a method's return type changed",
    "ARG_TYPE_CHANGED": "an argument's type changed",
    "ARG_ID_CHANGED": "an argument kept its name but got another id",
    "ARG_REMOVED": "an argument was removed without reserving its id",
    "ARG_REQUIRED_ADDED": "a new required argument",
    "ARG_REQUIREDNESS_TIGHTENED": "an argument became required",
    "EXCEPTION_REMOVED": "an exception was removed from a method's throws",
    "EXCEPTION_TYPE_CHANGED": "a declared exception's type changed",
    "EXCEPTION_ID_CHANGED": "a declared exception kept its name but got another id",
    "FIELD_TYPE_CHANGED": "a field's type changed",
    "FIELD_ID_CHANGED": "a field kept its name but got another id",
    "FIELD_REMOVED": "a field was removed without reserving its id",
    "FIELD_REQUIRED_ADDED": "a new required field",
    "FIELD_REQUIREDNESS_TIGHTENED": "an optional or default field became required",
    "STRUCT_KIND_CHANGED": "a struct became a union or exception, or the other way round",
    "STRUCT_REMOVED": "a struct still used by a service was removed",
    "ENUM_REMOVED": "an enum still used by a service was removed",
    "ENUM_VALUE_REMOVED": "an enum value was removed",
    "ENUM_VALUE_RENUMBERED": "an enum value kept its name but got another number",
}
INFO_KINDS: dict[str, str] = {  # reported only with info=True: compatible, but worth a look
    "EXCEPTION_ADDED": "a method declares a new exception; old clients cannot decode it when it is thrown",
    "FIELD_REQUIREDNESS_LOOSENED": "a required field became optional; old readers may reject messages without it",
    "FIELD_REMOVED_RESERVED": "a field was removed and its id reserved",
}
_PREFIX = {"field": "FIELD", "argument": "ARG", "exception": "EXCEPTION"}

__all__ = ["INFO_KINDS", "KINDS", "Finding", "breaking", "load_side"]


@dataclass(frozen=True)
class Finding:
    location: Location
    message: str
    kind: str

    @property
    def is_breaking(self) -> bool:
        return self.kind in KINDS

    def __str__(self) -> str:
        return f"{self.location}: {self.kind}: {self.message}"

    def render(self, base: Path | None = None) -> str:
        """``path:line: KIND: message``, the path relative to ``base`` when it lies below it."""
        path = self.location.path
        if base is not None and path.is_absolute() and path.is_relative_to(base):
            path = path.relative_to(base)
        return f"{Location(path, self.location.line)}: {self.kind}: {self.message}"


def breaking(old: Catalog, new: Catalog, *, info: bool = False) -> list[Finding]:
    """Every wire-incompatible change from ``old`` to ``new`` (plus compatible notes when ``info``)."""
    findings = _Diff(old, new).run()
    return [f for f in findings if info or f.is_breaking]


def _match(old: Mapping[str, StructDef | EnumDef], new: Mapping[str, StructDef | EnumDef]) -> dict[str, str]:
    """Old qualified name -> new qualified name: same qname, else the same bare name if unique in new."""
    by_name: dict[str, list[str]] = {}
    for qname, d in new.items():
        by_name.setdefault(d.name, []).append(qname)
    out = {}
    for qname, d in old.items():
        if qname in new:
            out[qname] = qname
        elif len(by_name.get(d.name, [])) == 1:
            out[qname] = by_name[d.name][0]
    return out


def _reserved(annotations: Mapping[str, str]) -> set[int]:
    text = annotations.get(RESERVED, "")
    return {int(p) for p in text.replace(" ", "").split(",") if p.lstrip("-").isdigit()}


class _Diff:
    def __init__(self, old: Catalog, new: Catalog) -> None:
        self.old = old
        self.new = new
        self.structs = _match(old.structs, new.structs)
        self.enums = _match(old.enums, new.enums)
        self.findings: list[Finding] = []

    def run(self) -> list[Finding]:
        services = self._services()
        for oq, nq in self.structs.items():
            self._struct(self.old.structs[oq], self.new.structs[nq])
        for oq, nq in self.enums.items():
            self._enum(self.old.enums[oq], self.new.enums[nq])
        used = self._used_by({svc.id for svc in services})
        for qname, sdef in self.old.structs.items():
            if qname not in self.structs and qname in used:
                self._add(sdef.file, sdef.line, "STRUCT_REMOVED", f"{sdef.kind} {sdef.name} was removed")
        for qname, edef in self.old.enums.items():
            if qname not in self.enums and qname in used:
                self._add(edef.file, edef.line, "ENUM_REMOVED", f"enum {edef.name} was removed")
        return self.findings

    def _add(self, path: Path, line: int, kind: str, message: str) -> None:
        self.findings.append(Finding(Location(path, line), message, kind))

    # -- services and methods ----------------------------------------------------------------------------

    def _services(self) -> list[ServiceDef]:
        """Compare every service; returns the old services that still exist."""
        surviving = []
        for svc in self.old.services.values():
            new = self.new.services.get(svc.id) or self._unique_service(svc.name)
            if new is None:
                self._add(svc.file, svc.line, "SERVICE_REMOVED", f"service {svc.name} was removed")
                continue
            surviving.append(svc)
            for m in svc.methods.values():
                nm = new.methods.get(m.name)
                if nm is None:
                    self._add(
                        self._file(self.old, m), m.line, "METHOD_REMOVED", f"{svc.name}.{m.name} was removed"
                    )
                else:
                    self._method(svc.name, m, nm)
        return surviving

    def _unique_service(self, name: str) -> ServiceDef | None:
        matches = [s for s in self.new.services.values() if s.name == name]
        return matches[0] if len(matches) == 1 else None

    def _file(self, catalog: Catalog, m: Method) -> Path:
        return catalog.services[m.declared_in].file

    def _method(self, service: str, old: Method, new: Method) -> None:
        where, label = self._file(self.new, new), f"{service}.{new.name}"
        if old.oneway != new.oneway:
            now = "oneway" if new.oneway else "no longer oneway"
            self._add(where, new.line, "METHOD_ONEWAY_CHANGED", f"{label} is now {now}")
        if not self._same_type(old.returns, new.returns):
            self._add(
                where,
                new.line,
                "METHOD_RETURN_TYPE_CHANGED",
                f"{label} returns {new.returns}, was {old.returns}",
            )
        reserved = _reserved(new.annotations)
        self._fields("argument", label, old.args, new.args, where, new.line, reserved)
        self._fields("exception", label, old.throws, new.throws, where, new.line, set())

    # -- structs and enums -------------------------------------------------------------------------------

    def _struct(self, old: StructDef, new: StructDef) -> None:
        if old.kind != new.kind:
            self._add(
                new.file, new.line, "STRUCT_KIND_CHANGED", f"{new.name} is now a {new.kind}, was a {old.kind}"
            )
        self._fields(
            "field", new.name, old.fields, new.fields, new.file, new.line, _reserved(new.annotations)
        )

    def _enum(self, old: EnumDef, new: EnumDef) -> None:
        for name, value in old.values.items():
            if name not in new.values:
                if value not in new.values.values():
                    self._add(
                        new.file, new.line, "ENUM_VALUE_REMOVED", f"{new.name}.{name} (= {value}) was removed"
                    )
            elif new.values[name] != value:
                message = f"{new.name}.{name} is now {new.values[name]}, was {value}"
                self._add(new.file, new.line, "ENUM_VALUE_RENUMBERED", message)

    # -- fields, arguments and exceptions ----------------------------------------------------------------

    def _fields(
        self,
        what: str,
        owner: str,
        old: tuple[Field, ...],
        new: tuple[Field, ...],
        file: Path,
        line: int,
        reserved: set[int],
    ) -> None:
        prefix = _PREFIX[what]
        new_by_id = {f.id: f for f in new}
        new_by_name = {f.name: f for f in new}
        old_ids = {f.id for f in old}
        old_names = {f.name for f in old}
        for of in old:
            nf = new_by_id.get(of.id)
            moved = new_by_name.get(of.name)
            if moved is not None and moved.id != of.id:
                message = f"{what} {owner}.{of.name} now has id {moved.id}, was {of.id}"
                self._add(file, moved.line or line, f"{prefix}_ID_CHANGED", message)
                continue
            if nf is None:
                self._removed(what, owner, of, file, line, reserved)
                continue
            at = nf.line or line
            if not self._same_type(of.type, nf.type):
                message = f"{what} {owner}.{nf.name} ({nf.id}) is now {nf.type}, was {of.type}"
                self._add(file, at, f"{prefix}_TYPE_CHANGED", message)
            if what != "exception" and nf.required and not of.required:
                message = f"{what} {owner}.{nf.name} ({nf.id}) is now required, was {of.requiredness}"
                self._add(file, at, f"{prefix}_REQUIREDNESS_TIGHTENED", message)
            elif what == "field" and of.required and not nf.required:
                message = f"{what} {owner}.{nf.name} ({nf.id}) is now {nf.requiredness}, was required"
                self._add(file, at, "FIELD_REQUIREDNESS_LOOSENED", message)
        for nf in new:
            if nf.id in old_ids or nf.name in old_names:
                continue
            if what == "exception":
                self._add(
                    file, nf.line or line, "EXCEPTION_ADDED", f"{owner} may now throw {nf.type} ({nf.name})"
                )
            elif nf.required:
                message = f"new required {what} {owner}.{nf.name} ({nf.id}); old clients never send it"
                self._add(file, nf.line or line, f"{prefix}_REQUIRED_ADDED", message)

    def _removed(self, what: str, owner: str, f: Field, file: Path, line: int, reserved: set[int]) -> None:
        prefix = _PREFIX[what]
        if what == "exception":
            self._add(file, line, "EXCEPTION_REMOVED", f"{owner} no longer throws {f.type} ({f.name})")
        elif f.required:
            self._add(
                file, line, f"{prefix}_REMOVED", f"required {what} {owner}.{f.name} ({f.id}) was removed"
            )
        elif f.id in reserved:
            self._add(
                file,
                line,
                "FIELD_REMOVED_RESERVED",
                f"{what} {owner}.{f.name} ({f.id}) was removed, id reserved",
            )
        else:
            hint = f'reserve it with ({RESERVED} = "{f.id}")'
            self._add(
                file, line, f"{prefix}_REMOVED", f"{what} {owner}.{f.name} ({f.id}) was removed; {hint}"
            )

    # -- types -------------------------------------------------------------------------------------------

    def _same_type(self, old: TypeRef, new: TypeRef) -> bool:
        """Whether values of ``old`` decode as ``new``: typedef names aside, string = binary, i32 = an enum."""
        wire = {Kind.BINARY: Kind.STRING, Kind.ENUM: Kind.I32}
        if wire.get(old.kind, old.kind) is not wire.get(new.kind, new.kind):
            return False
        if old.kind is Kind.STRUCT:
            return self.structs.get(str(old.name)) == new.name
        if old.kind is Kind.ENUM and new.kind is Kind.ENUM:
            return self.enums.get(str(old.name)) == new.name
        pairs = ((old.elem, new.elem), (old.key, new.key))
        return all(
            o is n is None or (o is not None and n is not None and self._same_type(o, n)) for o, n in pairs
        )

    def _used_by(self, service_ids: Iterable[str]) -> set[str]:
        """Qualified names of every struct and enum the given old services reach."""
        seen: set[str] = set()

        def walk(t: TypeRef) -> Iterator[str]:
            if t.kind in (Kind.STRUCT, Kind.ENUM) and str(t.name) not in seen:
                seen.add(str(t.name))
                yield str(t.name)
                if t.kind is Kind.STRUCT and t.name in self.old.structs:
                    for f in self.old.structs[str(t.name)].fields:
                        yield from walk(f.type)
            for inner in (t.key, t.elem):
                if inner is not None:
                    yield from walk(inner)

        used: set[str] = set()
        for sid in service_ids:
            for m in self.old.services[sid].methods.values():
                for t in [m.returns, *(f.type for f in m.args + m.throws)]:
                    used.update(walk(t))
        return used
