"""The mock host: one asyncio process serving one or more services, each on its own port.

Runs as ``thriftbox host ...``: a local child process of ``serve`` (process runtime) or the main process of a
container (Docker runtime). Besides the Thrift ports it serves a control endpoint (``thriftbox.control``) for
reloads, health, and the admin routes (journal, stubs, state).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from thriftbox.control import ControlServer, HttpError, Request
from thriftbox.errors import ThriftboxError
from thriftbox.idl import load_catalog
from thriftbox.idl.classes import Classes
from thriftbox.idl.model import Catalog
from thriftbox.mock import MockApp
from thriftbox.values import ValueGenerator
from thriftbox.wire.server import ThriftServer

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class HostConfig:
    idl_dirs: tuple[Path, ...]
    services: dict[str, int]  # service id -> port
    include_dirs: tuple[Path, ...] = ()
    mocks_dir: Path | None = None
    seed: int = 0
    bind: str = "127.0.0.1"
    control_port: int = 0
    max_frame: int = 16 * 2**20


@dataclass
class Loaded:
    """One consistent generation of definitions: what a reload replaces as a whole."""

    catalog: Catalog
    classes: Classes
    generator: ValueGenerator
    extras: dict[str, Any] = field(default_factory=dict)


class MockHost:
    def __init__(self, config: HostConfig) -> None:
        self.config = config
        self.servers: dict[str, ThriftServer] = {}
        self.control = ControlServer(config.bind, config.control_port)
        self.loaded: Loaded | None = None
        self.started_at = time.time()
        self.reloads = 0
        self._stop = asyncio.Event()
        self._routes()

    # -- definitions ---------------------------------------------------------------------------------------

    def load(self) -> Loaded:
        """Read every definition from disk; raises ThriftboxError and changes nothing when anything is bad."""
        catalog = load_catalog(self.config.idl_dirs, self.config.include_dirs)
        classes = Classes(catalog)
        generator = ValueGenerator(catalog, classes, seed=self.config.seed)
        return Loaded(catalog, classes, generator)

    def app_for(self, loaded: Loaded, service_id: str) -> MockApp:
        service = loaded.catalog.services.get(service_id)
        if service is None:
            raise ThriftboxError(f"service {service_id!r} is not defined in the IDL any more")
        return MockApp(service, loaded.catalog, loaded.classes, loaded.generator)

    # -- lifecycle -----------------------------------------------------------------------------------------

    async def start(self) -> None:
        self.loaded = self.load()
        for sid, port in self.config.services.items():
            await self._start_service(sid, port)
        await self.control.start()
        logger.info("host ready: %d service(s), control on port %d", len(self.servers), self.control.port)

    async def _start_service(self, sid: str, port: int) -> None:
        assert self.loaded is not None
        server = ThriftServer(
            self.app_for(self.loaded, sid), self.config.bind, port, max_frame=self.config.max_frame
        )
        await server.start()
        self.servers[sid] = server

    async def close(self) -> None:
        for server in self.servers.values():
            await server.close()
        self.servers.clear()
        await self.control.close()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self._stop.set)
        await self.start()
        try:
            await self._stop.wait()
        finally:
            await self.close()

    async def reload(
        self, reloaded: list[str], started: dict[str, int], stopped: list[str]
    ) -> dict[str, Any]:
        """Swap in new definitions for ``reloaded``, start ``started``, stop ``stopped``; all or nothing."""
        t0 = time.perf_counter()
        loaded = self.load()  # raises on a bad save: the running definitions stay
        apps = {sid: self.app_for(loaded, sid) for sid in [*reloaded, *started] if sid not in stopped}
        for sid in stopped:
            server = self.servers.pop(sid, None)
            if server is not None:
                await server.close()
        for sid, app in apps.items():
            if sid in self.servers:
                self.servers[sid].app = app
            else:
                await self._start_service(sid, started[sid])
        self.loaded = loaded
        self.reloads += 1
        return {"reloaded": sorted(apps), "stopped": sorted(stopped), "ms": (time.perf_counter() - t0) * 1000}

    # -- control endpoint ----------------------------------------------------------------------------------

    def _routes(self) -> None:
        @self.control.route("GET", "/health")
        async def health(_: Request) -> tuple[int, Any]:
            return 200, {
                "services": {sid: s.port for sid, s in self.servers.items()},
                "reloads": self.reloads,
                "uptime_s": round(time.time() - self.started_at, 3),
            }

        @self.control.route("POST", "/reload")
        async def reload(request: Request) -> tuple[int, Any]:
            body = request.body or {}
            started = {str(s["service_id"]): int(s["port"]) for s in body.get("started", [])}
            try:
                result = await self.reload(
                    list(body.get("reloaded", [])), started, list(body.get("stopped", []))
                )
            except ThriftboxError as err:
                raise HttpError(422, str(err)) from None
            return 200, result

        @self.control.route("POST", "/shutdown")
        async def shutdown(_: Request) -> tuple[int, Any]:
            self._stop.set()
            return 200, {"stopping": True}


def run_host(config: HostConfig) -> None:
    """Serve until SIGTERM/SIGINT. ThriftboxErrors (bad IDL, port in use) propagate to the CLI."""
    asyncio.run(MockHost(config).run())
