"""The public admin API of one ``serve``: one loopback HTTP API that fans each request out to the mock hosts.

Every mock host serves the admin routes on its control endpoint (:mod:`thriftbox.host.routes`); ``serve`` runs
this API (``--admin-port``) so that users, the CLI and the pytest plugin see one API whatever the runtime. The
routes are documented in docs/admin-api.yaml.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from thriftbox.control.http import ControlServer, HttpError, Request, request_json


def _after(position: str, entries: list[dict[str, Any]]) -> str:
    """The position after ``entries`` of a host whose answer has no cursor: its newest entry's id."""
    if not position.isdigit():
        return position
    return str(max([int(position), *(int(e["id"]) for e in entries)]))


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
    ) -> None:
        self.urls = urls
        self.root = f"{root}/" if root is not None else None  # stub files below it are named relative to it
        self.control = ControlServer(host, port)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._routes()

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

    # -- fan-out -------------------------------------------------------------------------------------------

    def _hosts(self, service: str | None = None) -> list[str]:
        urls = self.urls()
        if service:
            picked = {u for sid, u in urls.items() if sid == service or sid.rsplit(".", 1)[-1] == service}
            if not picked:
                raise HttpError(404, f"no served service {service!r}; served: {', '.join(sorted(urls))}")
            return sorted(picked)
        return sorted(set(urls.values()))

    async def _ask(self, url: str, method: str = "GET", body: Any = None, timeout: float = 65.0) -> Any:
        return await asyncio.to_thread(request_json, url, method, body, timeout)

    def _routes(self) -> None:
        c = self.control

        @c.route("GET", "/services")
        async def services(_: Request) -> tuple[int, Any]:
            out: list[Any] = []
            for url in self._hosts():
                out += await self._forward(url + "/services", "GET", None)
            return 200, sorted(out, key=lambda s: s["service"])

        @c.route("GET", "/journal")
        async def journal(request: Request) -> tuple[int, Any]:
            return 200, await self._journal(request.query)

        @c.route("DELETE", "/journal")
        async def clear(_: Request) -> tuple[int, Any]:
            for url in self._hosts():
                await self._forward(url + "/journal", "DELETE", None)
            return 200, {"cleared": True}

        @c.route("GET", "/stubs")
        async def stubs(request: Request) -> tuple[int, Any]:
            service = request.query.get("service") or None
            out: list[Any] = []
            for url in self._hosts(service):
                out += await self._forward(
                    url + "/stubs" + (f"?service={service}" if service else ""), "GET", None
                )
            return 200, out

        @c.route("POST", "/stubs")
        async def add(request: Request) -> tuple[int, Any]:
            body = request.body if isinstance(request.body, dict) else {}
            urls = self._hosts(str(body.get("service") or "")) if body.get("service") else []
            if not urls:
                raise HttpError(400, 'expected {"service": ..., "method": ..., "rule": {...}}')
            return 201, await self._forward(urls[0] + "/stubs", "POST", body)

        @c.route("DELETE", "/stubs/{rule_id}")
        async def remove(request: Request) -> tuple[int, Any]:
            for url in self._hosts():
                try:
                    return 200, await self._forward(
                        url + "/stubs/" + request.params["rule_id"], "DELETE", None
                    )
                except HttpError as err:
                    if err.status != 404:
                        raise
            raise HttpError(404, f"no run-time stub {request.params['rule_id']!r}")

        @c.route("POST", "/state/reset")
        async def reset(request: Request) -> tuple[int, Any]:
            body = request.body if isinstance(request.body, dict) else {}
            for url in self._hosts(body.get("service")):
                await self._forward(url + "/state/reset", "POST", body)
            return 200, {"reset": body.get("service") or "all"}

    async def _forward(self, url: str, method: str, body: Any) -> Any:
        try:
            return await self._ask(url, method, body)
        except HttpError:
            raise
        except OSError as err:
            raise HttpError(502, f"the mock host at {url} did not answer: {err}") from None

    async def _journal(self, query: dict[str, str]) -> dict[str, Any]:
        """Entries of every host, oldest first. ``since`` is the cursor a previous answer gave."""
        hosts = self._hosts(query.get("service") or None)
        # one position per host: the host's own cursor (digits, or digits joined by "." for a host with workers)
        cursor = [x.strip() for x in query.get("since", "").split(",")]
        cursor = [x if x.replace(".", "").isdigit() else "0" for x in cursor if x.strip()]
        cursor += ["0"] * (len(hosts) - len(cursor))
        params = {k: v for k, v in query.items() if k in ("service", "method", "client") and v}
        wait = min(float(query.get("wait") or 0), 60.0)
        deadline = asyncio.get_running_loop().time() + wait
        while True:
            entries: list[dict[str, Any]] = []
            new_cursor = []
            for i, url in enumerate(hosts):
                qs = "&".join(f"{k}={v}" for k, v in {**params, "since": cursor[i]}.items())
                answer = await self._forward(f"{url}/journal?{qs}", "GET", None)
                entries += answer["entries"]
                new_cursor.append(str(answer.get("cursor") or _after(cursor[i], answer["entries"])))
            remaining = deadline - asyncio.get_running_loop().time()
            if entries or remaining <= 0:
                entries.sort(key=lambda e: (e["time"], e["id"]))
                if self.root is not None:
                    for e in entries:
                        if isinstance(e.get("rule"), str) and e["rule"].startswith(self.root):
                            e["rule"] = e["rule"][len(self.root) :]
                return {"entries": entries, "cursor": ",".join(map(str, new_cursor))}
            await asyncio.sleep(min(0.1, remaining))
