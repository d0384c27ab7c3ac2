"""Make the fields of one struct agree with each other, after they are generated one by one.

* people: Diana Pruitt's email is diana.pruitt@gmail.com (not kturner@smith.com), her handle dianap, her
  ``name``/``fullName``/``displayName`` "Diana Pruitt"; her ``age`` agrees with her ``birthday``;
* time: ``updatedAt``/``lastSeenAt`` are never before ``createdAt``;
* places (:mod:`.places`): city, region, postal code, country, time zone, locale and currency of one place;
* files (:mod:`.files`): name, extension, MIME type, path and size of one file type.

A fixer is ``fix(fields, seed, fixed)``: ``fixed`` names the fields a stub or the request set, which are kept
and drive the others (a stub's Grace Hopper gets a Grace Hopper email). Only fields whose value was generated
are touched (not declared defaults, not unset optional fields). Randomness comes from ``seed`` mixed with the
field's name, so a field's value never depends on which other fields the struct has.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from thriftbox.idl.model import Kind
from thriftbox.values.fieldrng import FieldRng, mix, salt
from thriftbox.values.files import file_fixer
from thriftbox.values.hints import normalize
from thriftbox.values.places import place_fixer
from thriftbox.values.pools import POOL_BITS, Pools

Fixer = Callable[[dict[str, Any], int, frozenset[str]], None]  # (fields, seed, fields not to change)
FieldKinds = Mapping[str, tuple[Kind, str | None]]  # field name → (Thrift kind, value kind or None)
_DAY_MS = 86_400_000


def struct_fixer(
    kinds: FieldKinds,
    defaults: frozenset[str],
    pools: Pools,
    now_ms: int = 0,
    geo_children: tuple[tuple[str, Mapping[str, str]], ...] = (),
) -> Fixer | None:
    """One fixer doing all that applies to a struct with these fields, or None if nothing does."""
    usable = {name: kk for name, kk in kinds.items() if name not in defaults}
    fixers = [
        f
        for f in (
            person_fixer(usable, pools),
            age_fixer(usable, now_ms),
            timeline_fixer(usable),
            place_fixer(usable, geo_children, pools.locale),
            file_fixer(usable),
        )
        if f
    ]
    if not fixers:
        return None
    if len(fixers) == 1:
        return fixers[0]

    def fix_all(d: dict[str, Any], seed: int, fixed: frozenset[str]) -> None:
        for fix in fixers:
            fix(d, seed, fixed)

    return fix_all


def timeline_fixer(kinds: FieldKinds) -> Fixer | None:
    """``createdAt`` becomes the earliest of the struct's past timestamps of the same type."""
    created = next((n for n, (_, vk) in kinds.items() if vk == "timestamp" and is_creation(n)), None)
    if created is None:
        return None
    ttype = kinds[created][0]
    later = tuple(n for n, (tk, vk) in kinds.items() if vk == "timestamp" and tk is ttype and n != created)
    if not later or ttype is Kind.STRING:
        return None

    def fix(d: dict[str, Any], seed: int, fixed: frozenset[str]) -> None:
        first = d.get(created)
        if first is None:
            return
        for name in later:
            v = d.get(name)
            if v is None or v >= first or name in fixed:
                continue
            if created in fixed:
                d[name] = first
            else:
                d[created], d[name] = v, first
                first = v

    return fix


def is_creation(name: str) -> bool:
    return normalize(name).split("_")[0] in (
        "created",
        "creation",
        "registered",
        "joined",
        "signup",
        "inserted",
        "posted",
        "published",
        "submitted",
    )


