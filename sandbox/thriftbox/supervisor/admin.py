"""The public admin API of one ``serve``: one loopback HTTP API that fans each request out to the mock hosts.

Every mock host serves the admin routes on its control endpoint (:mod:`thriftbox.host.routes`); ``serve`` runs
this API (``--admin-port``) so that users, the CLI and the pytest plugin see one API whatever the runtime. The
routes are documented in docs/admin-api.yaml.

It refuses what a web page could forge (docs/security.md): a ``Host`` header that is not its own address (DNS
rebinding), a state-changing request from a foreign ``Origin`` or without the admin token (``state.json``), a body
that is not ``application/json``. Bound to anything but loopback, it wants the token for reads too.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from thriftbox.control import paths
from thriftbox.control.auth import is_loopback, new_token
from thriftbox.control.client import HostClient, Refused, Unreachable
from thriftbox.control.messages import Cursor, HttpError, JournalEntry, JournalPage, JournalQuery
from thriftbox.control.server import ControlServer, Request
from thriftbox.dashboard import Sources, Timeline, register_dashboard
from thriftbox.idl.model import Catalog, match_service
from thriftbox.project.state import MockStatus

T = TypeVar("T")


def _after(position: Cursor, entries: list[JournalEntry]) -> Cursor:
    """The position after ``entries`` of a host whose answer has no cursor: its newest entry's id."""
    if len(position.positions()) > 1:
        return position
    return Cursor.of_host(max([*position.positions(), *(int(e["id"]) for e in entries)]))


def dashboard_sources(
    catalog: Callable[[], Catalog | None],
    status: Callable[[], list[MockStatus]],
    timeline: Timeline,
    runtime: str,
) -> Sources:
    """What the dashboard reads of a running session: its catalog, its mocks' status, its timeline."""

    def mocks() -> list[dict[str, Any]]:
        return [
            {"service": s.service, "host": s.host, "port": s.port, "runtime": s.runtime, "state": s.state}
            for s in status()
            if s.kind == "mock"  # real services ([real.NAME]) have no Thrift methods to show
        ]

    return Sources(catalog, mocks, timeline=timeline, runtime=runtime)


