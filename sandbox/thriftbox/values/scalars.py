"""Generators for single scalar values, chosen once per field from its name, alias and Thrift type.

A generator is ``gen(rng, depth) -> value``: a closure with everything it needs bound at plan time, so a call
does no name matching. :func:`scalar_gen` tries the value kinds a name suggests (see :mod:`hints`) in order
and returns the first that fits the type, else a plain but plausible default.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from thriftbox.idl.model import Kind
from thriftbox.values import hints
from thriftbox.values.convert import INT_RANGES
from thriftbox.values.pools import POOL_BITS, POOL_KINDS, Pools

Gen = Callable[[random.Random, int], object]

_HOUR_MS = 3_600_000
_DAY_MS = 86_400_000
_YEAR_MS = 365 * _DAY_MS
_HEX = "0123456789abcdef"
_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ"


@dataclass(frozen=True)
class Env:
    """What scalar generators share: the pools and the fixed 'now' that recent dates are relative to."""

    pools: Pools
    now_ms: int  # past timestamps are at most 2 years before this instant, future ones at most 1 year after


Maker = Callable[[Kind, str, Env], Gen | None]


def _const(value: object) -> Gen:
    return lambda rng, depth: value


def _int_range(kind: Kind, lo: int, hi: int) -> Gen | None:
    """Uniform ints in [lo, hi] clipped to the width of ``kind``; None if nothing is left."""
    if kind not in INT_RANGES:
        return None
    wlo, whi = INT_RANGES[kind]
    lo, hi = max(lo, wlo), min(hi, whi)
    if lo > hi:
        return None
    span = hi - lo + 1
    if span < 2**52:  # rng.random() is ~10x cheaper than randint and exact enough for such ranges
        return lambda rng, depth: lo + int(rng.random() * span)
    return lambda rng, depth: rng.randint(lo, hi)


def _pooled(pool_kind: str) -> Maker:
    def make(kind: Kind, name: str, env: Env) -> Gen | None:
        if kind is not Kind.STRING:
            return None
        pool = env.pools.get(pool_kind)
        return lambda rng, depth: pool[rng.getrandbits(POOL_BITS)]

    return make


def _base62(n: int, length: int) -> str:
    out = []
    for _ in range(length):
        n, r = divmod(n, 62)
        out.append(_ALNUM[r])
    return "".join(out)


def _hex(rng: random.Random, n: int) -> str:
    return f"{rng.getrandbits(4 * n):0{n}x}"


def _uuid_int(rng: random.Random) -> int:
    n = rng.getrandbits(128)
    return (n & ~(0xF000 << 64) & ~(0xC000 << 48)) | (0x4000 << 64) | (0x8000 << 48)  # version 4, RFC variant


def uuid_bytes(rng: random.Random, depth: int = 0) -> bytes:
    return _uuid_int(rng).to_bytes(16, "big")


def _uuid_str(rng: random.Random, depth: int = 0) -> str:
    return str(uuid.UUID(int=_uuid_int(rng)))


def _unit(name: str, default: str) -> str:
    last = name.rsplit("_", 1)[-1]
    if last in ("ms", "milli", "millis", "msec"):
        return "ms"
    if last in ("sec", "secs", "second", "seconds", "s", "epoch"):
        return "s"
    if last in ("us", "usec", "micro", "micros"):
        return "us"
    if last in ("ns", "nano", "nanos"):
        return "ns"
    return default


_PER_MS = {"s": 0.001, "ms": 1, "us": 1000, "ns": 1_000_000}


def _instant(lo_ms: int, hi_ms: int) -> Maker:
    """Instants between now+lo and now+hi, shaped by the type: epoch ms (i64), s (i32), ISO text (string)."""

    def make(kind: Kind, name: str, env: Env) -> Gen | None:
        start, span = env.now_ms + lo_ms, hi_ms - lo_ms
        if kind is Kind.STRING:

            def iso(rng: random.Random, depth: int) -> str:
                t = dt.datetime.fromtimestamp((start + int(rng.random() * span)) // 1000, dt.UTC)
                return t.strftime("%Y-%m-%dT%H:%M:%SZ")

            return iso
        if kind is Kind.DOUBLE:
            return lambda rng, depth: round((start + int(rng.random() * span)) / 1000, 3)
        unit = _unit(name, "ms" if kind is Kind.I64 else "s")
        if kind is Kind.I32:
            unit = "s"  # ms overflow an i32
        elif kind is not Kind.I64:
            return None
        per = _PER_MS[unit]
        if per == 1:
            return lambda rng, depth: start + int(rng.random() * span)
        return lambda rng, depth: int((start + int(rng.random() * span)) * per)

    return make


def _date(lo_days: int, hi_days: int) -> Maker:
    def make(kind: Kind, name: str, env: Env) -> Gen | None:
        today = env.now_ms // _DAY_MS
        if kind is Kind.STRING:
            epoch = dt.date(1970, 1, 1)
            return lambda rng, depth: (
                epoch + dt.timedelta(days=today + rng.randint(lo_days, hi_days))
            ).isoformat()
        per = 1 if kind is Kind.I64 else (0.001 if kind is Kind.I32 else None)
        if per is None:
            return None
        return lambda rng, depth: int((today + rng.randint(lo_days, hi_days)) * _DAY_MS * per)

    return make


def _number(int_lo: int, int_hi: int, float_lo: float, float_hi: float, digits: int) -> Maker:
    def make(kind: Kind, name: str, env: Env) -> Gen | None:
        if kind is Kind.DOUBLE:
            return lambda rng, depth: round(rng.uniform(float_lo, float_hi), digits)
        if kind is Kind.STRING:
            return lambda rng, depth: f"{rng.uniform(float_lo, float_hi):.{digits}f}"
        return _int_range(kind, int_lo, int_hi)

    return make


def _ints(lo: int, hi: int, as_string: bool = False) -> Maker:
    def make(kind: Kind, name: str, env: Env) -> Gen | None:
        if kind is Kind.DOUBLE:
            return lambda rng, depth: float(rng.randint(lo, hi))
        if kind is Kind.STRING and as_string:
            return lambda rng, depth: str(rng.randint(lo, hi))
        return _int_range(kind, lo, hi)

    return make


_CENTS = (0.99, 0.99, 0.99, 0.95, 0.49, 0.5, 0.0, 0.25, 0.75, 0.89)


def _price(kind: Kind, name: str, env: Env) -> Gen | None:
    if kind is Kind.DOUBLE:
        return lambda rng, depth: round(1 + int(rng.random() * 299) + _CENTS[int(rng.random() * 10)], 2)
    if kind is Kind.STRING:
        return lambda rng, depth: f"{1 + int(rng.random() * 299) + _CENTS[int(rng.random() * 10)]:.2f}"
    if name.endswith(("cent", "cents")):
        return _int_range(kind, 99, 49_999)
    if name.endswith(("micro", "micros")):
        return _int_range(kind, 1_000_000, 499_000_000)
    return _int_range(kind, 1, 500)


_DISCOUNTS = (5, 10, 10, 15, 20, 20, 25, 30, 40, 50)


def _discount(kind: Kind, name: str, env: Env) -> Gen | None:
    if kind is Kind.DOUBLE:
        return lambda rng, depth: float(_DISCOUNTS[rng.randrange(len(_DISCOUNTS))])
    return _int_range(kind, 5, 50)


def _duration(kind: Kind, name: str, env: Env) -> Gen | None:
    seconds_by_default = any(
        w in name for w in ("ttl", "uptime", "interval", "max_age", "duration", "runtime")
    )
    unit = _unit(name, "s" if seconds_by_default else "ms")
    if kind is Kind.DOUBLE:
        return lambda rng, depth: round(rng.uniform(0.05, 60.0), 3)
    if kind is Kind.STRING:
        return lambda rng, depth: f"PT{rng.randint(1, 59)}M{rng.randint(0, 59)}S"
    lo, hi = {"s": (1, 3600), "ms": (5, 5000), "us": (50, 5_000_000), "ns": (50_000, 5_000_000_000)}[unit]
    return _int_range(kind, lo, hi)


def _id(kind: Kind, name: str, env: Env) -> Gen | None:
    if kind is Kind.STRING:
        words = name.split("_")
        if len(words) < 2:
            return _uuid_str  # a bare "id": a UUID is what most APIs use
        prefix = words[-2][:12] + "_"  # "userId" → "user_4fKz81QpLx0a", like Stripe's "cus_..."
        return lambda rng, depth: prefix + _base62(rng.getrandbits(72), 12)
    if kind in (Kind.BINARY, Kind.UUID):
        return uuid_bytes
    return _int_range(kind, 1, 9_999_999 if kind is not Kind.I64 else 9_999_999_999)


def _secret(length: int) -> Maker:
    def make(kind: Kind, name: str, env: Env) -> Gen | None:
        if kind is Kind.STRING:
            return lambda rng, depth: _hex(rng, length)
        if kind is Kind.BINARY:
            return lambda rng, depth: rng.randbytes(length // 2)
        return None

    return make


def _uuid(kind: Kind, name: str, env: Env) -> Gen | None:
    if kind is Kind.STRING:
        return _uuid_str
    return uuid_bytes if kind in (Kind.BINARY, Kind.UUID) else None


def _zip(kind: Kind, name: str, env: Env) -> Gen | None:
    return _pooled("zip")(kind, name, env) or _int_range(kind, 10_000, 99_999)


def _year(kind: Kind, name: str, env: Env) -> Gen | None:
    year = dt.datetime.fromtimestamp(env.now_ms // 1000, dt.UTC).year
    return _ints(year - 25, year, as_string=True)(kind, name, env)


def _month(kind: Kind, name: str, env: Env) -> Gen | None:
    return _pooled("month")(kind, name, env) or _int_range(kind, 1, 12)


def _version(kind: Kind, name: str, env: Env) -> Gen | None:
    if kind is Kind.STRING:
        return lambda rng, depth: f"{rng.randint(1, 4)}.{rng.randint(0, 12)}.{rng.randint(0, 20)}"
    return _ints(1, 20)(kind, name, env)


def _sku(kind: Kind, name: str, env: Env) -> Gen | None:
    if kind is not Kind.STRING:
        return None
    return lambda rng, depth: (
        "".join([_UPPER[rng.randrange(24)] for _ in range(3)]) + f"-{rng.randint(10000, 99999)}"
    )


def _code(kind: Kind, name: str, env: Env) -> Gen | None:
    if kind is Kind.STRING:
        return lambda rng, depth: "".join([(_UPPER + "23456789")[rng.randrange(32)] for _ in range(6)])
    return _int_range(kind, 1000, 9999) or _int_range(kind, 1, 99)


_HTTP = (200, 200, 200, 200, 201, 204, 301, 400, 401, 403, 404, 404, 409, 429, 500, 503)


def _http_status(kind: Kind, name: str, env: Env) -> Gen | None:
    if kind in (Kind.I16, Kind.I32, Kind.I64):
        return lambda rng, depth: _HTTP[rng.getrandbits(4)]
    return None


def _hex_color(kind: Kind, name: str, env: Env) -> Gen | None:
    return (lambda rng, depth: f"#{rng.getrandbits(24):06x}") if kind is Kind.STRING else None


def _coord(limit: float) -> Maker:
    def make(kind: Kind, name: str, env: Env) -> Gen | None:
        if kind is Kind.DOUBLE:
            return lambda rng, depth: round(rng.uniform(-limit, limit), 6)
        if kind is Kind.STRING:
            return lambda rng, depth: f"{rng.uniform(-limit, limit):.6f}"
        return None

    return make


MAKERS: dict[str, Maker] = {kind: _pooled(kind) for kind in POOL_KINDS}
MAKERS.update(
    {
        "zip": _zip,
        "month": _month,
        "year": _year,
        "uuid": _uuid,
        "id": _id,
        "password": _secret(16),
        "token": _secret(32),
        "hash": _secret(64),
        "timestamp": _instant(-2 * _YEAR_MS, 0),
        "future_timestamp": _instant(_DAY_MS, _YEAR_MS),
        "recent_timestamp": _instant(-_HOUR_MS, 0),  # what a create method returns was made just now
        "future_date": _date(1, 365),
        "date": _date(-730, 0),
        "birthdate": _date(-90 * 365, -18 * 365),
        "duration": _duration,
        "price": _price,
        "rating": _number(1, 5, 2.5, 5.0, 1),
        "score": _number(0, 100, 0.0, 1.0, 3),
        "percent": _number(0, 100, 0.0, 100.0, 1),
        "discount": _discount,
        "dimension": _number(64, 2048, 10.0, 2000.0, 1),
        "measure": _number(1, 1000, 0.1, 1000.0, 2),
        "age": _ints(18, 90),
        "count": _ints(0, 100),
        "quantity": _ints(1, 10),
        "rank": _ints(1, 10),
        "port": _ints(1024, 65535, as_string=True),
        "http_status": _http_status,
        "code": _code,
        "version": _version,
        "sku": _sku,
        "hex_color": _hex_color,
        "latitude": _coord(90.0),
        "longitude": _coord(180.0),
    }
)

_DEFAULT_INT = {Kind.BYTE: 100, Kind.I16: 1000, Kind.I32: 10_000, Kind.I64: 100_000}


def default_gen(kind: Kind, env: Env) -> Gen:
    """A plausible value when no name rule fits: small non-negative ints, short phrases, 16 random bytes."""
    if kind is Kind.BOOL:
        return lambda rng, depth: rng.random() < 0.5
    if kind in _DEFAULT_INT:
        hi = _DEFAULT_INT[kind]
        return lambda rng, depth: int(rng.random() * (hi + 1))
    if kind is Kind.DOUBLE:
        return lambda rng, depth: round(rng.uniform(0.0, 1000.0), 2)
    if kind is Kind.STRING:
        pool = env.pools.get("phrase")
        return lambda rng, depth: pool[rng.getrandbits(POOL_BITS)]
    if kind is Kind.UUID:
        return uuid_bytes
    if kind is Kind.BINARY:
        return lambda rng, depth: rng.randbytes(16)
    raise ValueError(f"not a scalar kind: {kind}")


def scalar_gen(kind: Kind, names: Sequence[str | None], context: str | None, env: Env) -> Gen:
    """The generator for a scalar of type ``kind`` named by ``names`` (field name first, then the alias)."""
    return scalar_choice(kind, names, context, env)[0]


def scalar_choice(
    kind: Kind, names: Sequence[str | None], context: str | None, env: Env
) -> tuple[Gen, str | None]:
    """:func:`scalar_gen` and the value kind it chose (None for the type's default)."""
    if kind is Kind.BOOL:
        name = next((n for n in names if n), None)
        p = hints.true_probability(name)
        return (lambda rng, depth: rng.random() < p), None
    for name in names:
        if not name:
            continue
        norm = hints.normalize(name)
        if norm == "id" and context:  # Item.id looks like Review.itemId: "item_4fKz81QpLx0a"
            norm = hints.normalize(context) + "_id"
        for value_kind in hints.candidates(name, context):
            gen = MAKERS[value_kind](kind, norm, env)
            if gen is not None:
                return gen, value_kind
    return default_gen(kind, env), None