def age_fixer(kinds: FieldKinds, now_ms: int) -> Fixer | None:
    """``age`` is the number of whole years from ``birthday`` to now (or the birthday moves to fit a fixed age)."""
    births = [
        n for n, (tk, vk) in kinds.items() if vk == "birthdate" and tk in (Kind.STRING, Kind.I64, Kind.I32)
    ]
    ages = [
        n for n, (tk, vk) in kinds.items() if vk == "age" and tk in (Kind.BYTE, Kind.I16, Kind.I32, Kind.I64)
    ]
    if not births or not ages:
        return None
    birth, kind = births[0], kinds[births[0]][0]
    today = dt.date(1970, 1, 1) + dt.timedelta(days=now_ms // _DAY_MS)

    def fix(d: dict[str, Any], seed: int, fixed: frozenset[str]) -> None:
        born = read_date(d.get(birth), kind)
        if born is None:
            return
        fixed_age = next((d[n] for n in ages if n in fixed and isinstance(d.get(n), int)), None)
        if fixed_age is not None and birth not in fixed:
            year = today.year - fixed_age - (1 if (born.month, born.day) > (today.month, today.day) else 0)
            born = born.replace(year=year, day=min(born.day, 28 if born.month == 2 else born.day))
            d[birth] = write_date(born, kind)
        age = today.year - born.year - (1 if (born.month, born.day) > (today.month, today.day) else 0)
        for n in ages:
            if n not in fixed and d.get(n) is not None:
                d[n] = age

    return fix


def read_date(v: object, kind: Kind) -> dt.date | None:
    try:
        if isinstance(v, str):
            return dt.date.fromisoformat(v[:10])
        if isinstance(v, int) and not isinstance(v, bool):
            ms = v if kind is Kind.I64 else v * 1000
            return dt.date(1970, 1, 1) + dt.timedelta(days=ms // _DAY_MS)
    except (ValueError, OverflowError):
        return None
    return None


def write_date(day: dt.date, kind: Kind) -> object:
    if kind is Kind.STRING:
        return day.isoformat()
    ms = (day - dt.date(1970, 1, 1)).days * _DAY_MS
    return ms if kind is Kind.I64 else ms // 1000


@lru_cache(maxsize=8192)  # names come from pools: few distinct values
def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "".join(c for c in folded.lower() if c.isalnum())


_LOCAL_PARTS: tuple[Callable[[str, str, FieldRng], str], ...] = (
    lambda a, b, rng: f"{a}.{b}",
    lambda a, b, rng: f"{a}{b}",
    lambda a, b, rng: f"{a[:1]}{b}",
    lambda a, b, rng: f"{a}_{b}",
    lambda a, b, rng: f"{a}.{b}{1 + int(rng.random() * 99)}",
    lambda a, b, rng: f"{a}{1 + int(rng.random() * 99)}",
    lambda a, b, rng: f"{a[:1]}.{b}",
    lambda a, b, rng: f"{b}.{a}",
)
_HANDLES: tuple[Callable[[str, str, FieldRng], str], ...] = (
    lambda a, b, rng: f"{a}{b[:1]}",
    lambda a, b, rng: f"{a}_{b}",
    lambda a, b, rng: f"{a[:1]}{b}{1 + int(rng.random() * 99)}",
    lambda a, b, rng: f"{a}{1 + int(rng.random() * 999)}",
)
# the record's own person: `name` in a User, fullName, displayName; not authorName or ownerName
_OWN_NAMES = frozenset(
    ("name", "full_name", "display_name", "real_name", "person_name", "fullname", "displayname")
)


def person_fixer(kinds: FieldKinds, pools: Pools) -> Fixer | None:
    """Full names, emails and handles made from the struct's person name, if it has one."""

    def named(kind: str) -> list[str]:
        return [name for name, (tk, vk) in kinds.items() if vk == kind and tk is Kind.STRING]

    firsts, lasts = named("first_name"), named("last_name")
    fulls = [n for n in named("name") if normalize(n) in _OWN_NAMES]
    emails, handles = named("email"), named("username")
    first, last = (firsts[0] if firsts else None), (lasts[0] if lasts else None)
    if not ((first and last) or fulls) or not (
        emails or handles or (first and last and fulls) or len(fulls) > 1
    ):
        return None
    domains = pools.get("email_domain")

    def source(d: dict[str, Any], fixed: frozenset[str]) -> tuple[str, str] | None:
        given = d.get(first) if first else None
        family = d.get(last) if last else None
        full = next((d[n] for n in fulls if n in fixed and isinstance(d.get(n), str) and " " in d[n]), None)
        if full is not None and first not in fixed and last not in fixed:
            return full.split(" ", 1)[0], full.split(" ", 1)[1]
        if isinstance(given, str) and isinstance(family, str):
            return given, family
        full = next((d[n] for n in fulls if isinstance(d.get(n), str) and " " in d[n]), None)
        return (full.split(" ", 1)[0], full.split(" ", 1)[1]) if full is not None else None

    def fix(d: dict[str, Any], seed: int, fixed: frozenset[str]) -> None:
        found = source(d, fixed)
        if found is None:
            return
        given, family = found
        for name, v in ((first, given), (last, family)):
            if name and name not in fixed and d.get(name) is not None:
                d[name] = v
        for name in fulls:
            if name not in fixed and d.get(name) is not None:
                d[name] = f"{given} {family}"
        a, b = _ascii(given) or "user", _ascii(family) or "name"
        for name in emails:
            if name not in fixed and d.get(name) is not None:
                rng = FieldRng(mix(seed ^ salt("fix", name)))
                d[name] = (
                    f"{_LOCAL_PARTS[rng.getrandbits(3)](a, b, rng)}@{domains[rng.getrandbits(POOL_BITS)]}"
                )
        for name in handles:
            if name not in fixed and d.get(name) is not None:
                rng = FieldRng(mix(seed ^ salt("fix", name)))
                d[name] = _HANDLES[rng.getrandbits(2)](a, b, rng)

    return fix
