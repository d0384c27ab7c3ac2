"""Make the fields of one struct agree with each other, after they are generated one by one.

* people: Diana Pruitt's email is diana.pruitt@gmail.com (not kturner@smith.com), her handle dianap, her
  fullName "Diana Pruitt";
* time: ``updatedAt``/``lastSeenAt`` are never before ``createdAt``;
* addresses: a struct with a US state has a US country.

Only fields whose value was generated are touched (not declared defaults, not unset optional fields).
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from thriftbox.idl.model import Kind
from thriftbox.values.fieldrng import FieldRng, mix, salt
from thriftbox.values.hints import normalize
from thriftbox.values.pools import POOL_BITS, Pools

Fixer = Callable[[dict[str, Any], int, frozenset[str]], None]  # (fields, seed, fields not to change)
FieldKinds = Mapping[str, tuple[Kind, str | None]]  # field name → (Thrift kind, value kind or None)


def struct_fixer(kinds: FieldKinds, defaults: frozenset[str], pools: Pools) -> Fixer | None:
    """One fixer doing all that applies to a struct with these fields, or None if nothing does."""
    usable = {name: kk for name, kk in kinds.items() if name not in defaults}
    fixers = [
        f for f in (person_fixer(usable, pools), timeline_fixer(usable), address_fixer(usable, pools)) if f
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
    created = next((n for n, (_, vk) in kinds.items() if vk == "timestamp" and _is_creation(n)), None)
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
            if v is not None and v < first:
                d[created], d[name] = v, first
                first = v

    return fix


def _is_creation(name: str) -> bool:
    return normalize(name).split("_")[0] in (
        "created",
        "creation",
        "registered",
        "joined",
        "signup",
        "inserted",
    )


def address_fixer(kinds: FieldKinds, pools: Pools) -> Fixer | None:
    """A struct with a state or ZIP code of the Faker locale gets that locale's country."""
    if not any(vk in ("state", "state_abbr") for _, vk in kinds.values()):
        return None
    codes = [n for n, (tk, vk) in kinds.items() if vk == "country_code" and tk is Kind.STRING]
    names = [n for n, (tk, vk) in kinds.items() if vk == "country" and tk is Kind.STRING]
    if not codes and not names:
        return None
    code = pools.locale.split("_")[-1].upper()
    country = str(pools.faker.current_country()) if names else ""

    def fix(d: dict[str, Any], seed: int, fixed: frozenset[str]) -> None:
        for name in codes:
            if d.get(name) is not None:
                d[name] = code
        for name in names:
            if d.get(name) is not None:
                d[name] = country

    return fix


@lru_cache(maxsize=8192)  # names come from pools: few distinct values
def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "".join(c for c in folded.lower() if c.isalnum())


_LOCAL_PARTS: tuple[Callable[[str, str, random.Random], str], ...] = (
    lambda a, b, rng: f"{a}.{b}",
    lambda a, b, rng: f"{a}{b}",
    lambda a, b, rng: f"{a[:1]}{b}",
    lambda a, b, rng: f"{a}_{b}",
    lambda a, b, rng: f"{a}.{b}{1 + int(rng.random() * 99)}",
    lambda a, b, rng: f"{a}{1 + int(rng.random() * 99)}",
    lambda a, b, rng: f"{a[:1]}.{b}",
    lambda a, b, rng: f"{b}.{a}",
)
_HANDLES: tuple[Callable[[str, str, random.Random], str], ...] = (
    lambda a, b, rng: f"{a}{b[:1]}",
    lambda a, b, rng: f"{a}_{b}",
    lambda a, b, rng: f"{a[:1]}{b}{1 + int(rng.random() * 99)}",
    lambda a, b, rng: f"{a}{1 + int(rng.random() * 999)}",
)


def person_fixer(kinds: FieldKinds, pools: Pools) -> Fixer | None:
    """Emails and handles made from the struct's person name, if it has one."""

    def named(kind: str) -> list[str]:
        return [name for name, (tk, vk) in kinds.items() if vk == kind and tk is Kind.STRING]

    firsts, lasts, fulls = named("first_name"), named("last_name"), named("name")
    emails, handles = named("email"), named("username")
    first, last = (firsts[0] if firsts else None), (lasts[0] if lasts else None)
    full = fulls[0] if fulls else None
    if not ((first and last) or full) or not (emails or handles or (first and last and full)):
        return None
    domains = pools.get("email_domain")

    def fix(d: dict[str, Any], seed: int, fixed: frozenset[str]) -> None:
        given = d.get(first) if first else None
        family = d.get(last) if last else None
        if isinstance(given, str) and isinstance(family, str):
            if full and isinstance(d.get(full), str):
                d[full] = f"{given} {family}"
        elif full and isinstance(d.get(full), str) and " " in d[full]:
            given, family = d[full].split(" ", 1)
        else:
            return
        a, b = _ascii(given) or "user", _ascii(family) or "name"
        for name in emails:
            rng = FieldRng(mix(seed ^ salt("fix", name)))
            if d.get(name) is not None:
                d[name] = (
                    f"{_LOCAL_PARTS[rng.getrandbits(3)](a, b, rng)}@{domains[rng.getrandbits(POOL_BITS)]}"
                )
        for name in handles:
            rng = FieldRng(mix(seed ^ salt("fix", name)))
            if d.get(name) is not None:
                d[name] = _HANDLES[rng.getrandbits(2)](a, b, rng)

    return fix
