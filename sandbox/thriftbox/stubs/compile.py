"""Compile one rule mapping of a stub file (``when:``, an answer or a sequence, ``state:``) into a :class:`Rule`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from thriftbox.idl.model import Kind, Method, ServiceDef, TypeRef
from thriftbox.stubs import crud
from thriftbox.stubs.answers import ANSWER_KEYS, Answer, compile_answer, compile_latency
from thriftbox.stubs.context import Context, listing
from thriftbox.stubs.rules import Matcher, compile_fields
from thriftbox.stubs.source import line_of
from thriftbox.stubs.templates import resolve_arg

RULE_KEYS = ("when", *ANSWER_KEYS, "latency_ms", "probability", "sequence", "repeat", "state")
STEP_KEYS = (*ANSWER_KEYS, "latency_ms")


@dataclass
class Rule:
    """One compiled rule. A state rule (``plan`` set) answers from the simulated database."""

    id: str  # "mocks/users.yaml:12", "api:3", or "state" for the naming convention
    when: Matcher | None = None
    probability: float = 1.0
    steps: tuple[Answer, ...] = (Answer("generate"),)
    repeat: Literal["last", "cycle"] = "last"
    plan: crud.Plan | None = None
    spec: Any = None  # what the rule was compiled from (for the admin API)


def compile_rule(
    ctx: Context,
    svc: ServiceDef,
    m: Method | None,
    spec: dict[Any, Any],
    line: int,
    key_name: str | None = None,
    rule_id: str = "",
) -> Rule:
    """One rule of method ``m`` (None: a ``default`` rule of the service); ``key_name`` is the service's
    ``state: {key: ...}``."""
    where = f"{m.name}" if m is not None else "default"
    for key in spec:
        if key not in RULE_KEYS:
            raise ctx.unknown("rule key", key, RULE_KEYS, line_of(spec, key, line), f" in {where}")
    rule = Rule(rule_id or f"{ctx.path}:{line}", spec=spec)
    target = m or Method("default", (), TypeRef(Kind.VOID), (), False, svc.id)
    if m is None:
        bad = next((k for k in ("when", "return", "throw", "state") if k in spec), None)
        if bad is not None:
            raise ctx.error(
                f"a default rule cannot use {bad!r}: it applies to every method", line_of(spec, bad, line),
                "put it under methods: for the method it is about",
            )  # fmt: skip
    if "when" in spec:
        rule.when = compile_fields(ctx, target.args, spec["when"], line_of(spec, "when", line), "when")
    if "probability" in spec:
        p = spec["probability"]
        if not isinstance(p, int | float) or isinstance(p, bool) or not 0 <= p <= 1:
            raise ctx.error("probability must be a number from 0 to 1", line_of(spec, "probability", line))
        rule.probability = float(p)
    if "state" in spec:
        rule.plan = _state_rule(ctx, svc, target, spec, line, key_name)
        latency = spec.get("latency_ms")
        if latency is not None:
            rule.steps = (
                Answer("generate", compile_latency(ctx, latency, line_of(spec, "latency_ms", line), where)),
            )
        return rule
    if "sequence" in spec:
        rule.steps, rule.repeat = _sequence(ctx, target, spec, line, where)
    else:
        if "repeat" in spec:
            raise ctx.error("repeat only goes with sequence", line_of(spec, "repeat", line))
        rule.steps = (compile_answer(ctx, target, spec, line, where),)
    return rule


def _sequence(
    ctx: Context, m: Method, spec: dict[Any, Any], line: int, where: str
) -> tuple[tuple[Answer, ...], Literal["last", "cycle"]]:
    seq, seq_line = spec["sequence"], line_of(spec, "sequence", line)
    clash = next((k for k in ANSWER_KEYS if k in spec), None)
    if clash is not None:
        raise ctx.error(
            f"a rule with a sequence cannot also have {clash!r}",
            line_of(spec, clash, line),
            "put it in a step",
        )
    if not isinstance(seq, list) or not seq:
        raise ctx.error("sequence takes a list of answers", seq_line)
    repeat = spec.get("repeat", "last")
    if repeat not in ("last", "cycle"):
        raise ctx.unknown("repeat mode", repeat, ["last", "cycle"], line_of(spec, "repeat", line))
    default_latency = spec.get("latency_ms")
    steps = []
    for i, step in enumerate(seq):
        step_line = line_of(seq, i, seq_line)
        step = {} if step is None else step
        if not isinstance(step, dict):
            raise ctx.error("each step of a sequence is a mapping (return:, throw:, ...) or null", step_line)
        for key in step:
            if key not in STEP_KEYS:
                raise ctx.unknown(
                    "step key", key, STEP_KEYS, line_of(step, key, step_line), f" in {where}.sequence"
                )
        if default_latency is not None and "latency_ms" not in step:
            step = {**step, "latency_ms": default_latency}
        steps.append(compile_answer(ctx, m, step, step_line, f"{where}.sequence[{i}]"))
    return tuple(steps), repeat


def _state_rule(
    ctx: Context, svc: ServiceDef, m: Method, spec: dict[Any, Any], line: int, key_name: str | None
) -> crud.Plan | None:
    state, where = spec["state"], line_of(spec, "state", line)
    clash = next((k for k in (*ANSWER_KEYS, "sequence") if k in spec), None)
    if clash is not None:
        raise ctx.error(f"a state rule cannot also have {clash!r}", line_of(spec, clash, line))
    if state in (None, False, "none"):
        return None
    state = {"op": state} if isinstance(state, str) else state
    if not isinstance(state, dict) or state.get("op") not in crud.OPS:
        raise ctx.error(f"{m.name}: state takes {{op: OP, key: ARG}}", where, listing("operations", crud.OPS))
    for key in state:
        if key not in ("op", "key", "entity", "collection"):
            raise ctx.unknown(
                "state key", key, ["op", "key", "entity", "collection"], line_of(state, key, where)
            )
    op = state["op"]
    if op == "none":
        return None
    key_path = resolve_arg(ctx, m.args, state["key"], where, "state.key")[0] if "key" in state else None
    entity_path = (
        resolve_arg(ctx, m.args, state["entity"], where, "state.entity")[0] if "entity" in state else None
    )
    collection = None
    if "collection" in state:
        wanted = state["collection"]
        structs = {s.name: q for q, s in ctx.catalog.structs.items() if s.kind == "struct"}
        collection = structs.get(wanted) or (wanted if wanted in ctx.catalog.structs else None)
        if collection is None:
            raise ctx.unknown("struct", wanted, structs, line_of(state, "collection", where))
    collections = crud.service_collections(ctx.catalog, list(svc.methods.values()), key_name)
    plan = crud.plan(
        ctx.catalog, m, op, key_name=key_name, key_path=key_path, entity_path=entity_path,
        collection=collection, collections=collections,
    )  # fmt: skip
    if plan is None:
        hint = (
            "name the struct argument with entity:, the key argument with key:, the struct with collection:"
        )
        raise ctx.error(f"cannot work out how {m.name} does {op!r} on the state", where, hint)
    return plan
