"""Per-method plans: how a call's arguments shape its generated answer.

A mock that ignores the request looks broken, so three cheap rules tie the answer to the arguments:

* echo: an argument named like a field of the returned struct is copied into it (``getUser(1: i64 id)``
  answers a User with that id; ``userId`` also matches ``User.id``);
* batch: ``map<K, V> getUsers(1: list<K> ids)`` answers one entry per requested key, and
  ``list<Item> getItems(1: list<ItemId> ids)`` one item per id, with the id field set;
* limit: an int argument named ``limit``, ``pageSize``, ``count``... caps the answer's lists.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from thriftbox.idl.model import BASE_KINDS, Catalog, Kind, Method, StructDef, TypeRef
from thriftbox.values import hints
from thriftbox.values.canon import derive_seed
from thriftbox.values.coherence import Fixer
from thriftbox.values.compiler import PlanCompiler, strip_alias
from thriftbox.values.scalars import Gen

_LIMIT_ARGS = frozenset(
    (
        "limit",
        "max_result",
        "max_item",
        "page_size",
        "max_count",
        "num_result",
        "count",
        "size",
        "top",
        "per_page",
    )
)
_MAX_BATCH = 1000


@dataclass(frozen=True)
class Batch:
    arg: str  # the list/set argument holding the requested keys
    gen: Gen  # generates one value (map value or list element)
    id_field: str | None  # the value's field that gets the key
    is_map: bool


Echo = tuple[tuple[str, ...], str]  # (argument path: ("id",) or ("user", "firstName"), field it sets)


@dataclass(frozen=True)
class MethodPlan:
    returns: TypeRef
    gen: Gen
    echo: tuple[Echo, ...]  # into the returned struct
    limit_arg: str | None
    list_fields: tuple[str, ...]  # the returned struct's list fields, capped by limit_arg
    batch: Batch | None
    fixer: Fixer | None = None  # the returned struct's, when an echoed field drives others (names, places...)
    drives: frozenset[str] = frozenset()  # the echoed fields that do
    elem_echo: tuple[tuple[str, tuple[Echo, ...]], ...] = ()  # ("" for the answer itself, or a list field)

    def shape(self, result: object, args: object, rng: random.Random) -> object:
        """Apply the echo, batch and limit rules to a freshly generated answer (changed in place)."""
        if self.batch is not None:
            result = self._batch(self.batch, result, args, rng)
        if (self.echo or self.elem_echo) and result is not None:
            result = self._echoed(result, args, copy=False)
        if self.limit_arg is not None:
            limit = arg(args, self.limit_arg)
            if isinstance(limit, int) and limit >= 0:
                if isinstance(result, list):
                    del result[limit:]
                for name in self.list_fields:
                    v = getattr(result, name, None)
                    if isinstance(v, list):
                        del v[limit:]
        return result

    def reshape(self, base: object, args: object) -> object:
        """A copy of a shared generated answer with the echo and limit rules applied; ``base`` is untouched.

        Only what the rules change is copied: the top-level struct (or list), the lists a limit cuts, and the
        elements an argument is echoed into.
        """
        if base is None or (not self.echo and not self.elem_echo and self.limit_arg is None):
            return base
        limit = arg(args, self.limit_arg) if self.limit_arg is not None else None
        if not isinstance(limit, int) or limit < 0:
            limit = None
        if isinstance(base, list):
            cut = base[:limit] if limit is not None else base
            return self._echoed(cut, args, copy=True) if self.elem_echo else cut
        if not hasattr(base, "__dict__"):
            return base
        result = _copy(base)
        d = result.__dict__
        if limit is not None:
            for name in self.list_fields:
                v = d.get(name)
                if isinstance(v, list):
                    d[name] = v[:limit]
        return self._echoed(result, args, copy=False, fresh_lists=limit is not None)

    def _echoed(self, result: object, args: object, *, copy: bool, fresh_lists: bool = False) -> object:
        """``result`` with the arguments echoed into it (and into its elements); ``copy``: copy what changes."""
        if isinstance(result, list):
            pairs = next((p for name, p in self.elem_echo if not name), ())
            return [_set(e, pairs, args, copy=True) for e in result] if pairs else result
        if copy:
            result = _copy(result)
        d = result.__dict__
        set_names = _set_fields(d, self.echo, args)
        if self.fixer is not None and not self.drives.isdisjoint(set_names):
            echoed = tuple(sorted((n, repr(d[n])) for n in set_names))
            self.fixer(d, derive_seed("echo", *echoed), frozenset(set_names))
        for name, pairs in self.elem_echo:
            v = d.get(name) if name else None
            if isinstance(v, list):
                d[name] = [_set(e, pairs, args, copy=True) for e in v]
        return result

    def echo_overrides(self, args: object, overrides: object) -> object:
        """``overrides`` with the echoed arguments added (the overrides win), for struct answers."""
        if not self.echo or (overrides is not None and not isinstance(overrides, Mapping)):
            return overrides
        echoed: dict[str, object] = {}
        for path, field_name in self.echo:
            v = arg_at(args, path)
            if v is not None:
                echoed[field_name] = v
        if isinstance(overrides, Mapping):
            echoed.update(overrides)
        return echoed or None

    @staticmethod
    def _batch(batch: Batch, result: object, args: object, rng: random.Random) -> object:
        requested = arg(args, batch.arg)
        if not isinstance(requested, list | set | tuple | frozenset):
            return result
        try:
            keys = list(dict.fromkeys(requested))[:_MAX_BATCH]
        except TypeError:  # unhashable keys: keep the generated answer
            return result
        values = []
        for key in keys:
            v = batch.gen(rng, 1)
            if batch.id_field is not None and v is not None:
                v.__dict__[batch.id_field] = key
            values.append(v)
        return dict(zip(keys, values, strict=True)) if batch.is_map else values


def arg(args: object, name: str) -> object:
    """An argument of a call, from a decoded args payload or a plain mapping."""
    return args.get(name) if isinstance(args, Mapping) else getattr(args, name, None)


def arg_at(args: object, path: tuple[str, ...]) -> object:
    v = arg(args, path[0])
    for name in path[1:]:
        if v is None:
            return None
        v = arg(v, name)
    return v


def _copy(obj: Any) -> Any:
    cls: Any = type(obj)
    out = cls.__new__(cls)
    out.__dict__.update(obj.__dict__)
    return out


def _set_fields(d: dict[str, Any], pairs: tuple[Echo, ...], args: object) -> list[str]:
    done = []
    for path, field_name in pairs:
        v = arg_at(args, path)
        if v is not None:
            d[field_name] = v
            done.append(field_name)
    return done


def _set(elem: Any, pairs: tuple[Echo, ...], args: object, *, copy: bool) -> Any:
    if elem is None or not hasattr(elem, "__dict__"):
        return elem
    if copy:
        elem = _copy(elem)
    _set_fields(elem.__dict__, pairs, args)
    return elem


def plan_method(
    catalog: Catalog, compiler: PlanCompiler, m: Method, annotations: tuple[tuple[str, str], ...]
) -> MethodPlan:
    gen = compiler.gen(m.returns, (m.name, m.returns.alias), annotations)
    if m.returns.kind is Kind.STRUCT and is_create(m.name):
        gen = compiler.fresh_struct(str(m.returns.name))  # createUser returns a user created just now
    list_fields: tuple[str, ...] = ()
    if m.returns.kind is Kind.STRUCT:
        sdef = catalog.struct(str(m.returns.name))
        list_fields = tuple(f.name for f in sdef.fields if f.type.kind is Kind.LIST)
    limit = next(
        (
            a.name
            for a in m.args
            if a.type.kind in (Kind.I16, Kind.I32, Kind.I64) and hints.normalize(a.name) in _LIMIT_ARGS
        ),
        None,
    )
    echo = _echo_pairs(catalog, m)
    fixer, drives = None, frozenset[str]()
    if echo:
        sdef = catalog.struct(str(m.returns.name))
        kinds = compiler.kinds(sdef)
        drives = frozenset(f for _, f in echo if kinds.get(f, (None, None))[1] in _DRIVING)
        fixer = compiler.fixer(sdef.qname) if drives else None
    return MethodPlan(
        m.returns,
        gen,
        echo,
        limit,
        list_fields,
        _batch(catalog, compiler, m),
        fixer,
        drives,
        _elem_echo(catalog, m),
    )


_ECHOED = BASE_KINDS | {Kind.ENUM}
# value kinds whose echoed value drives other fields of the answer (see coherence)
_DRIVING = frozenset(
    {"first_name", "last_name", "name", "email", "username", "birthdate", "age", "file_name", "file_path"}
    | {
        "mime",
        "city",
        "state",
        "state_abbr",
        "zip",
        "country",
        "country_code",
        "timezone",
        "locale",
        "currency",
    }
)


def _elem_echo(catalog: Catalog, m: Method) -> tuple[tuple[str, tuple[Echo, ...]], ...]:
    """Scalar arguments named like fields of the answer's elements: ``getReviews(itemId)`` → each
    ``Review.itemId``; into a list answer, or the list fields of a returned wrapper struct."""
    r = m.returns
    lists: list[tuple[str, TypeRef]] = []
    if r.kind is Kind.LIST and r.elem is not None:
        lists.append(("", r.elem))
    elif r.kind is Kind.STRUCT:
        lists += [
            (f.name, f.type.elem)
            for f in catalog.struct(str(r.name)).fields
            if f.type.kind is Kind.LIST and f.type.elem
        ]
    out = []
    for name, elem in lists:
        if elem.kind is not Kind.STRUCT or catalog.struct(str(elem.name)).kind != "struct":
            continue
        sdef = catalog.struct(str(elem.name))
        pairs = []
        for a in m.args:
            if a.type.kind in (Kind.STRUCT, Kind.LIST, Kind.SET, Kind.MAP):
                continue
            norm = hints.normalize(a.name)
            f = next((f for f in sdef.fields if hints.normalize(f.name) == norm), None)
            if f is not None and norm != "id" and strip_alias(f.type) == strip_alias(a.type):
                pairs.append(((a.name,), f.name))
        if pairs:
            out.append((name, tuple(pairs)))
    return tuple(out)


_CREATE_WORDS = frozenset(
    ("create", "add", "insert", "new", "register", "post", "submit", "upload", "signup")
)


def is_create(method_name: str) -> bool:
    """Whether a method's name says it creates what it returns (its first word, as the state sees it)."""
    first = hints.normalize(method_name).split("_")[0]
    return first in _CREATE_WORDS


