"""Choose the answer to one call: the first matching stub rule, the simulated state, or generated data.

Per method the rules are tried in this order: rules added at run time (newest first), the method's rules from
stub files (in file order), the naming-convention state rule of a stateful service, then the service's
``default`` rules. A rule answers when its ``when`` matches and its ``probability`` draw succeeds; else the next
one is tried. A rule added at run time with a ``peer`` only answers calls from that client IP (the pytest plugin
scopes each xdist worker's stubs so). No answer means generated data. :meth:`StubEngine.decide` is synchronous
and cheap: a method without rules costs one dict lookup. Sleeping for the latency is the caller's job.
"""

from __future__ import annotations

import itertools
import logging
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from thriftbox.errors import StubError
from thriftbox.idl.classes import Classes
from thriftbox.idl.model import Catalog, Method
from thriftbox.stubs import limits, state
from thriftbox.stubs.answers import Latency
from thriftbox.stubs.compile import Rule, compile_rule
from thriftbox.stubs.context import Context
from thriftbox.stubs.load import ServiceStubs, StubBook
from thriftbox.stubs.templates import Render
from thriftbox.values import ValueGenerator
from thriftbox.wire.app import Fault, NoReply, Reply

logger = logging.getLogger(__name__)

STATE_RULE = "state"


@dataclass(frozen=True)
class Decision:
    """``reply`` None means "answer with generated data"; ``source`` is "stub", "state" or "generated"."""

    reply: Reply | None = None
    latency_s: float = 0.0
    source: str = "generated"
    rule: str | None = None


GENERATED = Decision()


@dataclass
class _ApiRule:
    service_id: str
    method: str | None
    spec: dict[str, Any]
    rule: Rule
    peer: str | None = None


