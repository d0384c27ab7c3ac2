"""Compile types into generator closures ("plans"), once per (type, name, annotations, struct).

A struct's plan is a tuple of per-field steps (name, requiredness, generator, default, recursion flag); a call
walks it with the per-call ``random.Random`` and does no string matching. Depth only matters for fields that
can lead back to their own struct: beyond ``max_depth`` those are left unset (optional and default fields),
empty (required containers) or, for required struct fields, generated until a hard limit.
"""

from __future__ import annotations

import copy
import datetime as dt
import decimal
import random
import threading
import uuid
from collections.abc import Mapping
from typing import Any

from thriftbox.errors import ConfigError, Location
from thriftbox.idl.classes import Classes
from thriftbox.idl.model import Catalog, Field, Kind, StructDef, TypeRef
from thriftbox.values import hints
from thriftbox.values.canon import canonical
from thriftbox.values.convert import INT_KINDS, INT_RANGES, ValueConversionError, from_json, is_valid
from thriftbox.values.scalars import Env, Gen, scalar_gen

OPTIONAL_RATE = 0.7  # how often an optional field is set
DEFAULT_RATE = 0.5  # how often a field with a declared default gets exactly that default
_HARD_LIMIT = 12  # levels past max_depth after which even required recursive structs stop

Annotations = tuple[tuple[str, str], ...]
_NO_DEFAULT: Any = object()
_MESSAGE_FIELDS = frozenset(
    ("message", "msg", "why", "reason", "error", "error_message", "detail", "description", "cause")
)


def faker_annotations(annotations: Mapping[str, str] | None) -> Annotations:
    """The ``faker``/``faker.*`` annotations, as a hashable key."""
    if not annotations:
        return ()
    return tuple(sorted((k, v) for k, v in annotations.items() if k == "faker" or k.startswith("faker.")))


def humanize(type_name: str) -> str:
    """``InvalidRequestException`` → "Invalid request"."""
    words = hints.normalize(type_name).split("_")
    while len(words) > 1 and words[-1] in ("exception", "error", "exc", "ex"):
        words.pop()
    return " ".join(words).capitalize()


def strip_alias(t: TypeRef) -> TypeRef:
    """``t`` without typedef names anywhere, to compare types structurally."""
    return TypeRef(
        t.kind,
        t.name,
        strip_alias(t.elem) if t.elem else None,
        strip_alias(t.key) if t.key else None,
    )