def _echo_pairs(catalog: Catalog, m: Method) -> tuple[Echo, ...]:
    """Scalar arguments named like a field of the returned struct, and the fields of struct arguments named
    and typed like one (``createUser(NewUser user)``: its names, email... are the user's)."""
    if m.returns.kind is not Kind.STRUCT:
        return ()
    sdef = catalog.struct(str(m.returns.name))
    if sdef.kind != "struct":
        return ()
    pairs: list[Echo] = []
    for a in m.args:
        if a.type.kind is Kind.STRUCT:
            given = catalog.struct(str(a.type.name))
            if given.kind != "struct":
                continue
            for gf in given.fields:  # scalars only: a nested struct from the request may lack required fields
                f = sdef.field_named(gf.name)
                if f is not None and f.type.kind in _ECHOED and strip_alias(f.type) == strip_alias(gf.type):
                    pairs.append(((a.name, gf.name), f.name))
            continue
        field_name = _matching_field(sdef, a.name, a.type)
        if field_name is not None:
            pairs.append(((a.name,), field_name))
    return tuple(pairs)


def _matching_field(sdef: StructDef, name: str, t: TypeRef) -> str | None:
    """The field of ``sdef`` that ``name`` (an argument) refers to: same name, or ``userId`` for User.id."""
    norm = hints.normalize(name)
    own_id = f"{hints.normalize(sdef.name)}_id"
    plain = strip_alias(t)
    for f in sdef.fields:
        fnorm = hints.normalize(f.name)
        if (fnorm == norm or (fnorm == "id" and norm in (own_id, "id"))) and strip_alias(f.type) == plain:
            return f.name
    return None


def _batch(catalog: Catalog, compiler: PlanCompiler, m: Method) -> Batch | None:
    r = m.returns
    if r.kind not in (Kind.MAP, Kind.LIST) or r.elem is None:
        return None
    want = strip_alias(r.key) if r.kind is Kind.MAP and r.key is not None else None
    for a in m.args:
        if a.type.kind not in (Kind.LIST, Kind.SET) or a.type.elem is None:
            continue
        key_t = a.type.elem
        if want is not None and strip_alias(key_t) != want:
            continue
        id_field = None
        if r.elem.kind is Kind.STRUCT and catalog.struct(str(r.elem.name)).kind == "struct":
            sdef = catalog.struct(str(r.elem.name))
            singular = hints.normalize(a.name)  # "userIds" → "user_id"
            id_field = _matching_field(sdef, singular, key_t) or _matching_field(sdef, "id", key_t)
        if r.kind is Kind.LIST and (id_field is None or not hints.normalize(a.name).endswith("id")):
            continue  # a list answer is tied to the request only by ids: one element per requested id
        gen = compiler.gen(r.elem, (r.elem.alias, m.name))
        return Batch(a.name, gen, id_field, r.kind is Kind.MAP)
    return None