class StubEngine:
    """Answers calls from a :class:`StubBook`; holds the state (sequence positions, the simulated database)."""

    def __init__(
        self,
        book: StubBook,
        catalog: Catalog,
        classes: Classes,
        generator: ValueGenerator,
        *,
        store: state.StateStore | None = None,
        seed: int = 0,
    ) -> None:
        self.book = book
        self.catalog = catalog
        self.classes = classes
        self.generator = generator
        self.store = store if store is not None else state.StateStore()
        self._rng = random.Random(seed)
        self._seed = seed
        self._api: list[_ApiRule] = []
        self._api_ids = itertools.count(1)
        self._positions: dict[str, int] = {}
        self._cache: dict[tuple[str, str], list[Rule]] = {}
        self._scopes: dict[str, str] = {}  # run-time rule id -> the only client IP it answers

    # -- answering ---------------------------------------------------------------------------------------

    def has_rules(self, service_id: str, method: str) -> bool:
        """Whether any rule (from a file or added at run time) may answer calls of ``service_id.method``;
        when not, every call of it gets :data:`GENERATED` (the mock's fast path asks this first)."""
        rules = self._cache.get((service_id, method))
        if rules is None:
            rules = self._cache[(service_id, method)] = self._rules_for(service_id, method)
        return bool(rules)

    def tried(self, service_id: str, method: str) -> list[tuple[Rule, str | None]]:
        """The rules :meth:`decide` tries for ``service_id.method``, in order, each with the only client IP it
        answers (None: any); what :func:`thriftbox.stubs.explain.near_misses` reads."""
        self.has_rules(service_id, method)
        return [(rule, self._scopes.get(rule.id)) for rule in self._cache[(service_id, method)]]

    def decide(self, service_id: str, method: str, args: Any, peer: str | None = None) -> Decision:
        """The answer to a call of ``service_id.method`` with ``args`` from the client IP ``peer``."""
        rules = self._cache.get((service_id, method))
        if rules is None:
            rules = self._cache[(service_id, method)] = self._rules_for(service_id, method)
        if not rules:
            return GENERATED
        m = self.catalog.services[service_id].methods[method]
        scopes = self._scopes
        for rule in rules:
            if scopes and scopes.get(rule.id, peer) != peer:
                continue
            if rule.when is not None and not self._matches(rule, args):
                continue
            if rule.probability < 1.0 and self._rng.random() >= rule.probability:
                continue
            decision = self._answer(service_id, m, rule, args)
            if decision is not None:
                return decision
        return GENERATED

    def _matches(self, rule: Rule, args: Any) -> bool:
        assert rule.when is not None
        try:
            return rule.when(args)
        except Exception:  # a value the matcher did not expect (e.g. undecodable bytes): no match
            logger.debug("rule %s could not match %r", rule.id, args, exc_info=True)
            return False

    def _answer(self, service_id: str, m: Method, rule: Rule, args: Any) -> Decision | None:
        render = Render(self.catalog, self.classes, self.generator, service_id, m.name, args)
        if rule.plan is not None:
            stubs = self.book.service(service_id)
            missing: state.Missing = stubs.missing if stubs is not None else "generate"
            outcome = state.apply(self.store, service_id, m, rule.plan, render, missing)
            if outcome is None:
                return None
            latency = rule.steps[0].latency or self._default_latency(service_id, args)
            reply = NoReply() if m.oneway else outcome.reply
            return Decision(
                reply,
                latency.sample_ms(self._rng) / 1000.0 if latency else 0.0,
                "state" if outcome.hit else "generated",
                rule.id,
            )
        answer = rule.steps[self._step(rule)]
        reply = answer.reply(render, m)
        if m.oneway and not isinstance(reply, Fault):
            reply = NoReply()
        latency_s = answer.latency.sample_ms(self._rng) / 1000.0 if answer.latency else 0.0
        return Decision(reply, latency_s, "stub", rule.id)

    def _default_latency(self, service_id: str, args: Any) -> Latency | None:
        """The latency of the first ``default`` rule that only delays (no answer of its own) and matches: the
        state answers before the default rules are tried, and must be as late as they say."""
        stubs = self.book.service(service_id)
        api = [a.rule for a in reversed(self._api) if a.service_id == service_id and a.method is None]
        for rule in [*api, *(stubs.default if stubs is not None else [])]:
            step = rule.steps[0]
            delays = rule.plan is None and len(rule.steps) == 1 and step.kind == "generate" and step.latency
            if delays and (rule.when is None or self._matches(rule, args)):
                return step.latency
        return None

    def _step(self, rule: Rule) -> int:
        n = len(rule.steps)
        if n == 1:
            return 0
        seen = self._positions.get(rule.id, 0)
        self._positions[rule.id] = seen + 1
        return seen % n if rule.repeat == "cycle" else min(seen, n - 1)

    def _rules_for(self, service_id: str, method: str) -> list[Rule]:
        stubs = self.book.service(service_id)
        api = [a.rule for a in reversed(self._api) if a.service_id == service_id and a.method == method]
        api_default = [a.rule for a in reversed(self._api) if a.service_id == service_id and a.method is None]
        if stubs is None:
            return [*api, *api_default]
        rules = [*api, *stubs.rules.get(method, [])]
        plan = stubs.plans.get(method)
        if plan is not None:
            rules.append(Rule(STATE_RULE, plan=plan))
        return [r for r in [*rules, *api_default, *stubs.default] if r.plan is not None or not _off(r)]

    # -- changing rules and state at run time ------------------------------------------------------------

    def add_rule(
        self,
        service_id: str,
        method: str | None,
        spec: dict[str, Any],
        peer: str | None = None,
        *,
        rule_id: str | None = None,
    ) -> str:
        """Add a rule (the same shape as in a stub file) in front of the others; returns its id.

        ``method`` None adds a default rule of the service; ``peer`` (a client IP) limits the rule to calls from
        that address; ``rule_id`` is given where the id was chosen elsewhere (a host's worker processes use
        their main process's). Raises StubError when the rule does not fit.
        """
        return self._add(service_id, method, spec, rule_id or f"api:{next(self._api_ids)}", peer)

    def _add(
        self, service_id: str, method: str | None, spec: dict[str, Any], rule_id: str, peer: str | None = None
    ) -> str:
        svc = self.catalog.find_service(service_id)
        if svc is None:
            raise StubError(f"unknown service {service_id!r}")
        m = None
        if method is not None:
            m = svc.methods.get(method)
            if m is None:
                raise StubError(f"unknown method {method!r} of service {svc.name}")
        if not isinstance(spec, dict):
            raise StubError("a rule must be a mapping (when:, return:, throw:, ...)")
        if limits.json_depth(spec) > limits.MAX_DEPTH:
            raise limits.too_deep(None)
        if peer is not None and (not isinstance(peer, str) or not peer):
            raise StubError(f"peer must be a client IP such as '127.0.0.3', not {peer!r}")
        stubs = self.book.service(svc.id) or ServiceStubs(svc.id)
        ctx = Context(self.catalog, self.classes, Path(rule_id))
        rule = compile_rule(ctx, svc, m, spec, 0, stubs.key_name, rule_id)
        self._api.append(_ApiRule(svc.id, method, spec, rule, peer))
        if peer is not None:
            self._scopes[rule_id] = peer
        self._cache.clear()
        return rule_id

    def remove_rule(self, rule_id: str) -> bool:
        before = len(self._api)
        self._api = [a for a in self._api if a.rule.id != rule_id]
        self._positions.pop(rule_id, None)
        self._scopes.pop(rule_id, None)
        self._cache.clear()
        return len(self._api) < before

    def added_rules(self) -> list[dict[str, Any]]:
        """The rules added at run time, oldest first, in the form the admin API takes them (with their ids)."""
        return [
            {"id": a.rule.id, "service": a.service_id, "method": a.method, "rule": a.spec, "peer": a.peer}
            for a in self._api
        ]

    def dump(self) -> dict[str, Any]:
        """What a restarted host needs to go on where this one was (host.persist): run-time rules with their
        ids, sequence positions, simulated state."""
        return {"rules": self.added_rules(), "positions": dict(self._positions), "state": self.store.dump()}

    def restore(self, rules: list[dict[str, Any]], positions: dict[str, int], dumped: dict[str, Any]) -> int:
        """Take back what :meth:`dump` gave; the number of run-time rules restored (one that no longer fits the
        IDL is dropped with a warning)."""
        restored = 0
        for r in rules:
            try:
                self._add(
                    str(r["service"]), r.get("method"), r.get("rule") or {}, str(r["id"]), r.get("peer")
                )
                restored += 1
            except (StubError, KeyError) as err:
                logger.warning("dropping run-time rule %s: %s", r.get("id"), err)
        numbers = [
            int(r["id"][4:])
            for r in rules
            if str(r.get("id", "")).startswith("api:") and r["id"][4:].isdigit()
        ]
        self._api_ids = itertools.count(max(numbers, default=0) + 1)
        self._positions.update({str(k): int(v) for k, v in positions.items()})
        self.store.load(dumped)
        return restored

    def rules(self, service_id: str | None = None) -> list[dict[str, Any]]:
        """Every rule: ``{id, service, method (None: default), source (file|state|api), rule (its mapping)}``;
        a run-time rule scoped to one client also has ``peer``."""
        out: list[dict[str, Any]] = []
        for sid, stubs in sorted(self.book.services.items()):
            if service_id not in (None, sid):
                continue
            for method, rules in stubs.rules.items():
                out += [_listed(r, sid, method, "file") for r in rules]
            out += [{"id": STATE_RULE, "service": sid, "method": m, "source": "state"} for m in stubs.plans]
            out += [_listed(r, sid, None, "file") for r in stubs.default]
        for a in self._api:
            if service_id in (None, a.service_id):
                listed = _listed(a.rule, a.service_id, a.method, "api")
                out.append({**listed, "peer": a.peer} if a.peer is not None else listed)
        return out

    def reset_state(self, service_id: str | None = None) -> None:
        """Forget what stateful services stored and where sequences are (all services, or one)."""
        self.store.reset(service_id)
        if service_id is None:
            self._positions.clear()
            return
        stubs = self.book.service(service_id)
        ids = {r.id for rs in (stubs.rules.values() if stubs else []) for r in rs}
        ids |= {r.id for r in (stubs.default if stubs else [])}
        ids |= {a.rule.id for a in self._api if a.service_id == service_id}
        for rule_id in ids:
            self._positions.pop(rule_id, None)

    def reloaded(
        self, book: StubBook, catalog: Catalog, classes: Classes, generator: ValueGenerator
    ) -> StubEngine:
        """A new engine for new definitions that keeps the state and the rules added at run time."""
        engine = StubEngine(book, catalog, classes, generator, store=self.store, seed=self._seed)
        for a in self._api:
            try:
                engine._add(a.service_id, a.method, a.spec, a.rule.id, a.peer)
            except StubError as err:
                logger.warning("dropping run-time rule %s: it no longer fits the IDL: %s", a.rule.id, err)
        engine._api_ids = self._api_ids
        # a sequence keeps its place across reloads of other files, as long as the rule itself is unchanged
        old = {r["id"]: r.get("rule") for r in self.rules() if r["id"] in self._positions}
        for r in engine.rules():
            if r["id"] in old and old[r["id"]] == r.get("rule"):
                engine._positions[r["id"]] = self._positions[r["id"]]
        return engine


def _listed(rule: Rule, service_id: str, method: str | None, source: str) -> dict[str, Any]:
    return {"id": rule.id, "service": service_id, "method": method, "source": source, "rule": rule.spec}


def _off(rule: Rule) -> bool:
    """A ``state: none`` rule only switches the convention off; it never answers."""
    return isinstance(rule.spec, dict) and "state" in rule.spec
