"""Plan a hot reload: which services start, stop or reload after a change, and how their methods changed.

Pure: :func:`plan_reload` compares two catalogs and the set of changed paths, and does no I/O. Paths are compared
as given, so pass the absolute, resolved paths the catalog uses (the watcher reports them that way).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from thriftbox.idl.model import Catalog, Field, Kind, Method, ServiceDef, TypeRef

__all__ = ["ReloadPlan", "ServiceChange", "plan_reload"]


@dataclass(frozen=True)
class ServiceChange:
    """A reloaded service and its methods that were added, removed or changed, in declaration order."""

    service_id: str
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()

    @property
    def methods_changed(self) -> bool:
        """False when only something outside the methods changed (a comment, a stub, an unused struct)."""
        return bool(self.added or self.removed or self.changed)

    def __str__(self) -> str:
        marks = (
            [f"+{m}" for m in self.added] + [f"-{m}" for m in self.removed] + [f"~{m}" for m in self.changed]
        )
        return f"{self.service_id} ({', '.join(marks)})" if marks else self.service_id


@dataclass(frozen=True)
class ReloadPlan:
    """What a reload does. Every tuple is sorted by service id."""

    started: tuple[str, ...]  # services new in the new catalog
    stopped: tuple[str, ...]  # services gone from it
    reloaded: tuple[ServiceChange, ...]  # services whose files, stubs or definitions changed
    untouched: tuple[str, ...]

    @property
    def empty(self) -> bool:
        """True when no running service is affected."""
        return not (self.started or self.stopped or self.reloaded)

    def summary(self) -> str:
        """One line for humans: ``reloaded users.Users (+deleteUser, ~getUser); started ads.Ads``."""
        parts = [
            f"{verb} {', '.join(map(str, items))}"
            for verb, items in (
                ("reloaded", self.reloaded),
                ("started", self.started),
                ("stopped", self.stopped),
            )
            if items
        ]
        return "; ".join(parts) if parts else "no service changed"


def plan_reload(
    old: Catalog, new: Catalog, changed: Collection[Path], stub_services: Collection[str] = frozenset()
) -> ReloadPlan:
    """Compare the catalog before and after a change.

    A service in both catalogs is reloaded when a file it depends on (its own, those it includes transitively,
    its ancestors') is in ``changed`` in either catalog, when its id is in ``stub_services`` (the caller maps
    changed stub files to services), or when its methods differ anyway (a file key, and with it qualified
    names, may change because a file was added elsewhere).
    """
    changed = set(changed)
    methods = _Signatures(old, new)
    reloaded: list[ServiceChange] = []
    untouched: list[str] = []
    for sid in sorted(old.services.keys() & new.services.keys()):
        diff = methods.diff(old.services[sid], new.services[sid])
        touched = bool((old.service_files(sid) | new.service_files(sid)) & changed) or sid in stub_services
        if touched or diff.methods_changed:
            reloaded.append(diff)
        else:
            untouched.append(sid)
    return ReloadPlan(
        started=tuple(sorted(new.services.keys() - old.services.keys())),
        stopped=tuple(sorted(old.services.keys() - new.services.keys())),
        reloaded=tuple(reloaded),
        untouched=tuple(untouched),
    )


class _Signatures:
    """Compares methods of the old and new catalog, following struct and enum definitions deeply.

    Recursive structs are compared coinductively: a pair of structs being compared is assumed equal while its
    fields are compared. A ``False`` found under that assumption is final; ``True`` is final only once the
    outermost comparison succeeds, so proven pairs are kept across methods.
    """

    def __init__(self, old: Catalog, new: Catalog) -> None:
        self._old = old
        self._new = new
        self._equal: set[tuple[str, str]] = set()
        self._unequal: set[tuple[str, str]] = set()

    def diff(self, before: ServiceDef, after: ServiceDef) -> ServiceChange:
        return ServiceChange(
            service_id=after.id,
            added=tuple(m for m in after.methods if m not in before.methods),
            removed=tuple(m for m in before.methods if m not in after.methods),
            changed=tuple(
                name
                for name, method in after.methods.items()
                if name in before.methods and not self.same_method(before.methods[name], method)
            ),
        )

    def same_method(self, a: Method, b: Method) -> bool:
        assumed: set[tuple[str, str]] = set()
        same = (
            a.oneway == b.oneway
            and a.annotations == b.annotations
            and self._same_type(a.returns, b.returns, assumed)
            and self._same_fields(a.args, b.args, assumed)
            and self._same_fields(a.throws, b.throws, assumed)
        )
        if same:
            self._equal |= assumed
        return same

    def _same_fields(self, a: Sequence[Field], b: Sequence[Field], assumed: set[tuple[str, str]]) -> bool:
        if len(a) != len(b):
            return False
        return all(
            (x.id, x.name, x.requiredness, x.default, x.annotations)
            == (y.id, y.name, y.requiredness, y.default, y.annotations)
            and self._same_type(x.type, y.type, assumed)
            for x, y in zip(sorted(a, key=_field_id), sorted(b, key=_field_id), strict=True)
        )

    def _same_type(self, a: TypeRef | None, b: TypeRef | None, assumed: set[tuple[str, str]]) -> bool:
        if a is None or b is None:
            return a is b
        if a.kind is not b.kind or a.alias != b.alias:
            return False
        if a.kind is Kind.STRUCT:
            return self._same_struct(str(a.name), str(b.name), assumed)
        if a.kind is Kind.ENUM:
            ea, eb = self._old.enums.get(str(a.name)), self._new.enums.get(str(b.name))
            if ea is None or eb is None:
                return a.name == b.name and ea is eb
            return (ea.name, dict(ea.values), ea.annotations) == (eb.name, dict(eb.values), eb.annotations)
        return self._same_type(a.key, b.key, assumed) and self._same_type(a.elem, b.elem, assumed)

    def _same_struct(self, qa: str, qb: str, assumed: set[tuple[str, str]]) -> bool:
        pair = (qa, qb)
        if pair in self._equal or pair in assumed:
            return True
        if pair in self._unequal:
            return False
        sa, sb = self._old.structs.get(qa), self._new.structs.get(qb)
        if sa is None or sb is None:
            return qa == qb and sa is sb
        assumed.add(pair)
        same = (sa.name, sa.kind, sa.annotations) == (sb.name, sb.kind, sb.annotations) and self._same_fields(
            sa.fields, sb.fields, assumed
        )
        if not same:
            self._unequal.add(pair)
        return same


def _field_id(f: Field) -> int:
    return f.id