class PlanCompiler:
    """Builds and caches generators for the types of one catalog."""

    def __init__(self, catalog: Catalog, classes: Classes, env: Env, max_depth: int) -> None:
        self.catalog = catalog
        self.classes = classes
        self.env = env
        self.max_depth = max_depth
        self._gens: dict[tuple[TypeRef, tuple[str | None, ...], Annotations, str | None], Gen] = {}
        self._structs: dict[str, Gen] = {}
        self._reach: dict[str, frozenset[str]] = {}
        self._lock = threading.RLock()

    # -- entry points ----------------------------------------------------------------------------------

    def gen(
        self, t: TypeRef, names: tuple[str | None, ...], ann: Annotations = (), context: str | None = None
    ) -> Gen:
        key = (t, names, ann, context)
        g = self._gens.get(key)
        if g is None:
            with self._lock:
                g = self._gens.get(key)
                if g is None:
                    g = self._compile(t, names, ann, context)
                    self._gens[key] = g
        return g

    def field_gen(self, sdef: StructDef, f: Field) -> Gen:
        ann = faker_annotations(f.annotations)
        if (
            sdef.kind == "exception"
            and f.type.kind is Kind.STRING
            and hints.normalize(f.name) in _MESSAGE_FIELDS
        ):
            message = humanize(sdef.name)
            return lambda rng, depth: message
        return self.gen(f.type, (f.name, f.type.alias), ann, sdef.name)

    def check_annotation(self, t: TypeRef, annotations: Mapping[str, str], where: Location | None) -> None:
        """Raise ConfigError now if a ``faker`` annotation names no provider or cannot fit ``t``."""
        ann = dict(faker_annotations(annotations))
        if not ann:
            return
        leaf = t
        while leaf.kind in (Kind.LIST, Kind.SET, Kind.MAP) and leaf.elem is not None:
            leaf = leaf.elem
        try:
            _bounds(ann)
            if "faker" in ann:
                sample = self.env.pools.check_provider(ann["faker"])
                if _coerce(leaf, sample, self.catalog) is None:
                    raise ConfigError(
                        f"Faker provider {ann['faker']!r} gives {type(sample).__name__} values, "
                        f"which do not fit a {leaf}",
                        hint="pick a provider that returns the field's type",
                    )
        except ConfigError as err:
            raise ConfigError(err.message, hint=err.hint, location=where) from None

    # -- compiling -------------------------------------------------------------------------------------

    def _compile(
        self, t: TypeRef, names: tuple[str | None, ...], ann: Annotations, context: str | None
    ) -> Gen:
        kind = t.kind
        if kind is Kind.STRUCT:
            return self._struct(str(t.name))
        if ann and kind not in (Kind.LIST, Kind.SET, Kind.MAP, Kind.VOID):
            annotated = self._annotated(t, dict(ann))
            if annotated is not None:
                return annotated
        if kind is Kind.ENUM:
            values = tuple(self.catalog.enum(str(t.name)).values.values()) or (0,)
            n = len(values)
            return lambda rng, depth: values[rng.randrange(n)]
        if kind in (Kind.LIST, Kind.SET, Kind.MAP):
            return self._container(t, names, ann, context)
        if kind is Kind.VOID:
            return lambda rng, depth: None
        return scalar_gen(kind, names, context, self.env)

    def _annotated(self, t: TypeRef, ann: dict[str, str]) -> Gen | None:
        lo, hi = _bounds(ann)
        if "faker" in ann:
            coerced = (_coerce(t, v, self.catalog) for v in self.env.pools.provider(ann["faker"]))
            values = tuple(v for v in coerced if v is not None)  # the sample was checked: most values fit
            if not values:
                return None
            n = len(values)
            return lambda rng, depth: values[rng.randrange(n)]
        if lo is None and hi is None:
            return None
        if t.kind is Kind.DOUBLE:
            flo, fhi = (lo if lo is not None else 0.0), (hi if hi is not None else 1000.0)
            return lambda rng, depth: round(rng.uniform(flo, fhi), 2)
        if t.kind in INT_RANGES:
            wlo, whi = INT_RANGES[t.kind]
            ilo = max(wlo, int(lo) if lo is not None else 0)
            ihi = min(whi, int(hi) if hi is not None else max(ilo, 0) + 100)
            if ilo <= ihi:
                return lambda rng, depth: rng.randint(ilo, ihi)
        return None

    def _container(
        self, t: TypeRef, names: tuple[str | None, ...], ann: Annotations, context: str | None
    ) -> Gen:
        assert t.elem is not None
        hint = names[0] if names else None
        if t.kind is Kind.MAP:
            assert t.key is not None
            value_hint, key_hint = hints.split_by(hint)
            if t.key.kind in (Kind.LIST, Kind.SET, Kind.MAP):
                return lambda rng, depth: {}  # no Thrift library can decode container keys
            kg = self.gen(t.key, (t.key.alias, key_hint or "key_word"), (), context)
            vg = self.gen(t.elem, (t.elem.alias, value_hint), ann, context)

            def gen_map(rng: random.Random, depth: int) -> object:
                n = 1 + rng.getrandbits(2)
                out: dict[Any, Any] = {}
                for _ in range(3 * n):
                    k = kg(rng, depth)
                    if k not in out:
                        out[k] = vg(rng, depth)
                        if len(out) == n:
                            break
                return out

            return gen_map
        eg = self.gen(t.elem, (t.elem.alias, hint), ann, context)  # list<UserId> followers: the alias first
        if t.kind is Kind.LIST:
            return lambda rng, depth: [eg(rng, depth) for _ in range(1 + rng.getrandbits(2))]
        hashable = t.elem.kind not in (Kind.LIST, Kind.SET, Kind.MAP) and not self._is_exception(t.elem)

        def gen_set(rng: random.Random, depth: int) -> object:
            n = 1 + rng.getrandbits(2)
            out: list[Any] = []
            seen: set[Any] = set()
            for _ in range(3 * n):
                v = eg(rng, depth)
                k = v if hashable else canonical(v)
                if k not in seen:
                    seen.add(k)
                    out.append(v)
                    if len(out) == n:
                        break
            return out

        return gen_set

    def _is_exception(self, t: TypeRef) -> bool:
        return t.kind is Kind.STRUCT and self.catalog.struct(str(t.name)).kind == "exception"

    def _struct(self, qname: str) -> Gen:
        g = self._structs.get(qname)
        if g is not None:
            return g
        cell: list[Gen] = []

        def indirect(rng: random.Random, depth: int) -> object:
            return cell[0](rng, depth)

        self._structs[qname] = indirect  # registered first: recursive types find it while compiling
        cell.append(self._build_struct(self.catalog.struct(qname)))
        return indirect

    def _build_struct(self, sdef: StructDef) -> Gen:
        cls = self.classes.struct(sdef.qname)
        new = cls.__new__
        max_depth, hard = self.max_depth, self.max_depth + _HARD_LIMIT
        steps: list[tuple[str, bool, Gen, Any, bool, Gen | None]] = []
        for f in sdef.fields:
            recursive = self._reaches(f.type, sdef.qname)
            empty: Gen | None = None
            if recursive and f.required and f.type.kind in (Kind.LIST, Kind.SET, Kind.MAP):
                empty = (lambda rng, depth: {}) if f.type.kind is Kind.MAP else (lambda rng, depth: [])
            optional = f.requiredness != "required" if recursive else f.requiredness == "optional"
            steps.append((f.name, optional, self.field_gen(sdef, f), self._default(f), recursive, empty))
        plan = tuple(steps)
        names = tuple(f.name for f in sdef.fields)

        if sdef.kind == "union":
            safe = tuple(s for s in plan if not s[4]) or tuple(s for s in plan if s[5] is not None) or plan

            def gen_union(rng: random.Random, depth: int) -> object:
                obj = new(cls)
                d = obj.__dict__
                for name in names:
                    d[name] = None
                if not plan:
                    return obj
                choices = safe if depth >= max_depth else plan
                name, _, gen, default, recursive, empty = choices[rng.randrange(len(choices))]
                if recursive and depth >= max_depth and empty is not None:
                    d[name] = empty(rng, depth)
                elif default is not _NO_DEFAULT and rng.random() < DEFAULT_RATE:
                    d[name] = copy.deepcopy(default)
                else:
                    d[name] = gen(rng, depth + 1)
                return obj

            return gen_union

        def gen_struct(rng: random.Random, depth: int) -> object:
            obj = new(cls)
            d = obj.__dict__
            cut = depth >= max_depth
            child = depth + 1
            for name, optional, gen, default, recursive, empty in plan:
                if recursive and cut:
                    if optional or depth >= hard:
                        d[name] = None
                        continue
                    if empty is not None:
                        d[name] = empty(rng, depth)
                        continue
                elif optional and rng.random() >= OPTIONAL_RATE:
                    d[name] = None
                    continue
                if default is not _NO_DEFAULT and rng.random() < DEFAULT_RATE:
                    d[name] = (
                        default if type(default) in (int, str, float, bool, bytes) else copy.deepcopy(default)
                    )
                else:
                    d[name] = gen(rng, child)
            return obj

        return gen_struct

    def _default(self, f: Field) -> Any:
        """The declared default as a wire value, or _NO_DEFAULT if there is none or it does not fit."""
        if f.default is None:
            return _NO_DEFAULT
        try:
            value = self.classes.to_wire(f.type, f.default)
            if is_valid(self.catalog, f.type, value):
                return value
        except (TypeError, ValueError, KeyError, AttributeError):
            pass
        try:
            return from_json(self.catalog, self.classes, f.type, f.default)
        except ValueConversionError:
            return _NO_DEFAULT

    def _reaches(self, t: TypeRef, target: str) -> bool:
        """Whether a value of ``t`` can contain a ``target`` struct."""
        return any(q == target or target in self._reachable(q) for q in _structs_in(t))

    def _reachable(self, qname: str) -> frozenset[str]:
        cached = self._reach.get(qname)
        if cached is not None:
            return cached
        seen: set[str] = set()
        stack = [qname]
        while stack:
            for f in self.catalog.struct(stack.pop()).fields:
                for q in _structs_in(f.type):
                    if q not in seen:
                        seen.add(q)
                        stack.append(q)
        result = frozenset(seen)
        self._reach[qname] = result
        return result


