"""Argument cases that verification sends to a provider.

Each method gets *edge* cases first, the values real providers most often mishandle, then realistic
generated ones (:class:`thriftbox.values.ValueGenerator`). Edge profiles:

``minimal``   0, ``""``, empty containers, the first enum value, optional fields absent, a union's first field
              (fields of default requiredness are set, as generated code writes them)
``maximal``   max ints, long unicode strings, large-ish containers, the last enum value, every field set
``negative``  -1, short unicode strings, one-element containers, every field set
``lowest``    min ints, every field set
``choice #k`` every enum reachable from the arguments set to its k-th declared value, every union to its
              k-th member (so all values and members are sent)

All values are in the wire value domain (payload instances for structs), ready to send.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from thriftbox.idl.classes import Classes
from thriftbox.idl.model import Catalog, Field, Kind, Method, StructDef, TypeRef
from thriftbox.idl.ttypes import INT_RANGES

PROFILES = ("minimal", "maximal", "negative", "lowest")
LARGE = 100  # elements in a container of the maximal case: an argument, or a field of one
NESTED = 3  # elements in nested containers of non-minimal cases
FULL_DEPTH = 4  # from this depth on, structs carry only required fields: recursive structs terminate
MAX_CHOICE_CASES = 64
_UNICODE = "Zoë Ærøskøbing — 東京 🚀 naïve café "
_DOUBLES = {"minimal": 0.0, "maximal": 1.7976931348623157e308, "negative": -0.5, "lowest": -1e300}
_BLOBS = {"minimal": b"", "maximal": bytes(range(256)), "negative": b"\x00", "lowest": b"\xff"}


@dataclass(frozen=True)
class Expectation:
    """What a recorded interaction expects: ``result``, a declared exception's name, or ``application``."""

    outcome: str
    value: Any = None  # JSON form; compared only when ``exact``
    exact: bool = False


@dataclass(frozen=True)
class Case:
    method: str
    label: str  # "minimal", "generated #2", "contract.json #4"
    args: Mapping[str, Any] = field(default_factory=dict)
    expect: Expectation | None = None


class ValueSource(Protocol):
    """What realistic cases need from :class:`thriftbox.values.ValueGenerator`."""

    def value(
        self,
        t: TypeRef,
        rng: random.Random,
        *,
        hint: str | None = None,
        annotations: Mapping[str, str] | None = None,
    ) -> object: ...


def method_cases(
    classes: Classes,
    service_id: str,
    method: Method,
    *,
    generated: int = 3,
    seed: int = 0,
    edges: bool = True,
    source: ValueSource | None = None,
) -> list[Case]:
    """Edge cases (unless ``edges`` is false) followed by ``generated`` realistic cases."""
    cases: list[Case] = []
    if edges:
        cases += edge_cases(classes, method)
    if generated > 0:
        cases += generated_cases(classes, service_id, method, generated, seed=seed, source=source)
    return cases


def edge_cases(classes: Classes, method: Method) -> list[Case]:
    if not method.args:
        return [Case(method.name, "no arguments")]
    edge = EdgeValues(classes)
    cases = [Case(method.name, p, {a.name: edge.value(a.type, p) for a in method.args}) for p in PROFILES]
    widest = _widest_choice(classes.catalog, method)
    for k in range(1, min(widest - 1, MAX_CHOICE_CASES)):  # index 0 is minimal's, the last one maximal's
        profile = f"choice #{k}"
        cases.append(Case(method.name, profile, {a.name: edge.value(a.type, profile) for a in method.args}))
    return cases


def generated_cases(
    classes: Classes,
    service_id: str,
    method: Method,
    count: int,
    *,
    seed: int = 0,
    source: ValueSource | None = None,
) -> list[Case]:
    """``count`` realistic cases, reproducible for a given seed."""
    if source is None:
        source = default_source(classes, seed)
    cases = []
    for i in range(count):
        rng = random.Random(f"{seed}:{service_id}.{method.name}:{i}")
        args = {}
        for a in method.args:
            value = source.value(a.type, rng, hint=a.name, annotations=a.annotations)
            args[a.name] = classes.to_wire(a.type, value)
        cases.append(Case(method.name, f"generated #{i + 1}", args))
    return cases


def default_source(classes: Classes, seed: int) -> ValueSource:
    """thriftbox's realistic value generator (imported on first use: it loads Faker)."""
    from thriftbox.values import ValueGenerator

    return ValueGenerator(classes.catalog, classes, seed)


