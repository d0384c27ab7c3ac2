"""The value generator the mock calls for every request: realistic, reproducible answers.

Same seed, same method, same arguments → the same answer, in any process: everything is derived from a blake2b
hash of (seed, service, method, canonical form of the arguments).

Generating a realistic struct costs tens of microseconds, more than everything else a mock does per call. So a
plain answer is drawn from a per-method pool of ``variants`` generated answers (256 by default, each generated
once, on first use), picked by that hash, then shaped to the request (ids echoed, lists cut to a ``limit``
argument): still a pure function of the call, varied, and cheap. Answers with stub overrides, and batch answers
(one value per requested key), are generated in full and cached per call key. Treat returned values as
read-only: they share parts with other answers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import threading
from collections.abc import Callable, Mapping
from typing import Any

from thriftbox.errors import ConfigError
from thriftbox.idl.classes import Classes
from thriftbox.idl.model import Catalog, Kind, TypeRef
from thriftbox.values.annotations import check_annotations, faker_annotations
from thriftbox.values.canon import canonical, derive_seed
from thriftbox.values.compiler import PlanCompiler
from thriftbox.values.convert import ValueConversionError
from thriftbox.values.methods import MethodPlan, plan_method
from thriftbox.values.pools import Pools
from thriftbox.values.scalars import Env, Gen

_MISSING = object()
_SCALARS = frozenset({int, str, bytes, bool, float, type(None)})


def today_utc() -> dt.datetime:
    """The start (midnight, UTC) of the current day: the default "now" of generated data."""
    now = dt.datetime.now(dt.UTC)
    return dt.datetime(now.year, now.month, now.day, tzinfo=dt.UTC)


class ValueGenerator:
    """Generates wire values for the types of one catalog.

    ``now`` is the instant generated time is relative to: past timestamps fall in the two years before it,
    future ones (``expiresAt``, ``dueDate``) from a day to a year after it, and the timestamps of what a create
    method returns in the hour before it. It defaults to the start of the current UTC day (:func:`today_utc`),
    so answers stay the same all day and "future" is always after the real now; pass it to pin answers (what
    a ``--now`` option feeds). A naive datetime is taken as UTC.
    """

    def __init__(
        self,
        catalog: Catalog,
        classes: Classes,
        seed: int = 0,
        max_depth: int = 3,
        *,
        locale: str = "en_US",
        now: dt.datetime | None = None,
        cache_size: int = 4096,
        variants: int = 256,
    ) -> None:
        self.catalog = catalog
        self.classes = classes
        self.seed = seed
        self.max_depth = max_depth
        anchor = now or today_utc()
        if anchor.tzinfo is None:
            anchor = anchor.replace(tzinfo=dt.UTC)
        self.now = anchor
        self._pools = Pools.shared(seed, locale)
        env = Env(self._pools, int(anchor.timestamp() * 1000))
        self._compiler = PlanCompiler(catalog, classes, env, max_depth)
        self._methods: dict[tuple[str, str], MethodPlan] = {}
        self._cache: dict[tuple[str, str, str], object] = {}
        self._cache_size = cache_size
        self._variants = variants
        self._pool: dict[tuple[str, str, int], object] = {}
        self._prefixes: dict[tuple[str, str], Any] = {}  # blake2b state of derive_seed's first three parts
        self._arg_names: dict[type, tuple[str, ...] | None] = {}
        self._cache_lock = threading.Lock()
        self._check_annotations()

    # -- the contract ----------------------------------------------------------------------------------

    def rng_for(self, service_id: str, method: str, args: object) -> random.Random:
        """The per-call random source: a pure function of (seed, service, method, args)."""
        return random.Random(derive_seed(self.seed, service_id, method, canonical(args)))

    def answer(self, service_id: str, method: str, args: object, overrides: object = None) -> object:
        """The success value of a call (None for void). ``overrides`` fixes parts of it (see :meth:`value`)."""
        plan = self._method(service_id, method)
        if plan.returns.kind is Kind.VOID:
            return None
        args_key = self._canonical_args(args)
        if plan.batch is None and self._variants:
            pick = self._call_seed(service_id, method, args_key) % self._variants
            if overrides is None:
                base = self._pool.get((service_id, method, pick), _MISSING)
                if base is _MISSING:
                    rng = random.Random(self._variant_seed(service_id, method, pick))
                    base = self._pool[(service_id, method, pick)] = plan.gen(rng, 0)
                return plan.reshape(base, args)
            seed = self._variant_seed(service_id, method, pick)
        else:
            seed = derive_seed(self.seed, service_id, method, args_key)
        key = (
            service_id,
            method,
            args_key if overrides is None else args_key + "\x1e" + canonical(overrides),
        )
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        rng = random.Random(seed)  # a stub's override leaves the other fields as the plain answer has them
        if overrides is None:
            result = plan.shape(plan.gen(rng, 0), args, rng)
        else:
            override = plan.echo_overrides(args, overrides)
            result = (
                plan.gen(rng, 0)
                if override is None
                else self._apply(plan.returns, plan.gen, override, rng, 0, "")
            )
        with self._cache_lock:
            if len(self._cache) >= self._cache_size:
                self._cache.clear()  # cheaper than evicting one by one, and calls rarely repeat that much
            self._cache[key] = result
        return result

    def answerer(self, service_id: str, method: str) -> Callable[[object], object]:
        """``args -> self.answer(service_id, method, args)``, specialized for the method: the mock's fast path
        calls it for every plain call, so the usual case (scalar arguments, an answer from the pool) skips the
        general checks."""
        plan = self._method(service_id, method)
        answer = self.answer
        if plan.returns.kind is Kind.VOID or plan.batch is not None or not self._variants:
            return lambda args: answer(service_id, method, args)
        variants, pool, arg_names, reshape = self._variants, self._pool, self._arg_names, plan.reshape
        self._call_seed(service_id, method, "")  # makes the hash prefix
        prefix = self._prefixes[(service_id, method)]

        def fast(args: object) -> object:
            cls = type(args)
            names = arg_names.get(cls)
            if names is None:
                return answer(service_id, method, args)
            values = tuple([getattr(args, n, None) for n in names])
            if not _SCALARS.issuperset(map(type, values)):
                return answer(service_id, method, args)
            h = prefix.copy()  # as in _call_seed(_canonical_args(args))
            named = tuple([(n, v) for n, v in zip(names, values, strict=True) if v is not None])
            h.update(repr((cls.__name__, named)).encode("utf-8", "surrogatepass"))
            base = pool.get((service_id, method, int.from_bytes(h.digest(), "big") % variants), _MISSING)
            if base is _MISSING:  # the variant's first use: generate it
                return answer(service_id, method, args)
            return reshape(base, args)

        return fast

    def _canonical_args(self, args: object) -> str:
        """``canonical(args)``, faster for the usual arguments struct of plain scalars (same text)."""
        cls = type(args)
        try:
            names = self._arg_names[cls]
        except KeyError:
            spec = getattr(cls, "thrift_spec", None)
            names = self._arg_names[cls] = (
                tuple(spec[i][1] for i in sorted(spec)) if isinstance(spec, dict) else None
            )
        if names is not None:
            values = tuple([getattr(args, n, None) for n in names])
            if _SCALARS.issuperset(map(type, values)):
                return repr(
                    (
                        cls.__name__,
                        tuple([(n, v) for n, v in zip(names, values, strict=True) if v is not None]),
                    )
                )
        return canonical(args)

    def _call_seed(self, service_id: str, method: str, args_key: str) -> int:
        """``derive_seed(self.seed, service_id, method, args_key)``, hashing the constant prefix once."""
        prefix = self._prefixes.get((service_id, method))
        if prefix is None:
            text = f"{self.seed}\x1f{service_id}\x1f{method}\x1f"
            prefix = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8)
            self._prefixes[(service_id, method)] = prefix
        h = prefix.copy()
        h.update(args_key.encode("utf-8", "surrogatepass"))
        return int.from_bytes(h.digest(), "big")

    def _variant_seed(self, service_id: str, method: str, pick: int) -> int:
        return derive_seed(self.seed, service_id, method, "\x1dvariant", pick)

    def value(
        self,
        t: TypeRef,
        rng: random.Random,
        *,
        hint: str | None = None,
        annotations: Mapping[str, str] | None = None,
        override: object = None,
        depth: int = 0,
        fresh: bool = False,
    ) -> object:
        """A value of ``t``. ``hint`` is a field name; ``override`` replaces the value, or, for a struct given
        as a dict (field → wire value, nested dicts for nested structs), fixes the fields it names. ``fresh``:
        a struct created just now (its past timestamps fall in the last hour), as a create method returns."""
        if fresh and t.kind is Kind.STRUCT:
            gen = self._compiler.fresh_struct(str(t.name))
        else:
            gen = self._compiler.gen(t, (hint, t.alias), faker_annotations(annotations))
        if override is None:
            return gen(rng, depth)
        return self._apply(t, gen, override, rng, depth, "")

    def exception(
        self, qname: str, rng: random.Random, override: Mapping[str, object] | None = None
    ) -> object:
        """An instance of the exception (or any struct) ``qname``, with ``override`` fields fixed."""
        return self.value(TypeRef(Kind.STRUCT, qname), rng, override=override)

    def value_kinds(self, qname: str) -> dict[str, str | None]:
        """The value kind ("email", "city", "timestamp"...; None: the type's default) each scalar field of the
        struct ``qname`` is generated as (fields with a ``faker`` annotation are left out)."""
        return {name: vk for name, (_, vk) in self._compiler.kinds(self.catalog.struct(qname)).items()}

    def finite(self, t: TypeRef) -> bool:
        """Whether ``t`` has any finite valid value. Not so for ``union A { 1: B b }  union B { 1: A a }``:
        such values are cut off after a few levels, with the innermost union empty."""
        return self._compiler.height(t) != float("inf")

    def prepare(self) -> None:
        """Compile every method's plan and fill the pools it uses now rather than on the first call."""
        for svc, m in self.catalog.iter_methods():
            self._method(svc.id, m.name)
            for f in m.throws:
                self._compiler.gen(f.type, (None, None))

    # -- internals -------------------------------------------------------------------------------------

    def _method(self, service_id: str, name: str) -> MethodPlan:
        plan = self._methods.get((service_id, name))
        if plan is not None:
            return plan
        svc = self.catalog.services.get(service_id)
        m = svc.methods.get(name) if svc else None
        if svc is None or m is None:
            raise ConfigError(
                f"unknown method {service_id}.{name}", hint="check the service id and method name"
            )
        plan = plan_method(self.catalog, self._compiler, m, faker_annotations(m.annotations))
        self._methods[(service_id, name)] = plan
        return plan

    def _apply(
        self, t: TypeRef, gen: Gen, override: object, rng: random.Random, depth: int, path: str
    ) -> Any:
        if t.kind is not Kind.STRUCT or not isinstance(override, Mapping):
            return override
        sdef = self.catalog.struct(str(t.name))
        before = rng.getstate()
        obj = gen(rng, depth)
        after = rng.getstate()
        rng.setstate(before)
        seed = rng.getrandbits(64)  # the struct's own first draw: its fixers then re-derive what they made
        rng.setstate(after)
        if obj is None:  # cut off (a type with no finite value): start from an empty instance
            cls = self.classes.struct(sdef.qname)
            obj = cls.__new__(cls)
            obj.__dict__.update(dict.fromkeys(f.name for f in sdef.fields))
        d = obj.__dict__
        if sdef.kind == "union" and override:
            for member in sdef.fields:
                d[member.name] = None
        for name, v in override.items():
            f = sdef.field_named(name)
            where = f"{path}.{name}" if path else name
            if f is None:
                raise ValueConversionError(where, f"{sdef.name} has no field {name!r}")
            if f.type.kind is Kind.STRUCT and isinstance(v, Mapping):
                v = self._apply(f.type, self._compiler.field_gen(sdef, f), v, rng, depth + 1, where)
            d[name] = v
        fixer = self._compiler.fixer(sdef.qname)
        if fixer is not None and override:  # what the override sets drives the rest: Grace Hopper's email
            fixer(d, seed, frozenset(override))
        return obj

    def _check_annotations(self) -> None:
        """Every ``faker`` annotation must name a real provider that fits its field: checked once, here."""
        check_annotations(self.catalog, self._compiler.env)
