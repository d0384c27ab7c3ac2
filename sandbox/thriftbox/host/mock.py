"""The mock of one service: the wire server's App, answering every call from stubs, state or generated data.

A :class:`MockApp` is immutable in spirit: a reload builds a new one from the new catalog and the wire server
swaps it in place (``server.app = new``), so a call already running finishes with the definitions it started
with.

A multiplexed call that names another service (``SecondService:secondtestString`` on ThriftTest's port, as
Apache's multiplexed test clients send) goes to that service's mock when the same host serves it: ``siblings``
finds it, the way Apache's ``TMultiplexedProcessor`` serves every registered service on one port.

fbthrift methods that only Rocket carries (``ServiceDef.rocket``: streams, sinks, interactions) are bound too,
so that a call to one is answered with ``UNSUPPORTED_CLIENT_TYPE`` saying why, not as an unknown method.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias

from thriftpy2.thrift import TApplicationException

from thriftbox.contract.check import check_result
from thriftbox.host.journal import Journal, reply_json, value_json
from thriftbox.host.proxy import Backend
from thriftbox.idl.classes import Classes
from thriftbox.idl.model import Catalog, Kind, Method, ServiceDef
from thriftbox.stubs import StubBook, StubEngine
from thriftbox.stubs.record import Recorder
from thriftbox.values import ValueGenerator
from thriftbox.values.convert import fields_to_json
from thriftbox.wire.app import APP_ERROR_TYPES, NOT_NOW, AppError, Binding, Call, NoReply, Reply, Success


@dataclass
class Loaded:
    """One consistent generation of definitions: what a reload replaces as a whole."""

    catalog: Catalog
    classes: Classes
    generator: ValueGenerator
    book: StubBook


Siblings: TypeAlias = Callable[[ServiceDef, str], "MockApp | None"]
"""``(asking service, multiplexed name) -> the mock serving that name on the same host``, or ``None``."""


class MockApp:
    """Answers calls for one service (and, through ``siblings``, multiplexed calls naming another one)."""

    def __init__(
        self,
        service: ServiceDef,
        catalog: Catalog,
        classes: Classes,
        generator: ValueGenerator,
        *,
        engine: StubEngine | None = None,
        journal: Journal | None = None,
        siblings: Siblings | None = None,
        proxy: Backend | None = None,
        proxy_mode: str = "forward",
        recorder: Recorder | None = None,
    ) -> None:
        self.service = service
        self.catalog = catalog
        self.classes = classes
        self.generator = generator
        self.engine = engine
        self.journal = journal
        self.siblings = siblings
        self.proxy = proxy  # the real backend calls go to (see thriftbox.host.proxy)
        self.proxy_mode = proxy_mode  # "forward": every call; "fallback": those no stub rule or state answers
        self.recorder = recorder  # writes the backend's answers as stub rules
        self._names = {service.name, service.id}
        self._bindings: dict[str, Binding] = {}

    def _route(self, service: str | None) -> MockApp | None:
        """The mock that answers calls prefixed ``service``: this one, a sibling, or none."""
        if service is None or service in self._names:
            return self
        if self.siblings is None:
            return None
        sibling = self.siblings(self.service, service)
        return sibling if sibling is not None and service in sibling._names else None

    def bind(self, service: str | None, method: str) -> Binding | None:
        if service is None:  # the usual case, once per message
            binding = self._bindings.get(method)
            if binding is not None:
                return binding
        app = self._route(service)
        return None if app is None else app._bind(method)

    def _bind(self, method: str) -> Binding | None:
        binding = self._bindings.get(method)
        if binding is None:
            m = self.service.methods.get(method)
            fast = m is not None and not m.oneway and m.returns.kind is not Kind.VOID
            if m is None:
                if method not in self.service.rocket:
                    return None
                m = self.service.rocket[method].method
            binding = Binding(
                args_cls=self.classes.args(self.service.id, method),
                result_cls=self.classes.result(self.service.id, method),
                oneway=m.oneway,
                required=tuple(a.name for a in m.args if a.required),
                answer=self._fast_path(method) if fast and self.proxy is None else None,
            )
            self._bindings[method] = binding
        return binding

    def _fast_path(self, method: str) -> Callable[[Call], object]:
        """``Binding.answer`` for ``method``: ``handle`` without a coroutine for the usual call, where no rule can
        apply and the answer is generated (the same value, and the same journal entry, as ``handle`` gives)."""
        sid, names = self.service.id, self._names
        m = self.service.methods[method]
        generate = self.generator.answerer(sid, method)

        def answer_now(call: Call) -> object:
            if call.service is not None and call.service not in names:
                return NOT_NOW  # for a sibling
            engine = self.engine
            if engine is not None and engine.has_rules(sid, method):
                return NOT_NOW
            value = generate(call.args)
            if self.journal is not None:
                self._record(call, m, Success(value), "generated", None)
            return value

        return answer_now

    def rejected(self, call: Call, problem: str) -> None:
        """The wire refused this call (arguments that break the IDL): journal it like any other call."""
        app = self._route(call.service)
        if app is not None and app is not self:
            app.rejected(call, problem)
            return
        m = self.service.methods.get(call.method)
        if m is not None:
            self._record(call, m, AppError(TApplicationException.PROTOCOL_ERROR, problem), "wire", None)

    async def handle(self, call: Call) -> Reply:
        if call.service is not None and call.service not in self._names:  # for a sibling
            app = self._route(call.service)
            if app is None:  # gone (a reload) between bind and handle
                text = f"Unknown method '{call.service}:{call.method}'"
                return AppError(TApplicationException.UNKNOWN_METHOD, text)
            return await app.handle(call)
        m = self.service.methods.get(call.method)
        if m is None:
            return self._unserved(call)
        engine, peer = self.engine, call.peer[0] if call.peer else None
        if self.proxy is not None and (engine is None or self.proxy_mode == "forward"):
            return await self._forward(call, m, self.proxy)
        decision = engine.decide(self.service.id, call.method, call.args, peer) if engine else None
        if self.proxy is not None and (decision is None or decision.reply is None):
            return await self._forward(call, m, self.proxy)  # fallback: what no rule or state answers
        if decision is not None and decision.latency_s > 0:
            await asyncio.sleep(decision.latency_s)
        reply: Reply
        if decision is not None and decision.reply is not None:
            reply = decision.reply
        elif m.oneway:
            reply = NoReply()
        else:
            value = self.generator.answer(self.service.id, call.method, call.args)
            reply = Success(value if m.returns.kind is not Kind.VOID else None)
        if m.oneway:
            reply = NoReply()
        source, rule = (decision.source, decision.rule) if decision is not None else ("generated", None)
        self._record(call, m, reply, source, rule)
        return reply

    def _unserved(self, call: Call) -> Reply:
        """A call to an fbthrift method only Rocket carries: an error that names the reason, journaled."""
        rocket = self.service.rocket[call.method]
        reply = AppError(APP_ERROR_TYPES["UNSUPPORTED_CLIENT_TYPE"], f"{self.service.name}: {rocket.reason}")
        self._record(call, rocket.method, reply, "unserved", None)
        return reply

    async def _forward(self, call: Call, m: Method, proxy: Backend) -> Reply:
        """Answer with what the real backend answers; check it against the IDL, journal and record it."""
        binding = self._bind(call.method)
        assert binding is not None
        done = await proxy.forward(m, call.args, binding.result_cls)
        problems = [] if done.result is None else check_result(self.catalog, m, done.result)
        proxied = {"backend": proxy.target.address, "latency_ms": round(done.latency_ms, 3)}
        if done.failed:
            proxied["error"] = done.reply.message if isinstance(done.reply, AppError) else "failed"
        reply: Reply = NoReply() if m.oneway else done.reply
        extra: dict[str, object] = {"proxied": proxied, "violations": [str(p) for p in problems]}
        if self.recorder is not None and not done.failed and not m.oneway:
            args = fields_to_json(m.args, call.args, lambda t, v: value_json(self.catalog, t, v))
            self.recorder.add(
                self.service.id, m.name, args, reply_json(self.catalog, m, reply), done.latency_ms
            )
            extra["recorded"] = True
        self._record(call, m, reply, "proxy", None, extra)
        return reply

    def _record(
        self,
        call: Call,
        m: Method,
        reply: Reply,
        source: str,
        rule: str | None,
        extra: dict[str, object] | None = None,
    ) -> None:
        """Journal one call of this service (when there is a journal)."""
        if self.journal is not None:
            self.journal.record(
                service=self.service.id,
                method=call.method,
                args=call.args,
                reply=reply,
                source=source,
                rule=rule,
                latency_ms=(time.perf_counter() - call.received_at) * 1000.0,
                call=call,
                method_def=m,
                extra=extra,
            )
