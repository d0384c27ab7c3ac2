"""A value depends on (seed, service, method, arguments, field path) only: adding a field leaves the others."""

from __future__ import annotations

import random
import re
import shutil
from pathlib import Path
from typing import Any

from thriftbox.idl import Catalog, load_catalog
from thriftbox.idl.classes import Classes
from thriftbox.idl.model import Kind, TypeRef
from thriftbox.values import ValueGenerator, from_json, to_json

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "idl"
ADDED = "zzAddedField"
_OPEN = re.compile(r"^\s*(struct|union|exception)\s+\w+\s*\{")


def with_added_field(src: Path, dst: Path) -> Path:
    """A copy of the IDL folder ``src`` with an optional string field added at the end of every struct."""
    shutil.copytree(src, dst)
    for path in dst.rglob("*.thrift"):
        out: list[str] = []
        inside = False
        for line in path.read_text().splitlines():
            if _OPEN.match(line):
                inside = True
            elif inside and line.strip() == "}":
                out.append(f"  99: optional string {ADDED},")
                inside = False
            out.append(line)
        path.write_text("\n".join(out) + "\n")
    return dst


class _Added:
    """Where the only member a union has set is the added one: nothing to compare."""


def strip(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {ADDED}:
            return _Added
        return {k: strip(v) for k, v in value.items() if k != ADDED}
    if isinstance(value, list):
        return [strip(v) for v in value]
    return value


def differences(old: Any, new: Any, path: str = "") -> list[str]:
    if new is _Added:
        return []
    if isinstance(old, dict) and isinstance(new, dict) and set(old) == set(new):
        return [d for k in old for d in differences(old[k], new[k], f"{path}.{k}")]
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [
            d
            for i, (o, n) in enumerate(zip(old, new, strict=True))
            for d in differences(o, n, f"{path}[{i}]")
        ]
    return [] if old == new else [f"{path}: {old!r} became {new!r}"]


def calls(catalog: Catalog, classes: Classes, gen: ValueGenerator, n: int) -> list[tuple[str, str, Any]]:
    """``n`` calls spread over every method with a result, with varied generated arguments."""
    methods = [(svc.id, m) for svc, m in catalog.iter_methods() if m.returns.kind is not Kind.VOID]
    out = []
    for i in range(n):
        sid, m = methods[i % len(methods)]
        rng = random.Random(i)
        args = {a.name: to_json(catalog, a.type, gen.value(a.type, rng, hint=a.name)) for a in m.args}
        out.append((sid, m.name, args))
    return out


def make_args(catalog: Catalog, classes: Classes, sid: str, method: str, values: dict[str, Any]) -> Any:
    args = classes.args(sid, method)()
    for a in catalog.services[sid].methods[method].args:
        setattr(args, a.name, from_json(catalog, classes, a.type, values[a.name]))
    return args


def test_adding_an_optional_field_to_every_struct_changes_no_other_value(tmp_path: Path) -> None:
    before = load_catalog([DEMO])
    after = load_catalog([with_added_field(DEMO, tmp_path / "idl")])
    assert any(f.name == ADDED for f in after.struct("users.User").fields)
    old_classes, new_classes = Classes(before), Classes(after)
    old, new = ValueGenerator(before, old_classes), ValueGenerator(after, new_classes)
    changed: list[str] = []
    for sid, method, values in calls(before, old_classes, old, 1000):
        m = before.services[sid].methods[method]
        a = old.answer(sid, method, make_args(before, old_classes, sid, method, values))
        b = new.answer(sid, method, make_args(after, new_classes, sid, method, values))
        diff = differences(to_json(before, m.returns, a), strip(to_json(after, m.returns, b)))
        changed += [f"{sid}.{method}({values}){d}" for d in diff]
    assert not changed, f"{len(changed)} values changed, e.g.\n" + "\n".join(changed[:10])


def test_a_struct_value_does_not_depend_on_its_other_fields(tmp_path: Path) -> None:
    """The same holds for values made directly (stub answers, stored entities, exceptions)."""
    before = load_catalog([DEMO])
    after = load_catalog([with_added_field(DEMO, tmp_path / "idl")])
    old = ValueGenerator(before, Classes(before))
    new = ValueGenerator(after, Classes(after))
    for qname, sdef in before.structs.items():
        ref = TypeRef(Kind.STRUCT, qname)
        for i in range(50):
            a = to_json(before, ref, old.value(ref, random.Random(i)))
            b = strip(to_json(after, ref, new.value(ref, random.Random(i))))
            assert not differences(a, b), (sdef.name, i, differences(a, b)[:3])