def _structs_in(t: TypeRef) -> list[str]:
    if t.kind is Kind.STRUCT:
        return [str(t.name)]
    out: list[str] = []
    for sub in (t.key, t.elem):
        if sub is not None:
            out.extend(_structs_in(sub))
    return out


def _bounds(ann: Mapping[str, str]) -> tuple[float | None, float | None]:
    out: list[float | None] = []
    for key in ("faker.min", "faker.max"):
        raw = ann.get(key)
        if raw is None:
            out.append(None)
            continue
        try:
            out.append(float(raw) if any(c in raw for c in ".eE") else int(raw, 0))
        except ValueError:
            raise ConfigError(f"{key} = {raw!r} is not a number", hint=f'write e.g. ({key} = "10")') from None
    lo, hi = out
    if lo is not None and hi is not None and lo > hi:
        raise ConfigError(f"faker.min ({lo}) is greater than faker.max ({hi})", hint="swap them")
    return lo, hi


def _coerce(t: TypeRef, v: object, catalog: Catalog) -> object:
    """A Faker value made to fit ``t``, or None if it cannot."""
    kind = t.kind
    if isinstance(v, dt.datetime | dt.date) and kind is not Kind.STRING:
        ts = v if isinstance(v, dt.datetime) else dt.datetime(v.year, v.month, v.day)
        ts = ts if ts.tzinfo else ts.replace(tzinfo=dt.UTC)
        v = int(ts.timestamp() * (1000 if kind is Kind.I64 else 1))
    if kind is Kind.STRING:
        return v.isoformat() if isinstance(v, dt.date | dt.time) else str(v)
    if kind is Kind.BOOL:
        return v if isinstance(v, bool) else None
    if kind in INT_KINDS or kind is Kind.DOUBLE:
        try:
            num = float(v) if kind is Kind.DOUBLE else int(v)  # type: ignore[arg-type, call-overload]
        except (TypeError, ValueError, decimal.InvalidOperation, OverflowError):
            return None
        if isinstance(num, int):
            lo, hi = INT_RANGES[kind]
            num = min(max(num, lo), hi)
        return num
    if kind is Kind.BINARY:
        return v if isinstance(v, bytes) else str(v).encode()
    if kind is Kind.UUID:
        try:
            return v.bytes if isinstance(v, uuid.UUID) else uuid.UUID(str(v)).bytes
        except ValueError:
            return None
    if kind is Kind.ENUM:
        values = catalog.enum(str(t.name)).values
        if isinstance(v, str) and v in values:
            return values[v]
        return v if isinstance(v, int) and not isinstance(v, bool) and v in values.values() else None
    return None
