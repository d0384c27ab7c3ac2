"""Why no stub rule answered a call: for each rule of its method, the first field of ``when`` that differed.

A call answered with generated data although its method has rules is the most puzzling moment of working with
stubs. :func:`near_misses` replays the call's arguments (as the journal shows them, JSON) against each rule the
engine tried, one ``when`` field at a time, in the rule's own order, descending into struct fields written as
mappings, and reports the first field that did not match (``when.id: wanted 42, got 43``). Rules matching more of
their fields come first. It runs only when someone asks (the journal's ``explain``), never on the call path.
"""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from thriftbox.control.messages import NearMiss
from thriftbox.idl.model import Field, Kind
from thriftbox.stubs.compile import Rule
from thriftbox.stubs.context import Context
from thriftbox.stubs.engine import StubEngine
from thriftbox.stubs.rules import OPERATORS, compile_matcher
from thriftbox.values.convert import ValueConversionError, from_json, to_json

logger = logging.getLogger(__name__)

NEAREST = 3  # how many rules an explanation names


def near_misses(
    engine: StubEngine, service_id: str, method: str, args: Any, peer: str | None = None, limit: int = NEAREST
) -> list[NearMiss]:
    """The nearest rules of ``service_id.method`` that did not answer a call with ``args`` (JSON, by argument
    name) from the client IP ``peer``, nearest first; [] for a method without rules."""
    svc = engine.catalog.services.get(service_id)
    m = svc.methods.get(method) if svc is not None else None
    if m is None or not isinstance(args, dict):
        return []
    try:
        value = SimpleNamespace(**{f.name: _wire(engine, f, args.get(f.name)) for f in m.args})
    except ValueConversionError:
        return []
    found: list[NearMiss] = []
    for rule, scope in engine.tried(service_id, method):
        if rule.plan is not None:
            continue  # the simulated state answers what the rules leave; it is not a near miss
        miss = _miss(engine, rule, m.args, value)
        if miss is None and scope is not None and scope != peer:
            miss = NearMiss(rule.id, reason=f"answers only calls from {scope} (this one came from {peer})")
        elif miss is None and rule.probability < 1.0:
            miss = NearMiss(rule.id, reason=f"matched, but its probability {rule.probability:g} draw failed")
        if miss is None:
            break  # this rule answers such a call: the rules after it are never tried
        found.append(miss)
    found.sort(key=lambda n: -(n.matched / n.of) if n.of else -1.0)
    return found[:limit]


def _wire(engine: StubEngine, f: Field, obj: Any) -> Any:
    return None if obj is None else from_json(engine.catalog, engine.classes, f.type, obj, f.name)


def _miss(engine: StubEngine, rule: Rule, fields: tuple[Field, ...], args: Any) -> NearMiss | None:
    """The first ``when`` field of ``rule`` that ``args`` does not match, or None when all do."""
    spec = rule.spec.get("when") if isinstance(rule.spec, dict) else None
    if not isinstance(spec, dict):
        return None
    ctx = Context(engine.catalog, engine.classes, Path(rule.id))
    checks = list(_leaves(ctx, fields, spec, args, "when"))
    for i, (where, wanted, got, ok) in enumerate(checks):
        if not ok:
            return NearMiss(rule.id, where, wanted, got, matched=i, of=len(checks))
    return None


def _leaves(ctx: Context, fields: tuple[Field, ...], spec: dict[Any, Any], value: Any, where: str) -> Any:
    """(path, wanted, got, matched) for each field a ``when`` mapping names, struct mappings descended into."""
    by_name = {f.name: f for f in fields}
    for name, sub in spec.items():
        f = by_name.get(name)
        if f is None:
            continue
        got = getattr(value, f.name, None) if value is not None else None
        path = f"{where}.{name}"
        nested = f.type.kind is Kind.STRUCT and isinstance(sub, dict) and not _operators(sub)
        if nested and got is not None:
            yield from _leaves(ctx, ctx.catalog.struct(str(f.type.name)).fields, sub, got, path)
            continue
        try:
            ok = compile_matcher(ctx, f.type, sub, 0, path)(got)
        except Exception:  # a bad spec, or a value the matcher did not expect: it did not match
            logger.debug("explain: %s could not match %r", path, got, exc_info=True)
            ok = False
        yield path, sub, _json(ctx, f, got), ok


def _operators(spec: dict[Any, Any]) -> bool:
    return any(str(k).lstrip("$") in OPERATORS for k in spec)


def _json(ctx: Context, f: Field, value: Any) -> Any:
    if value is None:
        return None
    try:
        return to_json(ctx.catalog, f.type, value)
    except Exception:
        return repr(value)