class EdgeValues:
    """Edge values per profile for any type of one catalog."""

    def __init__(self, classes: Classes) -> None:
        self.classes = classes
        self.catalog = classes.catalog

    def value(self, t: TypeRef, profile: str, depth: int = 0, variant: int = 0) -> Any:
        """The ``profile`` value of ``t``; ``variant`` makes elements of one container differ."""
        if depth >= FULL_DEPTH:
            profile = "deep"  # like minimal, but structs carry required fields only
        if depth > 8 * FULL_DEPTH:
            return None  # a struct that requires itself has no finite value
        kind = t.kind
        if kind is Kind.BOOL:
            return (profile == "maximal") != bool(variant % 2)
        if kind in INT_RANGES:
            return self._int(kind, profile, variant)
        if kind is Kind.DOUBLE:
            return _DOUBLES.get(profile, 1.5) + variant
        if kind is Kind.STRING:
            return self._string(profile, depth) + (f" #{variant}" if variant else "")
        if kind is Kind.BINARY:
            return _BLOBS.get(profile, b"\x01") + (variant.to_bytes(4, "big") if variant else b"")
        if kind is Kind.UUID:
            fill = {"minimal": 0, "maximal": 0xFF, "negative": 0x80, "lowest": 0x01}.get(profile, 0x42)
            return bytes([fill] * 12) + (variant % 2**32).to_bytes(4, "big")
        if kind is Kind.ENUM:
            return self._enum(str(t.name), profile, variant)
        if kind is Kind.STRUCT:
            return self._struct(self.catalog.struct(str(t.name)), profile, depth, variant)
        return self._container(t, profile, depth)

    def _int(self, kind: Kind, profile: str, variant: int) -> int:
        low, high = INT_RANGES[kind]
        if profile == "maximal":
            return high - variant
        if profile == "lowest":
            return low + variant
        if profile == "negative":
            return max(low, -1 - variant)
        if profile.startswith("choice"):
            return min(high, int(profile.split("#")[1]) + variant)
        return min(high, variant)

    def _string(self, profile: str, depth: int) -> str:
        if profile in ("minimal", "deep"):
            return ""
        if profile == "maximal":
            return _UNICODE * (100 if depth <= 1 else 2)
        return _UNICODE.strip() if profile == "negative" else f"{profile} ✓"

    def _enum(self, qname: str, profile: str, variant: int) -> int:
        values = list(self.catalog.enum(qname).values.values())
        return values[_index(profile, len(values), variant)] if values else 0

    def _struct(self, sdef: StructDef, profile: str, depth: int, variant: int) -> Any:
        fields = sdef.fields
        if sdef.kind == "union" and fields:
            chosen: tuple[Field, ...] = (fields[_index(profile, len(fields), variant)],)
        elif profile == "minimal":
            chosen = tuple(f for f in fields if f.requiredness != "optional")
        elif profile == "deep":
            chosen = tuple(f for f in fields if f.required)
        else:
            chosen = fields
        kwargs = {f.name: self.value(f.type, profile, depth + 1, variant) for f in chosen}
        return self.classes.struct(sdef.qname)(**kwargs)

    def _container(self, t: TypeRef, profile: str, depth: int) -> Any:
        assert t.elem is not None
        if profile in ("minimal", "deep"):
            size = 0
        elif profile == "maximal":
            size = LARGE if depth <= 1 else NESTED
        else:
            size = 1
        if t.kind is Kind.MAP:
            assert t.key is not None
            keys = [self.value(t.key, profile, depth + 1, i) for i in range(size)]
            return {k: self.value(t.elem, profile, depth + 1, i) for i, k in enumerate(keys)}
        items = [self.value(t.elem, profile, depth + 1, i) for i in range(size)]
        if t.kind is Kind.SET:
            items = _distinct(items)
        return items


def _index(profile: str, n: int, variant: int) -> int:
    """Which of ``n`` enum values or union fields a profile picks."""
    fixed = {"minimal": 0, "deep": 0, "lowest": 0, "maximal": n - 1, "negative": n // 2}
    index = fixed[profile] if profile in fixed else int(profile.split("#")[1])
    return (index + variant) % n


def _distinct(items: list[Any]) -> list[Any]:
    out: list[Any] = []
    for item in items:
        if item not in out:
            out.append(item)
    return out


def _widest_choice(catalog: Catalog, method: Method) -> int:
    """The most values of an enum, or members of a union, that an argument can hold (through structs)."""
    seen: set[str] = set()

    def walk(t: TypeRef) -> Iterator[int]:
        if t.kind is Kind.ENUM:
            yield len(catalog.enum(str(t.name)).values)
        for inner in (t.key, t.elem):
            if inner is not None:
                yield from walk(inner)
        if t.kind is Kind.STRUCT and str(t.name) not in seen:
            seen.add(str(t.name))
            sdef = catalog.struct(str(t.name))
            if sdef.kind == "union":
                yield len(sdef.fields)
            for f in sdef.fields:
                yield from walk(f.type)

    return max((n for a in method.args for n in walk(a.type)), default=0)
