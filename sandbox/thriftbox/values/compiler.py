"""Compile types into generator closures ("plans"), once per (type, name, annotations, struct).

A struct's plan is a tuple of per-field steps (name, requiredness, generator, default, recursion flag); a call
walks it with the per-call ``random.Random`` and does no string matching.

``depth`` counts nesting: each struct field and each container member is one level deeper. It bounds
recursion: beyond ``max_depth``, fields that can lead back to their own struct are left unset (optional and
default fields), empty (required containers, union members) or, for required struct fields, generated until
a hard limit.
It also shrinks containers deep down (see :func:`container_size`), so wide nested schemas stay small.
"""

from __future__ import annotations

import copy
import math
import random
import threading
from typing import Any

from thriftbox.idl.classes import Classes
from thriftbox.idl.model import BASE_KINDS, Catalog, Field, Kind, StructDef, TypeRef
from thriftbox.values import hints
from thriftbox.values.annotations import Annotations, annotated_gen, faker_annotations
from thriftbox.values.canon import canonical, decoded_key
from thriftbox.values.coherence import Fixer, struct_fixer
from thriftbox.values.convert import ValueConversionError, from_json
from thriftbox.values.fieldrng import FieldRng, mix, salt
from thriftbox.values.follow import TimeShape, follower, time_shapes
from thriftbox.values.places import GEO_KINDS
from thriftbox.values.scalars import MAKERS, Env, Gen, scalar_choice, scalar_gen
from thriftbox.values.validate import is_valid

OPTIONAL_RATE = 0.7  # how often an optional field is set
DEFAULT_RATE = 0.5  # how often a field with a declared default gets exactly that default
_HARD_LIMIT = 12  # levels past max_depth after which even required recursive structs stop

