"""Field annotations that steer generation: ``(faker = "user_name")``, ``(faker.min = "1", faker.max = "9")``.

Provider names are checked once, when the generator is built (:func:`check_annotation`); generation then
picks from a pool of that provider's values, converted to the field's type.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Mapping

from thriftbox.errors import ConfigError, Location
from thriftbox.idl.model import Catalog, Kind, TypeRef
from thriftbox.values.convert import INT_KINDS, INT_RANGES
from thriftbox.values.scalars import Env, Gen

Annotations = tuple[tuple[str, str], ...]


def faker_annotations(annotations: Mapping[str, str] | None) -> Annotations:
    """The ``faker``/``faker.*`` annotations, as a hashable key."""
    if not annotations:
        return ()
    return tuple(sorted((k, v) for k, v in annotations.items() if k == "faker" or k.startswith("faker.")))


def check_annotation(
    t: TypeRef, ann: Mapping[str, str], env: Env, catalog: Catalog, where: Location | None
) -> None:
    """Raise ConfigError (at ``where``) if ``ann`` names no Faker provider or one whose values cannot fit ``t``."""
    if not ann:
        return
    leaf = t
    while leaf.kind in (Kind.LIST, Kind.SET, Kind.MAP) and leaf.elem is not None:
        leaf = leaf.elem
    try:
        bounds(ann)
        if "faker" in ann:
            sample = env.pools.check_provider(ann["faker"])
            if coerce(leaf, sample, catalog) is None:
                raise ConfigError(
                    f"Faker provider {ann['faker']!r} gives {type(sample).__name__} values, "
                    f"which do not fit a {leaf}",
                    hint="pick a provider that returns the field's type",
                )
    except ConfigError as err:
        raise ConfigError(err.message, hint=err.hint, location=where) from None


def check_annotations(
    catalog: Catalog, env: Env | None = None, *, seed: int = 0, locale: str = "en_US"
) -> None:
    """Raise ConfigError (at the annotation, with a did-you-mean hint) for the first ``faker`` annotation of
    ``catalog`` that names no provider or one that cannot fit its field. Needs only the catalog: ``serve`` and
    ``thriftbox check`` can both call it when they load the IDL."""
    if env is None:
        from thriftbox.values.pools import Pools

        env = Env(Pools.shared(seed, locale), 0)
    for sdef in catalog.structs.values():
        for f in sdef.fields:
            ann = faker_annotations(f.annotations)
            if ann:
                check_annotation(f.type, dict(ann), env, catalog, Location(sdef.file, f.line, f.col))
    for svc, m in catalog.iter_methods():
        ann = faker_annotations(m.annotations)
        if ann and m.declared_in == svc.id:
            check_annotation(m.returns, dict(ann), env, catalog, Location(svc.file, m.line, m.col))


def annotated_gen(t: TypeRef, ann: Mapping[str, str], env: Env, catalog: Catalog) -> Gen | None:
    """The generator the annotations ask for, or None if they say nothing about a ``t``."""
    lo, hi = bounds(ann)
    if "faker" in ann:
        coerced = (coerce(t, v, catalog) for v in env.pools.provider(ann["faker"]))
        values = tuple(v for v in coerced if v is not None)  # the sample was checked: most values fit
        if not values:
            return None
        n = len(values)
        return lambda rng, depth: values[int(rng.random() * n)]
    if lo is None and hi is None:
        return None
    if t.kind is Kind.DOUBLE:
        flo = lo if lo is not None else min(0.0, float(hi or 0) - 100)
        fhi = hi if hi is not None else flo + 1000.0
        return lambda rng, depth: round(rng.uniform(flo, fhi), 2)
    if t.kind in INT_RANGES:
        wlo, whi = INT_RANGES[t.kind]
        ilo = max(wlo, int(lo) if lo is not None else min(0, int(hi or 0) - 100))
        ihi = min(whi, int(hi) if hi is not None else ilo + 100)
        if ilo <= ihi:
            return lambda rng, depth: rng.randint(ilo, ihi)
    return None


def bounds(ann: Mapping[str, str]) -> tuple[float | None, float | None]:
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


def coerce(t: TypeRef, v: object, catalog: Catalog) -> object:
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
