"""Read a folder of stub files, check every document against the IDL, and compile it into a :class:`StubBook`.

A document names a service and gives rules per method (see ``docs/stubs.md``)::

    service: Users              # a service name, or its id where the name is ambiguous
    optional: true              # skip (no error) when the IDL has no such service
    stateful: true              # or  state: {key: userId, missing: generate|throw}
    default: {latency_ms: 20}   # rules for every method, tried after the method's own
    methods:
      getUser:
        - when: {id: 42}
          return: {name: Grace Hopper}
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from thriftbox.errors import Location, StubError
from thriftbox.idl.classes import Classes
from thriftbox.idl.model import Catalog, Kind, Method, ServiceDef, TypeRef
from thriftbox.stubs import crud
from thriftbox.stubs.answers import ANSWER_KEYS, Answer, compile_answer, compile_latency
from thriftbox.stubs.context import Context, did_you_mean, listing
from thriftbox.stubs.rules import Matcher, compile_fields
from thriftbox.stubs.source import line_of, read_documents, stub_files
from thriftbox.stubs.state import Missing
from thriftbox.stubs.templates import resolve_arg

logger = logging.getLogger(__name__)

DOC_KEYS = ("service", "optional", "methods", "default", "stateful", "state")
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


@dataclass
class ServiceStubs:
    service_id: str
    rules: dict[str, list[Rule]] = field(default_factory=dict)
    default: list[Rule] = field(default_factory=list)
    stateful: bool = False
    key_name: str | None = None
    missing: Missing = "generate"
    plans: dict[str, crud.Plan] = field(default_factory=dict)  # naming-convention state, per method


@dataclass
class StubBook:
    """Every stub rule, by service id; and which services each file touches (for partial reloads)."""

    services: dict[str, ServiceStubs] = field(default_factory=dict)
    files: dict[Path, set[str]] = field(default_factory=dict)

    def services_in(self, path: Path) -> set[str]:
        return set(self.files.get(path, set())) | set(self.files.get(path.resolve(), set()))

    def service(self, service_id: str) -> ServiceStubs | None:
        return self.services.get(service_id)


def load_stubs(mocks: Path | None, catalog: Catalog, classes: Classes) -> StubBook:
    """Read every .yaml/.yml/.json file under the folder ``mocks`` (or just the file ``mocks``); raises
    StubError on the first problem."""
    book = StubBook()
    if mocks is None:
        return book
    if mocks.is_file():
        paths = [mocks]
    elif mocks.is_dir():
        paths = stub_files(mocks)
    else:
        raise StubError(f"stub folder {mocks} does not exist", location=Location(mocks))
    docs: list[tuple[Context, Any, int, ServiceDef]] = []
    for path in paths:
        ctx = Context(catalog, classes, path)
        book.files[path] = set()
        for doc in read_documents(path):
            for item, line in _flatten(ctx, doc):
                svc = _service(ctx, item, line)
                if svc is not None:
                    docs.append((ctx, item, line, svc))
    for ctx, item, line, svc in docs:
        book.files[ctx.path].add(svc.id)
        _configure(ctx, book.services.setdefault(svc.id, ServiceStubs(svc.id)), item, line)
    for ctx, item, line, svc in docs:
        _compile_doc(ctx, book.services[svc.id], svc, item, line)
    for stubs in book.services.values():
        if stubs.stateful:
            _plan_conventions(catalog, catalog.services[stubs.service_id], stubs)
    return book


def _flatten(ctx: Context, doc: Any) -> list[tuple[dict[Any, Any], int]]:
    items = doc if isinstance(doc, list) else [doc]
    out = []
    for i, item in enumerate(items):
        line = line_of(doc, i, 1) if isinstance(doc, list) else getattr(item, "line", 1)
        if not isinstance(item, dict):
            raise ctx.error("a stub document must be a mapping with `service:` and `methods:`", line)
        for key in item:
            if key not in DOC_KEYS:
                raise ctx.unknown("key", key, DOC_KEYS, line_of(item, key, line), " in a stub document")
        out.append((item, line))
    return out


def _service(ctx: Context, doc: dict[Any, Any], line: int) -> ServiceDef | None:
    """The service a document is about; None for an ``optional: true`` one whose service is not loaded."""
    name = doc.get("service")
    if not isinstance(name, str):
        raise ctx.error(
            "a stub document needs `service: NAME`", line, listing("services", _names(ctx.catalog))
        )
    optional = doc.get("optional", False)
    if not isinstance(optional, bool):
        raise ctx.error("optional takes true or false", line_of(doc, "optional", line))
    svc = ctx.catalog.find_service(name)
    if svc is None:
        where = line_of(doc, "service", line)
        ids = [s.id for s in ctx.catalog.services.values() if s.name == name]
        if ids:
            raise ctx.error(f"service name {name!r} is ambiguous", where, listing("use one of the ids", ids))
        if optional:
            logger.debug("%s:%d: skipping the stubs of %s, which is not in the IDL", ctx.path, where, name)
            return None
        hint = did_you_mean(name, _names(ctx.catalog)) or (
            f"{listing('known services', _names(ctx.catalog))}; "
            "add `optional: true` to skip this document when its service is not loaded"
        )
        raise ctx.error(f"unknown service {name!r}", where, hint)
    return svc


def _names(catalog: Catalog) -> list[str]:
    return sorted({s.name for s in catalog.services.values()} | set(catalog.services))


def _configure(ctx: Context, stubs: ServiceStubs, doc: dict[Any, Any], line: int) -> None:
    """The service-level settings: ``stateful`` and ``state``."""
    if "stateful" in doc:
        if not isinstance(doc["stateful"], bool):
            raise ctx.error("stateful takes true or false", line_of(doc, "stateful", line))
        stubs.stateful = stubs.stateful or doc["stateful"]
    spec = doc.get("state")
    if spec is None:
        return
    where = line_of(doc, "state", line)
    if isinstance(spec, bool):
        stubs.stateful = stubs.stateful or spec
        return
    if not isinstance(spec, dict):
        raise ctx.error("state takes true, or {key: FIELD, missing: generate|throw}", where)
    stubs.stateful = True
    for key, value in spec.items():
        if key == "key" and isinstance(value, str):
            if stubs.key_name not in (None, value):
                raise ctx.error(f"state key {value!r} conflicts with {stubs.key_name!r} set elsewhere", where)
            stubs.key_name = value
        elif key == "missing" and value in ("generate", "throw"):
            stubs.missing = value
        elif key in ("key", "missing"):
            raise ctx.error(
                f"bad state.{key}: {value!r}",
                line_of(spec, key, where),
                "key: a field name; missing: generate or throw",
            )
        else:
            raise ctx.unknown("state setting", key, ["key", "missing"], line_of(spec, key, where))


def _compile_doc(ctx: Context, stubs: ServiceStubs, svc: ServiceDef, doc: dict[Any, Any], line: int) -> None:
    methods = doc.get("methods") or {}
    if not isinstance(methods, dict):
        raise ctx.error("methods must map method names to rules", line_of(doc, "methods", line))
    for name, rules in methods.items():
        m = svc.methods.get(name)
        where = line_of(methods, name, line)
        if m is None:
            raise ctx.unknown("method", name, svc.methods, where, f" of service {svc.name}")
        stubs.rules.setdefault(m.name, []).extend(
            compile_rule(ctx, svc, m, spec, rule_line, stubs) for spec, rule_line in _items(ctx, rules, where)
        )
    if "default" in doc:
        where = line_of(doc, "default", line)
        for spec, rule_line in _items(ctx, doc["default"], where):
            stubs.default.append(compile_rule(ctx, svc, None, spec, rule_line, stubs))


def _items(ctx: Context, rules: Any, line: int) -> list[tuple[dict[Any, Any], int]]:
    """A method's rules: a list of rule mappings, one mapping, or nothing."""
    if rules is None:
        return []
    items = rules if isinstance(rules, list) else [rules]
    out = []
    for i, spec in enumerate(items):
        spec_line = line_of(rules, i, line) if isinstance(rules, list) else getattr(spec, "line", line)
        if spec is None:
            spec = {}
        if not isinstance(spec, dict):
            raise ctx.error("a rule must be a mapping (when:, return:, throw:, ...)", spec_line)
        out.append((spec, getattr(spec, "line", 0) or spec_line))
    return out


