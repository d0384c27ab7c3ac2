"""Children follow their parent in time: a reply is never older than the comment it answers.

A struct with a creation timestamp (``createdAt``, ``postedAt``...) and children of a struct type with
timestamps (``replies: list<Comment>``, ``reviews: list<Review>``; the same type, or a field named like
follow-ups) has each child's subtree moved, if it starts before the parent, into the span from the parent's
creation to now: a monotone map, so the order inside the subtree (a reply's replies, its ``updatedAt``) holds.
References such as ``author: User`` are not children: an author may well be older than the post.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from thriftbox.idl.model import Catalog, Kind, StructDef
from thriftbox.values.coherence import is_creation
from thriftbox.values.hints import normalize

_FOLLOW_UPS = frozenset(
    {"reply", "comment", "response", "answer", "message", "event", "update", "revision", "review"}
    | {"reaction", "note", "attempt", "step", "child", "follow_up", "activity", "entry"}
)
_TO_MS = {"ms": 1.0, "s": 1000.0, "us": 0.001, "ns": 0.000001}


@dataclass(frozen=True)
class TimeShape:
    created: tuple[str, float] | None  # the creation field and its milliseconds per unit
    stamps: tuple[tuple[str, float, Kind], ...]  # every past timestamp field
    children: tuple[tuple[str, str], ...]  # (field, struct qname) of child structs or lists of them


def unit_factor(kind: Kind, name: str) -> float | None:
    if kind is Kind.I32 or kind is Kind.DOUBLE:
        return 1000.0
    if kind is not Kind.I64:
        return None
    last = normalize(name).rsplit("_", 1)[-1]
    for unit, words in (
        ("s", ("sec", "secs", "second", "seconds", "s", "epoch")),
        ("us", ("us", "usec", "micro", "micros")),
        ("ns", ("ns", "nano", "nanos")),
    ):
        if last in words:
            return _TO_MS[unit]
    return 1.0


def time_shapes(catalog: Catalog, value_kind: Callable[[StructDef, str], str | None]) -> dict[str, TimeShape]:
    """The time shape of every struct; ``value_kind(sdef, field)`` is the value kind a field is generated as."""
    shapes: dict[str, TimeShape] = {}
    for q, sdef in catalog.structs.items():
        stamps = []
        for f in sdef.fields:
            factor = unit_factor(f.type.kind, f.name)
            if factor is not None and value_kind(sdef, f.name) == "timestamp":
                stamps.append((f.name, factor, f.type.kind))
        created = next(((n, fa) for n, fa, _ in stamps if is_creation(n)), None)
        shapes[q] = TimeShape(created, tuple(stamps), ())
    for q, sdef in catalog.structs.items():
        children = []
        for f in sdef.fields:
            t = f.type.elem if f.type.kind in (Kind.LIST, Kind.SET) and f.type.elem is not None else f.type
            if t.kind is not Kind.STRUCT or not shapes[str(t.name)].stamps:
                continue
            if str(t.name) == q or normalize(f.name).rsplit("_", 1)[-1] in _FOLLOW_UPS:
                children.append((f.name, str(t.name)))
        shapes[q] = TimeShape(shapes[q].created, shapes[q].stamps, tuple(children))
    return shapes


def follower(
    qname: str, shapes: dict[str, TimeShape], now_ms: int
) -> Callable[[dict[str, Any]], None] | None:
    """``follow(fields)``: move the children of a generated ``qname`` after its creation, or None if none can
    come before it."""
    shape = shapes[qname]
    if shape.created is None or not shape.children:
        return None
    created, factor = shape.created

    def follow(d: dict[str, Any]) -> None:
        start = d.get(created)
        if not isinstance(start, int | float) or isinstance(start, bool):
            return
        p = start * factor
        for name, child_q in shape.children:
            v = d.get(name)
            for child in v if isinstance(v, list) else [v] if v is not None else []:
                low = _lowest(child, child_q, shapes)
                if low is not None and low < p < now_ms:
                    _move(child, child_q, shapes, low, p, now_ms)

    return follow


def _lowest(obj: Any, q: str, shapes: dict[str, TimeShape]) -> float | None:
    d = getattr(obj, "__dict__", None)
    if d is None:
        return None
    shape = shapes[q]
    found = [d[n] * fa for n, fa, _ in shape.stamps if isinstance(d.get(n), int | float)]
    for name, child_q in shape.children:
        v = d.get(name)
        for child in v if isinstance(v, list) else [v] if v is not None else []:
            low = _lowest(child, child_q, shapes)
            if low is not None:
                found.append(low)
    return min(found, default=None)


def _move(obj: Any, q: str, shapes: dict[str, TimeShape], low: float, p: float, hi: float) -> None:
    d = obj.__dict__
    shape = shapes[q]
    scale = (hi - p) / (hi - low) if hi > low else 0.0
    for n, fa, kind in shape.stamps:
        v = d.get(n)
        if isinstance(v, int | float) and not isinstance(v, bool):
            ms = p + (min(v * fa, hi) - low) * scale
            d[n] = round(ms / fa, 3) if kind is Kind.DOUBLE else int(ms // fa)
    for name, child_q in shape.children:
        v = d.get(name)
        for child in v if isinstance(v, list) else [v] if v is not None else []:
            _move(child, child_q, shapes, low, p, hi)