class AdminServer:
    """The public admin API of one ``serve``, in a background thread; forwards to the mock hosts.

    ``urls()`` gives service id -> control URL of its host (it changes when a runtime restarts a host).
    """

    def __init__(
        self,
        urls: Callable[[], dict[str, str]],
        host: str = "127.0.0.1",
        port: int = 0,
        root: Path | None = None,
        *,
        token: str | None = None,
        host_token: str | None = None,
        dashboard: Sources | None = None,
    ) -> None:
        self.urls = urls
        self.root = f"{root}/" if root is not None else None  # stub files below it are named relative to it
        self.token = token or new_token()  # the admin token: what the CLI and the pytest plugin send
        self.host_token = host_token  # what the mock hosts want (None: this process's own)
        self.control = ControlServer(
            host, port, token=self.token, token_for_reads=not is_loopback(host), same_origin=True
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._routes()
        self.dashboard = dashboard
        if dashboard is not None:  # the pages at the root of this API (docs/dashboard.md)
            dashboard.journal, dashboard.token = self._journal, self.token
            register_dashboard(self.control, dashboard)

    @property
    def url(self) -> str:
        return f"http://{self.control.host}:{self.control.port}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="thriftbox-admin", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self.control.start())
        except OSError as err:
            from thriftbox.errors import PortInUse

            self._error = PortInUse(
                f"the admin API cannot listen on {self.url}: {err}", hint="pass --admin-port"
            )
            self._ready.set()
            return
        self._ready.set()
        loop.run_forever()
        loop.run_until_complete(self.control.close())
        loop.close()

    def stop(self) -> None:
        if self._loop is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(5)

    def _shown(self, rule: Any) -> Any:
        """A rule id as users see it in the journal and in the stub listing alike: a stub file below the project
        folder relative to it (``mocks/users.yaml:12``); other ids (``api:3``, ``state``) as they are."""
        if self.root is not None and isinstance(rule, str) and rule.startswith(self.root):
            return rule[len(self.root) :]
        return rule

    # -- fan-out -------------------------------------------------------------------------------------------

    def _hosts(self, service: str | None = None) -> list[str]:
        urls = self.urls()
        if service:
            picked = {urls[sid] for sid in match_service(urls, service)}
            if not picked:
                raise HttpError(404, f"no served service {service!r}; served: {', '.join(sorted(urls))}")
            return sorted(picked)
        return sorted(set(urls.values()))

    async def _ask(self, url: str, call: Callable[[HostClient], T]) -> T:
        """``call`` on the host at ``url``; what the host refused is answered with its status, a host that does
        not answer with 502."""
        try:
            return await asyncio.to_thread(call, HostClient(url, timeout=65.0, token=self.host_token))
        except Refused as err:
            raise HttpError(err.status, err.reason) from None
        except Unreachable as err:
            raise HttpError(502, f"the mock host at {err.url} did not answer: {err.reason}") from None

    def _routes(self) -> None:
        c = self.control

        @c.route("GET", paths.SERVICES)
        async def services(_: Request) -> tuple[int, Any]:
            out: list[Any] = []
            for url in self._hosts():
                out += await self._ask(url, HostClient.services)
            return 200, sorted(out, key=lambda s: s["service"])

        @c.route("GET", paths.JOURNAL)
        async def journal(request: Request) -> tuple[int, Any]:
            return 200, (await self._journal(JournalQuery.from_params(request.query))).to_json()

        @c.route("DELETE", paths.JOURNAL)
        async def clear(request: Request) -> tuple[int, Any]:
            service = request.query.get("service") or None
            method = request.query.get("method") or None
            for url in self._hosts(service):
                await self._ask(url, partial(HostClient.clear_journal, service=service, method=method))
            return 200, {"cleared": service or "all"}

        @c.route("GET", paths.STUBS)
        async def stubs(request: Request) -> tuple[int, Any]:
            service = request.query.get("service") or None
            out: list[Any] = []
            for url in self._hosts(service):
                out += await self._ask(url, partial(HostClient.stubs, service=service))
            return 200, [{**rule, "id": self._shown(rule.get("id"))} for rule in out]

        @c.route("POST", paths.STUBS)
        async def add(request: Request) -> tuple[int, Any]:
            body = request.body if isinstance(request.body, dict) else {}
            urls = self._hosts(str(body.get("service") or "")) if body.get("service") else []
            if not urls:
                raise HttpError(400, 'expected {"service": ..., "method": ..., "rule": {...}}')
            return 201, await self._ask(urls[0], partial(HostClient.add_stub, body=body))

        @c.route("DELETE", paths.STUB)
        async def remove(request: Request) -> tuple[int, Any]:
            for url in self._hosts():
                try:
                    return 200, await self._ask(
                        url, partial(HostClient.remove_stub, rule_id=request.params["rule_id"])
                    )
                except HttpError as err:
                    if err.status != 404:
                        raise
            raise HttpError(404, f"no run-time stub {request.params['rule_id']!r}")

        @c.route("POST", paths.STATE_RESET)
        async def reset(request: Request) -> tuple[int, Any]:
            body = request.body if isinstance(request.body, dict) else {}
            for url in self._hosts(body.get("service")):
                await self._ask(url, partial(HostClient.reset_state, service=body.get("service")))
            return 200, {"reset": body.get("service") or "all"}

    async def _journal(self, query: JournalQuery) -> JournalPage:
        """Entries of every host, oldest first. ``since`` is the cursor a previous answer gave."""
        hosts = self._hosts(query.service)
        since = Cursor.decode(query.since)  # one part per host: the host's own cursor
        deadline = asyncio.get_running_loop().time() + query.wait
        while True:
            entries: list[JournalEntry] = []
            parts: list[tuple[int, ...]] = []
            for i, url in enumerate(hosts):
                asked = replace(query, since=since.host(i).encode(), wait=0.0)
                page = await self._ask(url, partial(HostClient.journal, query=asked))
                entries += page.entries
                part = (
                    Cursor.decode(page.cursor).host(0) if page.cursor else _after(since.host(i), page.entries)
                )
                parts.append(part.hosts[0])
            remaining = deadline - asyncio.get_running_loop().time()
            if entries or remaining <= 0:
                entries.sort(key=lambda e: (e["time"], e["id"]))
                for e in entries:
                    e["rule"] = self._shown(e.get("rule"))
                    for miss in e.get("explain") or ():
                        miss["rule"] = self._shown(miss.get("rule"))
                return JournalPage(entries, Cursor(tuple(parts)).encode())
            await asyncio.sleep(min(0.1, remaining))