_NO_DEFAULT: Any = object()
_NOTHING_FIXED: frozenset[str] = frozenset()
SCALAR_KINDS = BASE_KINDS - {Kind.BOOL}
_MESSAGE_FIELDS = frozenset(
    ("message", "msg", "why", "reason", "error", "error_message", "detail", "description", "cause")
)


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
        self._fresh: dict[str, Gen] = {}
        self._fixers: dict[str, Fixer | None] = {}
        self._shapes: dict[str, TimeShape] | None = None
        self._reach: dict[str, frozenset[str]] = {}
        self._heights: dict[str, float] = {}
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

    # -- compiling -------------------------------------------------------------------------------------

    def _compile(
        self, t: TypeRef, names: tuple[str | None, ...], ann: Annotations, context: str | None
    ) -> Gen:
        kind = t.kind
        if kind is Kind.STRUCT:
            return self._struct(str(t.name))
        if ann and kind not in (Kind.LIST, Kind.SET, Kind.MAP, Kind.VOID):
            annotated = annotated_gen(t, dict(ann), self.env, self.catalog)
            if annotated is not None:
                return annotated
        if kind is Kind.ENUM:
            values = tuple(self.catalog.enum(str(t.name)).values.values()) or (0,)
            n = len(values)
            return lambda rng, depth: values[int(rng.random() * n)]
        if kind in (Kind.LIST, Kind.SET, Kind.MAP):
            return self._container(t, names, ann, context)
        if kind is Kind.VOID:
            return lambda rng, depth: None
        return scalar_gen(kind, names, context, self.env)

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

            struct_keys = t.key.kind is Kind.STRUCT

            def gen_map(rng: random.Random, depth: int) -> object:
                n = container_size(rng, depth)
                out: dict[Any, Any] = {}
                seen: set[object] = set()  # struct keys: as a client decodes them (unset = default)
                inner = depth + 1
                for _ in range(3 * n):
                    k = kg(rng, inner)
                    key = decoded_key(k) if struct_keys else k
                    if key not in seen:
                        seen.add(key)
                        out[k] = vg(rng, inner)
                        if len(out) == n:
                            break
                return out

            return gen_map
        eg = self.gen(t.elem, (t.elem.alias, hint), ann, context)  # list<UserId> followers: the alias first
        if t.kind is Kind.LIST and t.elem.kind in (Kind.STRUCT, Kind.LIST, Kind.SET, Kind.MAP):
            return lambda rng, depth: [eg(rng, depth + 1) for _ in range(container_size(rng, depth))]
        # sets must not repeat; lists of scalars look better without repeats ("tags": ["sale", "sale"])
        hashable = t.elem.kind not in (Kind.LIST, Kind.SET, Kind.MAP, Kind.STRUCT)
        key_of = decoded_key if t.elem.kind is Kind.STRUCT else canonical

        def gen_unique(rng: random.Random, depth: int) -> object:
            n = container_size(rng, depth)
            out: list[Any] = []
            seen: set[Any] = set()
            inner = depth + 1
            for _ in range(3 * n):
                v = eg(rng, inner)
                k = v if hashable else key_of(v)
                if k not in seen:
                    seen.add(k)
                    out.append(v)
                    if len(out) == n:
                        break
            return out

        return gen_unique

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

    def fresh_struct(self, qname: str) -> Gen:
        """The generator of a ``qname`` just created: its own past timestamps fall in the last hour."""
        g = self._fresh.get(qname)
        if g is None:
            with self._lock:
                g = self._fresh.get(qname)
                if g is None:
                    self._struct(qname)  # recursive fields find the plain generator
                    g = self._fresh[qname] = self._build_struct(self.catalog.struct(qname), fresh=True)
        return g

    def _recent(self, sdef: StructDef, f: Field) -> Gen | None:
        """A past timestamp field's generator for the last hour, or None if ``f`` is not one."""
        if f.type.kind not in SCALAR_KINDS or faker_annotations(f.annotations):
            return None
        if scalar_choice(f.type.kind, (f.name, f.type.alias), sdef.name, self.env)[1] != "timestamp":
            return None
        return MAKERS["recent_timestamp"](f.type.kind, hints.normalize(f.name), self.env)

    def _build_struct(self, sdef: StructDef, fresh: bool = False) -> Gen:
        cls = self.classes.struct(sdef.qname)
        new = cls.__new__
        max_depth, hard = self.max_depth, self.max_depth + _HARD_LIMIT
        steps: list[tuple[str, bool, Gen, Any, bool, Gen | None, int]] = []
        for f in sdef.fields:
            recursive = self._reaches(f.type, sdef.qname)
            empty: Gen | None = None
            if (
                recursive
                and (f.required or sdef.kind == "union")
                and f.type.kind in (Kind.LIST, Kind.SET, Kind.MAP)
            ):
                empty = (lambda rng, depth: {}) if f.type.kind is Kind.MAP else (lambda rng, depth: [])
            optional = f.requiredness != "required" if recursive else f.requiredness == "optional"
            gen = (self._recent(sdef, f) if fresh else None) or self.field_gen(sdef, f)
            steps.append((f.name, optional, gen, self._default(f), recursive, empty, salt("field", f.name)))
        plan = tuple(steps)
        names = tuple(f.name for f in sdef.fields)
        fixer = self.fixer(sdef.qname)
        follow = follower(sdef.qname, self._time_shapes(), self.env.now_ms)

        if sdef.kind == "union":
            # beyond max_depth: a member that cannot lead back here, else one that ends soonest
            heights = [self.height(f.type) for f in sdef.fields]
            lowest = min(heights, default=0.0)
            safe = tuple(s for s in plan if not s[4]) or tuple(
                s for s, h in zip(plan, heights, strict=True) if h == lowest
            )

            def gen_union(rng: random.Random, depth: int) -> object:
                obj = new(cls)
                d = obj.__dict__
                for name in names:
                    d[name] = None
                if not plan or depth >= hard:  # hard: only for unions with no finite value at all
                    return obj
                choices = safe if depth >= max_depth else plan
                base = rng.getrandbits(64)  # the member with the highest score: adding one keeps the others'
                name, _, gen, default, recursive, empty, fsalt = max(choices, key=lambda s: mix(base ^ s[6]))
                frng = FieldRng(mix(base ^ fsalt))
                if recursive and depth >= max_depth and empty is not None:
                    d[name] = empty(frng, depth)
                elif default is not _NO_DEFAULT and frng.random() < DEFAULT_RATE:
                    d[name] = copy.deepcopy(default)
                else:
                    d[name] = gen(frng, depth + 1)
                return obj

            return gen_union

        def gen_struct(rng: random.Random, depth: int) -> object:
            obj = new(cls)
            d = obj.__dict__
            cut = depth >= max_depth
            child = depth + 1
            base = rng.getrandbits(64)  # each field draws from its own source: see fieldrng
            for name, optional, gen, default, recursive, empty, fsalt in plan:
                if recursive and cut:
                    if optional or depth >= hard:
                        d[name] = None
                        continue
                    if empty is not None:
                        d[name] = empty(rng, depth)
                        continue
                frng = FieldRng(mix(base ^ fsalt))
                if optional and not (recursive and cut) and frng.random() >= OPTIONAL_RATE:
                    d[name] = None
                    continue
                if default is not _NO_DEFAULT and frng.random() < DEFAULT_RATE:
                    d[name] = (
                        default if type(default) in (int, str, float, bool, bytes) else copy.deepcopy(default)
                    )
                else:
                    d[name] = gen(frng, child)
            if fixer is not None:
                fixer(d, base, _NOTHING_FIXED)
            if follow is not None:
                follow(d)
            return obj

        return gen_struct

    def fixer(self, qname: str) -> Fixer | None:
        """What makes the fields of a ``qname`` agree (see :mod:`.coherence`), or None."""
        if qname not in self._fixers:
            sdef = self.catalog.struct(qname)
            fixer = None
            if sdef.kind != "exception":
                kinds = self.kinds(sdef)
                defaults = frozenset(f.name for f in sdef.fields if f.default is not None)
                children = []
                for f in sdef.fields:
                    if f.type.kind is Kind.STRUCT:
                        geo = {
                            n: GEO_KINDS[vk]
                            for n, (_, vk) in self.kinds(self.catalog.struct(str(f.type.name))).items()
                            if vk is not None and vk in GEO_KINDS
                        }
                        if geo:
                            children.append((f.name, geo))
                fixer = struct_fixer(kinds, defaults, self.env.pools, self.env.now_ms, tuple(children))
            self._fixers[qname] = fixer
        return self._fixers[qname]

    def kinds(self, sdef: StructDef) -> dict[str, tuple[Kind, str | None]]:
        """The scalar fields of ``sdef`` (without annotations) and the value kinds they are generated as."""
        return {
            f.name: (f.type.kind, scalar_choice(f.type.kind, (f.name, f.type.alias), sdef.name, self.env)[1])
            for f in sdef.fields
            if f.type.kind in SCALAR_KINDS and not faker_annotations(f.annotations)
        }

    def _time_shapes(self) -> dict[str, TimeShape]:
        if self._shapes is None:
            self._shapes = time_shapes(
                self.catalog, lambda sdef, name: self.kinds(sdef).get(name, (None, None))[1]
            )
        return self._shapes

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

    def height(self, t: TypeRef) -> float:
        """How many struct levels the smallest valid value of ``t`` needs (inf: no finite value exists)."""
        if t.kind is not Kind.STRUCT:
            return 0.0  # scalars, and containers, which may be empty
        if not self._heights:
            heights = dict.fromkeys(self.catalog.structs, math.inf)

            def of(ft: TypeRef) -> float:
                return heights[str(ft.name)] if ft.kind is Kind.STRUCT else 0.0

            changed = True
            while changed:  # least fixpoint, like Bellman-Ford
                changed = False
                for q, sd in self.catalog.structs.items():
                    if sd.kind == "union":
                        h = 1 + min((of(fd.type) for fd in sd.fields), default=0.0)
                    else:
                        h = 1 + max((of(fd.type) for fd in sd.fields if fd.required), default=0.0)
                    if h < heights[q]:
                        heights[q] = h
                        changed = True
            self._heights = heights
        return self._heights[str(t.name)]

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


def container_size(rng: random.Random, depth: int) -> int:
    """1-4 members near the top, fewer deeper down: nested containers of structs stay small."""
    if depth <= 3:
        return 1 + rng.getrandbits(2)
    return 1 + rng.getrandbits(1) if depth <= 6 else 1


def _structs_in(t: TypeRef) -> list[str]:
    if t.kind is Kind.STRUCT:
        return [str(t.name)]
    out: list[str] = []
    for sub in (t.key, t.elem):
        if sub is not None:
            out.extend(_structs_in(sub))
    return out
