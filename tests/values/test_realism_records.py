"""Realism over the demo (idl/) and the real-world corpus (../shared/idl-corpus): in every struct with related
fields, the relations hold in 1,000 generated records; ids given in a request come back in the answer."""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.corpus import CORPUS, needs_corpus
from thriftbox.errors import IdlError
from thriftbox.idl import Catalog, load_catalog
from thriftbox.idl.classes import Classes
from thriftbox.idl.model import Kind, StructDef, TypeRef
from thriftbox.values import ValueGenerator
from thriftbox.values.files import TYPES
from thriftbox.values.follow import time_shapes
from thriftbox.values.places import PLACES

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "idl"
INCLUDES = {
    "facebookarchive__scribe": ["apache__thrift/contrib"],
    "pinterest__rocksplicator": ["pinterest__rocksplicator"],
}
RECORDS = 1000
GEO = {"city": "city", "state": "region", "country": "country", "country_code": "country_code"}
GEO |= {"timezone": "timezone", "locale": "locale", "currency": "currency"}
OWN_NAMES = {"name", "fullName", "full_name", "displayName", "display_name", "realName", "personName"}
MIME_OF = {t.ext: t.mime for t in TYPES} | {"jpeg": "image/jpeg"}


def ascii_lower(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "".join(c for c in folded.lower() if c.isalnum())


def strings(d: dict[str, Any], kinds: dict[str, str | None], kind: str, sdef: StructDef) -> list[str]:
    """The string fields of ``kind`` that are set and generated (not a declared default, not a folder)."""
    types = {f.name: f.type.kind for f in sdef.fields if f.default is None}
    return [
        n
        for n, k in kinds.items()
        if k == kind and types.get(n) is Kind.STRING and isinstance(d.get(n), str) and not is_folder(n)
    ]


def is_folder(name: str) -> bool:
    return name.lower().endswith(("dir", "directory", "folder", "root", "prefix"))


def check_record(sdef: StructDef, kinds: dict[str, str | None], d: dict[str, Any], now: dt.date) -> list[str]:
    """The relations ``d`` (one generated record of ``sdef``) breaks; empty when it is coherent."""
    broken = []
    firsts, lasts = strings(d, kinds, "first_name", sdef), strings(d, kinds, "last_name", sdef)
    fulls = [n for n in strings(d, kinds, "name", sdef) if n in OWN_NAMES]
    person = None
    if firsts and lasts:
        person = (d[firsts[0]], d[lasts[0]])
        broken += [f"{n}={d[n]!r} is not {person}" for n in fulls if d[n] != " ".join(person)]
    elif fulls and " " in d[fulls[0]]:
        first, last = d[fulls[0]].split(" ", 1)
        person = (first, last)
        broken += [f"{n}={d[n]!r} differs from {fulls[0]}" for n in fulls if d[n] != d[fulls[0]]]
    if person is not None:
        a, b = ascii_lower(person[0]), ascii_lower(person[1])
        for n in strings(d, kinds, "email", sdef) + strings(d, kinds, "username", sdef):
            if a not in d[n].split("@")[0] and b not in d[n].split("@")[0]:
                broken.append(f"{n}={d[n]!r} is not made from {person}")
    births = [n for n, k in kinds.items() if k == "birthdate" and isinstance(d.get(n), str)]
    for n in (n for n, k in kinds.items() if k == "age" and isinstance(d.get(n), int)):
        for b in births:
            born = dt.date.fromisoformat(d[b][:10])
            age = now.year - born.year - ((born.month, born.day) > (now.month, now.day))
            if d[n] != age:
                broken.append(f"{n}={d[n]} but {b}={d[b]}")
    geo = {n: GEO[k] for n, k in kinds.items() if k in GEO and isinstance(d.get(n), str)}
    if len(geo) >= 2 and not any(all(getattr(p, a) == d[n] for n, a in geo.items()) for p in PLACES):
        broken.append(f"no one place has {', '.join(f'{n}={d[n]!r}' for n in geo)}")
    exts = set()
    for n in strings(d, kinds, "file_name", sdef) + strings(d, kinds, "file_path", sdef):
        exts.add(d[n].rsplit(".", 1)[-1].lower() if "." in d[n].rsplit("/", 1)[-1] else "")
    mimes = {d[n] for n in strings(d, kinds, "mime", sdef)}
    if exts and mimes and (len(exts) > 1 or {MIME_OF.get(e) for e in exts} != mimes):
        broken.append(f"file names/paths with {exts} and MIME types {mimes}")
    return broken


def check_children(sdef: StructDef, shapes: Any, obj: Any) -> list[str]:
    shape = shapes[sdef.qname]
    d = obj.__dict__
    if shape.created is None or not isinstance(d.get(shape.created[0]), int | float):
        return []
    start = d[shape.created[0]] * shape.created[1]
    broken = []
    for name, child_q in shape.children:
        v = d.get(name)
        for child in v if isinstance(v, list) else [v] if v is not None else []:
            for n, factor, _ in shapes[child_q].stamps:
                cv = child.__dict__.get(n)
                if isinstance(cv, int | float) and cv * factor < start - factor:
                    broken.append(f"{name}.{n} {cv} is before {shape.created[0]} {d[shape.created[0]]}")
    return broken


def catalogs() -> Iterator[tuple[str, Catalog]]:
    yield "idl/", load_catalog([DEMO])
    for path in sorted(CORPUS.rglob("*.thrift")):
        includes = [CORPUS / d for d in INCLUDES.get(path.relative_to(CORPUS).parts[0], [])]
        try:
            yield str(path.relative_to(CORPUS)), load_catalog([path], includes)
        except IdlError:
            continue  # files Apache itself rejects: covered by the IDL tests


RELATED = (
    "first_name",
    "last_name",
    "email",
    "username",
    "birthdate",
    "age",
    "file_name",
    "file_path",
    "mime",
)


def related(sdef: StructDef, kinds: dict[str, str | None], shapes: Any) -> bool:
    values = [k for k in kinds.values() if k is not None]
    geo = sum(1 for k in values if k in GEO)
    people = sum(1 for k in values if k in RELATED)
    return geo >= 2 or people >= 2 or bool(shapes[sdef.qname].children and shapes[sdef.qname].created)


def check_catalog(catalog: Catalog, seen: set[str]) -> tuple[int, list[str]]:
    gen = ValueGenerator(catalog, Classes(catalog))
    shapes = time_shapes(catalog, lambda sdef, name: gen.value_kinds(sdef.qname).get(name))
    now = dt.datetime.now(dt.UTC).date()
    checked, broken = 0, []
    for q, sdef in catalog.structs.items():
        kinds = gen.value_kinds(q)
        if sdef.kind != "struct" or q in seen or not related(sdef, kinds, shapes):
            continue
        seen.add(q)
        checked += 1
        t = TypeRef(Kind.STRUCT, q)
        for i in range(RECORDS):
            obj = gen.value(t, random.Random(i))
            problems = check_record(sdef, kinds, obj.__dict__, now) + check_children(sdef, shapes, obj)
            broken += [f"{q} #{i}: {p}" for p in problems]
    return checked, broken


def check_echoed_ids(catalog: Catalog, calls: int) -> tuple[int, list[str]]:
    """String arguments named like a field of the answer (or of its list elements) come back in it."""
    classes = Classes(catalog)
    gen = ValueGenerator(catalog, classes)
    targets = []
    for svc, m in catalog.iter_methods():
        plan = gen._method(svc.id, m.name)
        strings_args = {a.name for a in m.args if a.type.kind is Kind.STRING}
        pairs = [(p[0], f, "") for p, f in plan.echo if len(p) == 1 and p[0] in strings_args]
        pairs += [(p[0], f, where) for where, ps in plan.elem_echo for p, f in ps if p[0] in strings_args]
        if pairs:
            targets.append((svc.id, m.name, pairs))
    broken, done = [], 0
    for i in range(calls if targets else 0):
        sid, method, pairs = targets[i % len(targets)]
        values = {a: f"{a}_{i}" for a, _, _ in pairs}
        answer = gen.answer(sid, method, classes.args(sid, method)(**values))
        for a, field, where in pairs:
            elems = answer if isinstance(answer, list) else getattr(answer, where) if where else [answer]
            for e in elems or []:
                if getattr(e, field) != values[a]:
                    broken.append(f"{sid}.{method}({a}={values[a]!r}): {field} is {getattr(e, field)!r}")
        done += 1
    return done, broken


def test_demo_records_are_coherent_and_echo_string_ids() -> None:
    seen: set[str] = set()
    _, broken = check_catalog(load_catalog([DEMO]), seen)
    assert {"users.User", "users.Address", "feed.Comment"} <= seen
    echoed, wrong = check_echoed_ids(load_catalog([DEMO]), RECORDS)
    assert echoed == RECORDS
    assert not broken + wrong, f"{len(broken + wrong)} broken, e.g.\n" + "\n".join((broken + wrong)[:10])


@needs_corpus
def test_corpus_records_are_coherent_and_echo_string_ids() -> None:
    seen: set[str] = set()
    structs, broken, echoed = 0, [], 0
    for where, catalog in catalogs():
        if where == "idl/":
            continue
        n, problems = check_catalog(catalog, seen)
        calls, wrong = check_echoed_ids(catalog, 50)
        structs, echoed = structs + n, echoed + calls
        broken += [f"{where}: {p}" for p in problems + wrong]
    assert structs >= 5, sorted(seen)  # people, addresses and files of the corpus: few, but real ones
    assert echoed >= 50, echoed
    assert not broken, f"{len(broken)} broken, e.g.\n" + "\n".join(broken[:15])
