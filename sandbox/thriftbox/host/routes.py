"""The admin routes of one mock host: services, the call journal, run-time stubs, simulated state.

Every mock host serves these routes on its control endpoint. ``serve`` runs one public admin API on loopback
(``--admin-port``) that fans each request out to the hosts that serve the services concerned, so users, the CLI
and the pytest plugin see one API whatever the runtime. The routes are documented in docs/admin-api.yaml.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Protocol

from thriftbox.control import paths
from thriftbox.control.messages import Cursor, HttpError, JournalEntry, JournalPage, JournalQuery
from thriftbox.control.server import ControlServer, Encoded, Request
from thriftbox.errors import ThriftboxError
from thriftbox.host.journal import Journal, render
from thriftbox.host.mock import Loaded
from thriftbox.host.workers import WorkerLink, WorkerPool, merged_journal
from thriftbox.stubs import StubEngine
from thriftbox.stubs.explain import near_misses
from thriftbox.wire.server import ThriftServer


class MockHost(Protocol):
    """What the admin routes read and change of the running host (:class:`thriftbox.host.process.MockHost`)."""

    servers: dict[str, ThriftServer]
    loaded: Loaded | None
    journal: Journal
    engine: StubEngine | None
    pool: WorkerPool | None  # the main process of a host with workers
    link: WorkerLink | None  # a worker process


def _int(query: dict[str, str], name: str) -> int | None:
    value = query.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise HttpError(400, f"{name} must be an integer") from None


def _service_id(host: MockHost, ref: object) -> str | None:
    """The id of the service ``ref`` names (a name like "Users" or an id like "users.Users"); None for none."""
    if not ref:
        return None
    found = host.loaded.catalog.find_service(str(ref)) if host.loaded is not None else None
    if found is None:
        raise HttpError(404, f"no service {ref!r} on this host")
    return found.id


def _explain(engine: StubEngine, e: JournalEntry) -> JournalEntry:
    """``e`` with ``explain`` (the nearest rules, :func:`near_misses`) when no stub rule answered it although its
    method has rules."""
    if e.get("source") != "generated" or not engine.has_rules(e["service"], e["method"]):
        return e
    peer = str(e.get("client") or "").rpartition(":")[0] or None
    misses = near_misses(engine, e["service"], e["method"], e.get("args"), peer)
    return {**e, "explain": [m.to_json() for m in misses]}


def _explained(host: MockHost, page: JournalPage, explain: bool) -> JournalPage:
    if not explain or host.engine is None:
        return page
    return JournalPage([_explain(host.engine, e) for e in page.entries], page.cursor, page.last_id)


def _explain_encoded(engine: StubEngine, entries: list[bytes]) -> list[bytes]:
    """:func:`_explain` over entries already encoded as JSON."""
    dumps = json.JSONEncoder(default=str).encode
    out = []
    for raw in entries:
        e = json.loads(raw)
        explained = _explain(engine, e)
        out.append(raw if explained is e else dumps(explained).encode())
    return out


def register_host_routes(control: ControlServer, host: MockHost) -> None:
    """The admin routes of one mock host (its services only). A host with worker processes forwards every
    change to them and merges their journals into its answers (see thriftbox.host.workers)."""

    async def to_workers(method: str, path: str, body: Any = None, missing_ok: bool = False) -> None:
        if host.pool is not None:
            await host.pool.forward(method, path, body, missing_ok=missing_ok)

    @control.route("GET", paths.SERVICES)
    async def services(_: Request) -> tuple[int, Any]:
        loaded = host.loaded
        out = []
        for sid, server in sorted(host.servers.items()):
            svc = loaded.catalog.services.get(sid) if loaded else None
            methods = list(svc.methods) if svc else []
            out.append(
                {"service": sid, "name": svc.name if svc else sid, "port": server.port, "methods": methods}
            )
        return 200, out

    @control.route("GET", paths.JOURNAL)
    async def journal(request: Request) -> tuple[int, Any]:
        q = JournalQuery.from_params(request.query)
        service, method, client = q.service, q.method, q.client
        if host.pool is not None:

            async def own(since: int) -> list[JournalEntry]:  # rendered on a thread, as below
                return await asyncio.to_thread(render, host.journal.select(service, method, since, client))

            return 200, _explained(host, await merged_journal(own, host.pool, q), q.explain).to_json()
        since = _int(request.query, "since")
        entries, newest = await host.journal.read(service, method, since, client, q.wait)
        if q.explain and host.engine is not None:  # on a thread, like the journal's own encoding
            entries = await asyncio.to_thread(_explain_encoded, host.engine, entries)
        cursor = Cursor.of_host(max(since or 0, newest))
        return 200, Encoded(JournalPage.encode(entries, cursor.encode(), host.journal.last_id))

    @control.route("DELETE", paths.JOURNAL)
    async def clear_journal(request: Request) -> tuple[int, Any]:
        service = _service_id(host, request.query.get("service"))
        method = request.query.get("method") or None
        host.journal.clear(service, method)
        await to_workers("DELETE", paths.journal_clear(service, method))
        return 200, {"cleared": service or "all", "last_id": host.journal.last_id}

    @control.route("GET", paths.STUBS)
    async def stubs(request: Request) -> tuple[int, Any]:
        service = _service_id(host, request.query.get("service"))
        return 200, host.engine.rules(service) if host.engine else []

    @control.route("POST", paths.STUBS)
    async def add_stub(request: Request) -> tuple[int, Any]:
        body = request.body
        if not isinstance(body, dict) or "service" not in body:
            raise HttpError(400, 'expected {"service": ..., "method": ..., "rule": {...}}')
        if host.engine is None:
            raise HttpError(409, "this host has no stub engine")
        peer = body.get("peer")
        if peer is not None and (not isinstance(peer, str) or not peer):
            raise HttpError(400, 'peer must be a client IP such as "127.0.0.3"')
        given = body.get("id") if host.link is not None else None  # a worker takes its main process's id
        if given is not None:
            host.engine.remove_rule(str(given))  # sent twice (a catch-up, then the change itself): once only
        try:
            rule_id = host.engine.add_rule(
                str(body["service"]), body.get("method"), body.get("rule") or {}, peer, rule_id=given
            )
        except ThriftboxError as err:
            raise HttpError(400, str(err) + (f" ({err.hint})" if err.hint else "")) from None
        await to_workers("POST", paths.STUBS, {**body, "id": rule_id})
        return 201, {"id": rule_id}

    @control.route("DELETE", paths.STUB)
    async def remove_stub(request: Request) -> tuple[int, Any]:
        removed = host.engine is not None and host.engine.remove_rule(request.params["rule_id"])
        if not removed:
            raise HttpError(404, f"no run-time stub {request.params['rule_id']!r}")
        await to_workers("DELETE", paths.stub(request.params["rule_id"]), missing_ok=True)
        return 200, {"removed": request.params["rule_id"]}

    @control.route("POST", paths.STATE_RESET)
    async def reset(request: Request) -> tuple[int, Any]:
        service = (request.body or {}).get("service") if isinstance(request.body, dict) else None
        service = _service_id(host, service)
        if host.engine is not None:
            host.engine.reset_state(service)
        await to_workers("POST", paths.STATE_RESET, request.body)
        return 200, {"reset": service or "all"}