def compile_rule(
    ctx: Context,
    svc: ServiceDef,
    m: Method | None,
    spec: dict[Any, Any],
    line: int,
    stubs: ServiceStubs,
    rule_id: str = "",
) -> Rule:
    """One rule of method ``m`` (None: a ``default`` rule of the service)."""
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
        rule.plan = _state_rule(ctx, svc, target, spec, line, stubs)
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
    ctx: Context, svc: ServiceDef, m: Method, spec: dict[Any, Any], line: int, stubs: ServiceStubs
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
    collections = crud.service_collections(ctx.catalog, list(svc.methods.values()), stubs.key_name)
    plan = crud.plan(
        ctx.catalog, m, op, key_name=stubs.key_name, key_path=key_path, entity_path=entity_path,
        collection=collection, collections=collections,
    )  # fmt: skip
    if plan is None:
        hint = (
            "name the struct argument with entity:, the key argument with key:, the struct with collection:"
        )
        raise ctx.error(f"cannot work out how {m.name} does {op!r} on the state", where, hint)
    return plan


def _plan_conventions(catalog: Catalog, svc: ServiceDef, stubs: ServiceStubs) -> None:
    """Naming-convention state plans for the methods that have no explicit ``state:`` rule."""
    collections = crud.service_collections(catalog, list(svc.methods.values()), stubs.key_name)
    for m in svc.methods.values():
        if any("state" in (r.spec or {}) for r in stubs.rules.get(m.name, [])):
            continue
        op = crud.convention_op(m)
        plan = crud.plan(catalog, m, op, key_name=stubs.key_name, collections=collections) if op else None
        if plan is not None:
            stubs.plans[m.name] = plan
