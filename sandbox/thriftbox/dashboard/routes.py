"""The dashboard's routes on the admin API: the page, its static files, the live event stream, the call form.

``GET /`` is the page (with the admin token embedded, so its script can change things; the admin API's
``Host`` check keeps other sites from reading it). ``GET /dashboard/events`` is a server-sent event stream: the
journal (with the nearest rules of calls no rule answered) from the cursor given, then each new batch of calls as
it comes, and the reload timeline. ``POST /dashboard/call`` makes a real call, so it needs the token like every
state-changing route.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from thriftbox.control.messages import HttpError, JournalPage, JournalQuery
from thriftbox.control.server import ControlServer, Raw, Request, Stream
from thriftbox.dashboard.calls import Caller
from thriftbox.dashboard.pages import render_page
from thriftbox.dashboard.timeline import Timeline
from thriftbox.idl.model import Catalog

STATIC = {"dashboard.js": "text/javascript", "dashboard.css": "text/css"}
STATUS_EVERY = 3.0  # seconds between looks at the mocks' states (the Docker runtime asks the engine)
BATCH = 500  # journal entries per event: a burst of calls arrives in a few events, not thousands
PAGE = "/"
EVENTS = "/dashboard/events"
CALL = "/dashboard/call"
EXAMPLE = "/dashboard/example"


@dataclass
class Sources:
    """What the dashboard reads of the running ``serve`` (the admin API and the session fill it in)."""

    catalog: Callable[[], Catalog | None]
    status: Callable[[], list[dict[str, Any]]]  # per mock: service, host, port, runtime, state
    journal: Callable[[JournalQuery], Awaitable[JournalPage]] | None = None  # the admin API's fan-out
    token: str = ""
    timeline: Timeline = field(default_factory=Timeline)
    runtime: str = ""
    keepalive: float = 15.0  # seconds between comments on an idle stream


def register_dashboard(control: ControlServer, sources: Sources) -> None:
    caller = Caller()

    @control.route("GET", PAGE)
    async def page(_: Request) -> tuple[int, Any]:
        html = render_page(sources.catalog(), sources.status(), sources.token, sources.runtime)
        return 200, Raw(html.encode(), "text/html; charset=utf-8", (("Cache-Control", "no-store"),))

    @control.route("GET", "/dashboard/static/{name}")
    async def static(request: Request) -> tuple[int, Any]:
        name = request.params["name"]
        if name not in STATIC:
            raise HttpError(404, f"no such file: {name}")
        body = resources.files("thriftbox.dashboard").joinpath("static", name).read_bytes()
        return 200, Raw(body, f"{STATIC[name]}; charset=utf-8", (("Cache-Control", "no-cache"),))

    @control.route("GET", EXAMPLE)
    async def example(request: Request) -> tuple[int, Any]:
        catalog = _catalog(sources)
        service, method = request.query.get("service", ""), request.query.get("method", "")
        return 200, await asyncio.to_thread(caller.example, catalog, service, method)

    @control.route("POST", CALL)
    async def call(request: Request) -> tuple[int, Any]:
        body = request.body if isinstance(request.body, dict) else {}
        catalog = _catalog(sources)
        svc = catalog.find_service(str(body.get("service") or ""))
        mock = next((s for s in sources.status() if svc is not None and s["service"] == svc.id), None)
        if svc is None or mock is None:
            raise HttpError(404, f"no served service {body.get('service')!r}")
        host = "127.0.0.1" if mock["host"] in ("0.0.0.0", "::", "") else mock["host"]
        method, args = str(body.get("method") or ""), body.get("args") or {}
        return 200, await asyncio.to_thread(
            caller.call, catalog, svc.id, method, args, host, int(mock["port"])
        )

    @control.route("GET", EVENTS)
    async def events(request: Request) -> tuple[int, Any]:
        if sources.journal is None:
            raise HttpError(404, "no journal")
        return 200, Stream(_events(sources, request.query.get("since", "")))


def _catalog(sources: Sources) -> Catalog:
    catalog = sources.catalog()
    if catalog is None:
        raise HttpError(409, "nothing is served yet")
    return catalog


async def _events(sources: Sources, since: str) -> AsyncIterator[bytes]:
    """``journal`` events (a list of entries, oldest first, ``id`` the cursor after them) and ``timeline``
    events, as they happen."""
    assert sources.journal is not None
    cursor, seen, shown, status_at = since, 0, None, 0.0
    loop = asyncio.get_running_loop()
    yield b"retry: 1000\n\n"
    while True:
        for event in sources.timeline.since(seen):
            seen = event["seq"]
            yield _sse("timeline", event)
        if loop.time() >= status_at:  # a mock restarting or dead shows without a reload of the page
            status_at = loop.time() + STATUS_EVERY
            mocks = await asyncio.to_thread(sources.status)
            if mocks != shown:
                shown = mocks
                yield _sse("status", mocks)
        page = await sources.journal(
            JournalQuery(since=cursor, wait=min(1.0, sources.keepalive), explain=True)
        )
        entries = page.entries
        for start in range(0, len(entries), BATCH):
            cursor = page.cursor if start + BATCH >= len(entries) else cursor
            yield _sse("journal", entries[start : start + BATCH], cursor)
        cursor = page.cursor or cursor
        if not entries:
            yield b": idle\n\n"


def _sse(event: str, data: Any, cursor: str = "") -> bytes:
    head = f"event: {event}\n" + (f"id: {cursor}\n" if cursor else "")
    return (head + "data: " + json.dumps(data, default=str, separators=(",", ":")) + "\n\n").encode()
