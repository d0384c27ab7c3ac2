"""The mock host: one asyncio process serving one or more services, each on its own port.

Runs as ``thriftbox host ...``: a local child process of ``serve`` (process runtime) or the main process of a
container (Docker runtime). Besides the Thrift ports it serves a control endpoint (``thriftbox.control``) for
reloads, health, and the admin routes (journal, stubs, state).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import signal
import socket
import time
from typing import Any

from thriftbox.control import paths
from thriftbox.control.auth import host_token
from thriftbox.control.client import HostClient, HostRefused
from thriftbox.control.messages import HttpError, ReloadRequest, ReloadResult
from thriftbox.control.server import ControlServer, Request
from thriftbox.errors import ThriftboxError
from thriftbox.host.config import HostConfig
from thriftbox.host.journal import Journal
from thriftbox.host.mock import Loaded, MockApp
from thriftbox.host.persist import Persistence
from thriftbox.host.proxy import Proxies
from thriftbox.host.routes import register_host_routes
from thriftbox.host.uuids import mark_classes
from thriftbox.host.workers import WorkerLink, WorkerPool, worker_command
from thriftbox.idl import load_catalog
from thriftbox.idl.classes import Classes
from thriftbox.idl.model import ServiceDef
from thriftbox.stubs import StubEngine, load_stubs
from thriftbox.values import ValueGenerator
from thriftbox.wire.server import ThriftServer, raise_open_file_limit
from thriftbox.wire.tls import server_context

logger = logging.getLogger(__name__)


class MockHost:
    def __init__(self, config: HostConfig) -> None:
        self.config = config
        self.servers: dict[str, ThriftServer] = {}
        worker = config.worker_channel is not None
        # every request but /health must carry the token serve gave (a host started by hand without one is open)
        self.control = ControlServer(
            "127.0.0.1" if worker else config.control_bind,
            0 if worker else config.control_port,
            token=host_token(),
            open_paths=frozenset({paths.HEALTH}),
        )
        self.pool: WorkerPool | None = None  # the main process of a host with workers
        self.link: WorkerLink | None = None  # a worker process
        self.loaded: Loaded | None = None
        self.journal = Journal(start_id=config.journal_start)
        self.engine: StubEngine | None = None
        self.started_at = time.time()
        self.reloads = 0
        self.service_reloads: dict[str, int] = {}  # how often each service's definitions were swapped
        self._stop = asyncio.Event()
        self._reloading = asyncio.Lock()
        self.persistence: Persistence | None = None
        self._persisting: asyncio.Task[None] | None = None
        self._settling: asyncio.Task[int] | None = None
        self.tls = (  # every port answers TLS clients in TLS (and plaintext ones in plaintext)
            server_context(config.tls_cert, config.tls_key, config.tls_client_ca)
            if config.tls_cert is not None and config.tls_key is not None
            else None
        )
        self.proxies = Proxies(config, self._clients)  # real backends (they outlive reloads), the recorder
        self._routes()
        register_host_routes(self.control, self)

    # -- definitions ---------------------------------------------------------------------------------------

    def load(self) -> Loaded:
        """Read every definition from disk; raises ThriftboxError and changes nothing when anything is bad."""
        catalog = load_catalog(self.config.idl_dirs, self.config.include_dirs)
        classes = Classes(catalog)
        mark_classes(classes)  # which binary values the wire sends as uuids (Apache >= 0.19's type 16)
        now = dt.datetime.fromisoformat(self.config.now) if self.config.now else None
        generator = ValueGenerator(catalog, classes, seed=self.config.seed, now=now)
        book = load_stubs(self.config.mocks_dir, catalog, classes)
        return Loaded(catalog, classes, generator, book)

    def engine_for(self, loaded: Loaded) -> StubEngine:
        """A stub engine for new definitions; state and stubs added at run time carry over."""
        if self.engine is None:
            return StubEngine(
                loaded.book, loaded.catalog, loaded.classes, loaded.generator, seed=self.config.seed
            )
        return self.engine.reloaded(loaded.book, loaded.catalog, loaded.classes, loaded.generator)

    def app_for(self, loaded: Loaded, service_id: str, engine: StubEngine) -> MockApp:
        service = loaded.catalog.services.get(service_id)
        if service is None:
            raise ThriftboxError(f"service {service_id!r} is not defined in the IDL any more")
        return MockApp(
            service,
            loaded.catalog,
            loaded.classes,
            loaded.generator,
            engine=engine,
            journal=self.journal,
            siblings=self.sibling,
            proxy=self.proxies.backends.get(service_id),
            proxy_mode=self.config.proxy_mode,
            recorder=self.proxies.recorder,
        )

    def _clients(self, service_id: str) -> int:
        """How many client connections the mock of ``service_id`` has (its backend's pool bound)."""
        server = self.servers.get(service_id)
        return len(server.connections) if server is not None else 0

    def sibling(self, asking: ServiceDef, name: str) -> MockApp | None:
        """The mock this host serves for a multiplexed ``name`` sent to ``asking``'s port: the service with
        that id, else the one with that name in ``asking``'s file, else the only one with that name."""
        apps = [s.app for s in self.servers.values() if isinstance(s.app, MockApp)]
        for app in apps:
            if app.service.id == name:
                return app
        named = [app for app in apps if app.service.name == name]
        near = [app for app in named if app.service.file == asking.file]
        if len(near) == 1:
            return near[0]
        return named[0] if len(named) == 1 else None

    # -- lifecycle -----------------------------------------------------------------------------------------

    async def start(self) -> None:
        self.loaded = self.load()
        self.engine = self.engine_for(self.loaded)
        self.journal.catalog = self.loaded.catalog
        if self.config.state_dir is not None and self.config.worker_channel is None:
            self.persistence = Persistence(self.config.state_dir, self.journal)
            restored = self.persistence.restore(self.engine)  # before any port opens
            if restored is not None:
                logger.info("%s", restored)
            self._persisting = asyncio.get_running_loop().create_task(
                self.persistence.run(lambda: self.engine)
            )
        if self.config.workers > 1 and self.config.worker_channel is None:
            self.pool = WorkerPool(self.config.workers - 1, self._worker_command, self._catch_up)
            await self.pool.start()
        try:
            for sid, port in self.config.services.items():
                await self._start_service(sid, port)
            await self.control.start()
        except BaseException:
            await self.close()
            raise
        if self.config.worker_channel is not None:
            self.link = WorkerLink(self.config.worker_channel, self.adopt, self._stop.set)
            self.link.start(self.control.port)
        logger.info(
            "%s ready: %d service(s), control on port %d",
            "worker" if self.link else "host",
            len(self.servers),
            self.control.port,
        )
        self._warm_up(self.loaded)
        self.proxies.start()

    def _worker_command(self, journal_start: int) -> list[str]:
        """A new worker serves what this process serves now (a reload may have started or stopped services)."""
        services = {sid: s.port for sid, s in self.servers.items()} or dict(self.config.services)
        return worker_command(self.config, services, journal_start)

    async def _catch_up(self, worker_url: str) -> None:
        """Give a replacement worker the stubs added at run time (it read the files itself)."""
        for rule in self.engine.added_rules() if self.engine is not None else []:
            try:
                await asyncio.to_thread(HostClient(worker_url).add_stub, rule, timeout=30.0)
            except HostRefused as err:
                if err.status >= 500:
                    raise
                # a rule the files no longer fit (a reload removed its method): the worker will never take it
                logger.warning("a new worker process refused run-time stub %s: %s", rule["id"], err)

    def adopt(self, service_id: str, sock: socket.socket) -> None:
        """Serve a connection the main process passed to this worker."""
        self.servers[service_id].adopt(sock)

    def _warm_up(self, loaded: Loaded) -> None:
        """Fill the Faker pools every method uses in a background thread, once the ports answer: otherwise the
        first call of each method pays for them (a few hundred ms)."""
        future = asyncio.get_running_loop().run_in_executor(None, loaded.generator.prepare)

        def done(f: asyncio.Future[None]) -> None:
            if not f.cancelled() and f.exception() is not None:
                logger.warning("warming up generated data failed: %s", f.exception())

        future.add_done_callback(done)

    async def _start_service(self, sid: str, port: int) -> None:
        assert self.loaded is not None
        assert self.engine is not None
        self.servers[sid] = await self._listen(self.app_for(self.loaded, sid, self.engine), port)

    async def _listen(self, app: MockApp, port: int, handoff: bool = True) -> ThriftServer:
        """A server for ``app`` on ``port``; a worker's takes the connections the main process passes."""
        server = ThriftServer(app, self.config.bind, port, max_frame=self.config.max_frame, tls=self.tls)
        if self.config.worker_channel is not None:
            server.attach()
            return server
        await server.start()
        if self.pool is not None and handoff:
            server.handoff = self.pool.handoff_for(app.service.id)
        return server

    async def close(self) -> None:
        if self._persisting is not None:
            self._persisting.cancel()  # writes once more on its way out
            with contextlib.suppress(asyncio.CancelledError):
                await self._persisting
        self.proxies.close()
        if self.link is not None:
            self.link.close()
        for server in self.servers.values():
            await server.close()
        self.servers.clear()
        await self.control.close()
        if self.pool is not None:
            await self.pool.close()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        signals = [signal.SIGTERM, signal.SIGINT]
        if self.config.worker_channel is not None:
            # A terminal's Ctrl-C reaches the whole process group: the main process ends its workers, which
            # must not leave first (it would start others in their place while it shuts down).
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signals.remove(signal.SIGINT)
        for sig in signals:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self._stop.set)
        await self.start()
        try:
            await self._stop.wait()
        finally:
            await self.close()

    async def reload(self, request: ReloadRequest) -> ReloadResult:
        """Swap in new definitions for ``reloaded``, start ``started``, stop ``stopped``; all or nothing.

        The files are read on a worker thread, so the other services keep answering meanwhile.
        """
        async with self._reloading:
            result = await self._reload(list(request.reloaded), request.started, list(request.stopped))
            if self.pool is not None:  # the workers read the same files; then they take new connections too
                await self.pool.forward("POST", paths.RELOAD, request.to_json())  # one that fails it restarts
                self.pool.revive()
                for sid, server in self.servers.items():
                    if server.handoff is None:
                        server.handoff = self.pool.handoff_for(sid)
            return result

    async def _reload(self, reloaded: list[str], started: dict[str, int], stopped: list[str]) -> ReloadResult:
        t0 = time.perf_counter()
        loaded = await asyncio.to_thread(self.load)  # raises on a bad save: the running definitions stay
        engine = self.engine_for(loaded)
        wanted = [
            sid
            for sid in [*reloaded, *started]
            if sid not in stopped and (sid in self.servers or sid in started)
        ]
        apps = {sid: self.app_for(loaded, sid, engine) for sid in wanted}
        fresh: dict[str, ThriftServer] = {}
        try:  # new services listen first: a port in use leaves everything as it was
            for sid, app in apps.items():
                if sid not in self.servers:
                    fresh[sid] = await self._listen(app, started[sid], handoff=False)
        except BaseException:
            for server in fresh.values():
                await server.close()
            raise
        # services that did not change keep their definitions but share the new engine (stubs, state)
        for sid, running in self.servers.items():
            if sid not in apps and sid not in stopped and isinstance(running.app, MockApp):
                running.app.engine = engine
        for sid in stopped:
            gone = self.servers.pop(sid, None)
            if gone is not None:
                await gone.close()
        for sid, app in apps.items():
            if sid in fresh:
                self.servers[sid] = fresh[sid]
            else:
                self.servers[sid].app = app
                self.service_reloads[sid] = self.service_reloads.get(sid, 0) + 1
        self.loaded = loaded
        self.engine = engine
        self.journal.catalog = loaded.catalog
        self._settling = asyncio.get_running_loop().create_task(self.journal.settle())  # frees old catalogs
        self.reloads += 1
        self._warm_up(loaded)
        return ReloadResult(tuple(sorted(apps)), tuple(sorted(stopped)), (time.perf_counter() - t0) * 1000)

    # -- control endpoint ----------------------------------------------------------------------------------

    def _routes(self) -> None:
        @self.control.route("GET", paths.HEALTH)
        async def health(_: Request) -> tuple[int, Any]:
            return 200, {
                "services": {sid: s.port for sid, s in self.servers.items()},
                "reloads": self.reloads,
                "service_reloads": {sid: self.service_reloads.get(sid, 0) for sid in self.servers},
                "uptime_s": round(time.time() - self.started_at, 3),
                "workers": 1 + (self.pool.live if self.pool else 0),  # processes taking connections now
            }

        @self.control.route("POST", paths.RELOAD)
        async def reload(request: Request) -> tuple[int, Any]:
            try:
                result = await self.reload(ReloadRequest.from_json(request.body))
            except ThriftboxError as err:
                raise HttpError(422, str(err)) from None
            return 200, result.to_json()

        @self.control.route("POST", paths.SHUTDOWN)
        async def shutdown(_: Request) -> tuple[int, Any]:
            self._stop.set()
            return 200, {"stopping": True}


def run_host(config: HostConfig) -> None:
    """Serve until SIGTERM/SIGINT. ThriftboxErrors (bad IDL, port in use) propagate to the CLI."""
    raise_open_file_limit()  # each client connection holds a descriptor
    asyncio.run(MockHost(config).run())
