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
from typing import Any

from thriftbox.errors import Location, StubError
from thriftbox.idl.classes import Classes
from thriftbox.idl.model import Catalog, ServiceDef, match_service
from thriftbox.stubs import crud
from thriftbox.stubs.compile import Rule, compile_rule
from thriftbox.stubs.context import Context, did_you_mean, listing
from thriftbox.stubs.source import line_of, read_documents, stub_files
from thriftbox.stubs.state import Missing

logger = logging.getLogger(__name__)

DOC_KEYS = ("service", "optional", "methods", "default", "stateful", "state")


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
        """The ids of the services the stub file ``path`` (relative or absolute) has documents for."""
        wanted = path.resolve()
        return {sid for p, sids in self.files.items() if p == path or p.resolve() == wanted for sid in sids}

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
        ids = match_service(ctx.catalog.services, name)
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
            compile_rule(ctx, svc, m, spec, rule_line, stubs.key_name)
            for spec, rule_line in _items(ctx, rules, where)
        )
    if "default" in doc:
        where = line_of(doc, "default", line)
        for spec, rule_line in _items(ctx, doc["default"], where):
            stubs.default.append(compile_rule(ctx, svc, None, spec, rule_line, stubs.key_name))


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
