"""The Python API behind ``thriftbox serve``: load, number, start, supervise, reload, stop.

:func:`serve` is the one way mocks are started: the CLI, the pytest fixture and any program call it and get a
running :class:`Session`.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from thriftbox.control.auth import is_loopback
from thriftbox.dashboard import Timeline
from thriftbox.errors import ConfigError, ThriftboxError
from thriftbox.idl import load_catalog
from thriftbox.idl.model import Catalog
from thriftbox.project.file import check_services
from thriftbox.project.layout import project_name
from thriftbox.project.ports import assign_ports, port_free
from thriftbox.project.state import (
    MockStatus,
    ServedProject,
    ServeState,
    clear_state,
    read_state,
    write_state,
)
from thriftbox.runtime.base import MockSpec, Project, Runtime
from thriftbox.runtime.registry import choose_runtime, get_runtime
from thriftbox.supervisor.admin import AdminServer, dashboard_sources
from thriftbox.supervisor.config import ServeConfig, validate_paths
from thriftbox.supervisor.real import RealServices
from thriftbox.supervisor.reloader import Reloader, load_stub_book
from thriftbox.values import check_annotations
from thriftbox.wire.server import raise_open_file_limit
from thriftbox.wire.tls import server_context

logger = logging.getLogger(__name__)

Reporter = Callable[[str], None]


def serve(
    config: ServeConfig,
    *,
    report: Reporter | None = None,
    progress: Reporter | None = None,
    on_runtime: Callable[[str, str], None] | None = None,
    runtime: Runtime | None = None,
) -> Session:
    """Start every mock ``config`` asks for and return the running session.

    Returns once every mock answers a Thrift call. Stop it with :meth:`Session.stop` (or use it as a context
    manager); :meth:`Session.run_forever` supervises and hot-reloads until then. ``report`` gets a line per
    event (a reload, a restart); ``progress`` a line per step of long start-up work (an image build);
    ``on_runtime`` the runtime's name and why it was chosen, before the mocks start.
    """
    session = Session(config, report=report, progress=progress, runtime=runtime, on_runtime=on_runtime)
    try:
        session.start()
    except BaseException:
        session.stop()
        raise
    return session


class Session:
    """One ``serve``: owns the runtime, the admin API, the state file and, once running, the reloader."""

    def __init__(
        self,
        config: ServeConfig,
        report: Reporter | None = None,
        runtime: Runtime | None = None,
        progress: Reporter | None = None,
        on_runtime: Callable[[str, str], None] | None = None,
    ) -> None:
        self.config = config
        self.on_runtime = on_runtime
        self._reporter: Reporter = report or (lambda line: logger.info("%s", line))
        self.timeline = Timeline()  # what the dashboard shows of the lines reported
        self.progress: Reporter = progress or (lambda line: logger.debug("%s", line))
        paths = validate_paths(config.paths)
        tls = tls_files(config)
        proxies = config.proxy_targets
        self.project = Project(
            root=config.root.resolve(),
            name=project_name(config.root),
            idl_dirs=paths,
            include_dirs=validate_paths(config.include_dirs),
            mocks_dir=validate_paths([config.mocks_dir])[0] if config.mocks_dir else None,
            seed=config.seed,
            host=config.host,
            max_frame=config.max_frame,
            # recording: one process, as each process would write the file with only the calls it served
            workers=1 if config.recording and proxies else config.workers,
            now=config.now,
            tls_cert=tls[0],
            tls_key=tls[1],
            tls_client_ca=tls[2],
            proxies=proxies,
            proxy_mode=config.proxy_mode,
            record_dir=self._record_dir(config) if config.recording else None,
            redact=tuple(config.redact),
        )
        self.runtime = runtime
        self.runtime_reason = "given"
        self.started_in = 0.0
        self.admin_url = ""
        self.admin: AdminServer | None = None
        self.reloader: Reloader | None = None
        self.real: RealServices | None = None  # [real.NAME] services, when serve read a thriftbox.toml
        self._stop = threading.Event()

    def report(self, line: str) -> None:
        """One line for the user (a reload, a broken save, a restarted mock), also kept for the dashboard."""
        self.timeline.add(line)
        self._reporter(line)

    @property
    def dashboard_url(self) -> str:
        """The dashboard's address ("" when turned off or not started)."""
        return f"{self.admin_url}/" if self.admin_url and self.config.dashboard else ""

    @staticmethod
    def _record_dir(config: ServeConfig) -> Path:
        """``mocks/recorded`` under the stub folder (``mocks/`` of the project when none is given)."""
        mocks = Path(config.mocks_dir) if config.mocks_dir else config.root / "mocks"
        if mocks.suffix in (".yaml", ".yml", ".json"):
            mocks = mocks.parent
        return (mocks / "recorded").resolve()

    @property
    def catalog(self) -> Catalog | None:
        """What is served now (None before start)."""
        return self.reloader.catalog if self.reloader is not None else None

    @property
    def ports(self) -> dict[str, int]:
        """Service id -> port, of what is served now."""
        return dict(self.reloader.ports) if self.reloader is not None else {}

    # -- start / stop --------------------------------------------------------------------------------------

    def start(self) -> list[MockStatus]:
        """Start every mock; returns once each answers, with their status. Watches for saves if asked to."""
        project = self.project
        raise_open_file_limit()  # for the hosts this process starts, too: they inherit it
        running = read_state(project.layout)
        if running is not None and running.pid != os.getpid():
            raise ConfigError(
                f"a `thriftbox serve` already runs in this folder (pid {running.pid})",
                hint="`thriftbox status` shows what it serves; stop it (Ctrl-C in its terminal) to serve anew, "
                "or serve from another folder",
            )
        catalog = load_catalog(project.idl_dirs, project.include_dirs)
        check_annotations(catalog)  # a misspelt faker provider: at its line, before any host starts
        if not catalog.services:
            raise ConfigError(
                "no service found in " + ", ".join(map(str, project.idl_dirs)),
                hint="thriftbox serves the `service` definitions of your .thrift files; check the folder",
            )
        config = self.config
        check_services(config.services, catalog, strict=config.strict_services)  # thriftbox.toml's ids exist
        for sid in config.proxies:
            if sid not in catalog.services:
                raise ConfigError(
                    f"--proxy {sid}: the IDL defines no service {sid!r}",
                    hint="name a service by its id: " + ", ".join(sorted(catalog.services)[:8]),
                )
        served = [sid for sid in catalog.services if sid not in config.disabled]
        if not served:
            raise ConfigError(
                "every service is disabled (enabled = false in thriftbox.toml)",
                hint="enable at least one service",
            )
        stubs = load_stub_book(project.mocks_dir, catalog)  # a broken stub file stops serve here, path:line
        if self.runtime is None and project.proxies and config.runtime == "auto":
            # backends are addressed as this machine sees them: reached directly, without a relay or an image
            # (the Docker runtime relays them too, but not from a remote engine; docs/recording.md, "Runtime")
            self.runtime, self.runtime_reason = (
                get_runtime("process"),
                "proxying: backends are reached from here",
            )
        if self.runtime is None:
            self.progress("choosing a runtime...")
            self.runtime, self.runtime_reason = choose_runtime(self.config.runtime, self.config.base_image)
        if self.on_runtime is not None:
            self.on_runtime(self.runtime.name, self.runtime_reason)
        ports = assign_ports(
            project.layout,
            served,
            config.port,
            host=project.host,
            fixed=config.fixed_ports,
            report=self.report,
            reserved=[outside for svc in config.real.values() for outside, _ in svc.ports],
        )
        for sid, settings in sorted(config.services.items()):
            if settings.latency is not None and sid in ports:
                self.report(f"{sid}: latency in thriftbox.toml is not applied yet (see docs/project-file.md)")
        self._warn_exposure()
        if config.real:  # before any mock starts: a bad [real.NAME] stops serve with nothing started
            self.real = RealServices(project, self.runtime, config, lambda: self.ports)
            self.real.check(config.real, ports)
        if project.record_dir is not None and config.workers > 1:
            self.report(
                f"--record: one process per mock, not {config.workers} (each would write only the calls it served)"
            )
        if project.record_dir is not None:
            try:
                make_owned_like_parent(project.record_dir)  # before a container mounts it
            except OSError as err:
                raise ConfigError(
                    f"--record: cannot create {project.record_dir} ({err.strerror or err})",
                    hint="recorded stub files go to mocks/recorded under --mocks: give a folder you can write",
                ) from None
        specs = [MockSpec(sid, port) for sid, port in ports.items()]
        t0 = time.perf_counter()
        self._start_runtime(specs)
        self.started_in = time.perf_counter() - t0
        assert self.runtime is not None
        self._start_real(ports)
        self.reloader = Reloader(
            project,
            self.runtime,
            catalog=catalog,
            stubs=stubs,
            ports=ports,
            first_port=config.port,
            fixed_ports=config.fixed_ports,
            disabled=config.disabled,
            report=self.report,
            changed=self._write_state,
        )
        self._start_admin()
        self._write_state()
        if self.config.watch:
            self.start_watching()  # before the caller says so: a save right after is seen
        return self.runtime.status()

    def _start_real(self, ports: dict[str, int]) -> None:
        """Start thriftbox.toml's real services, now that the mocks answer (checked again if ``auto`` fell back
        to processes); with no file, there are none, and saves of it are not watched."""
        config, runtime = self.config, self.runtime
        assert runtime is not None
        if self.real is None or self.real.runtime_name != runtime.name:
            if config.project_file is None and not config.real:
                return
            self.real = RealServices(self.project, runtime, config, lambda: self.ports)
            self.real.check(config.real, ports)
        if config.real:
            self.progress("starting real services...")
            for line in self.real.start(config.real, ports):
                self.report(line)

    def _warn_exposure(self) -> None:
        """One line for each address beyond loopback that this serve is asked to listen on (docs/security.md)."""
        if not is_loopback(self.project.host):
            self.report(
                f"warning: --host {self.project.host}: the mock ports answer anyone who can reach this machine "
                "(the control endpoints stay on loopback and want a token; see docs/security.md)"
            )
        if not is_loopback(self.config.admin_host):
            self.report(
                f"warning: --admin-host {self.config.admin_host}: the admin API is reachable beyond this machine; "
                "every request needs the admin token of .thriftbox/state.json (see docs/security.md)"
            )

    def _start_runtime(self, specs: list[MockSpec]) -> None:
        runtime = self.runtime
        assert runtime is not None
        runtime.on_progress = lambda line: self.progress(f"{runtime.preparing}: {line}")
        self.progress("starting mocks...")
        try:
            runtime.start(self.project, specs)
        except ThriftboxError as err:
            runtime.stop()
            if self.config.runtime != "auto" or runtime.name != "docker":
                raise
            # auto chose Docker because an engine answers, but it cannot serve (no base image, no registry...)
            self.report(f"the Docker runtime cannot start here ({err}); falling back to local processes")
            self.runtime, self.runtime_reason = get_runtime("process"), "the Docker runtime could not start"
            self.runtime.start(self.project, specs)
        except BaseException:
            runtime.stop()
            raise

    def _start_admin(self) -> None:
        port = self.config.admin_port
        if port is None:
            wanted = self.config.port - 1
            port = wanted if wanted > 0 and port_free(self.config.admin_host, wanted) else 0
        runtime = self.runtime
        assert runtime is not None
        self.admin = AdminServer(
            runtime.control_urls,
            self.config.admin_host,
            port,
            root=self.project.root,
            host_token=self.project.control_token,
            dashboard=dashboard_sources(lambda: self.catalog, self.status, self.timeline, runtime.name)
            if self.config.dashboard
            else None,
        )
        self.admin.start()
        self.admin_url = self.admin.url
        if self.config.admin_port is None and port == 0 and self.config.port > 1:
            self.report(
                f"port {self.config.port - 1} is in use on {self.config.admin_host}: "
                f"the admin API listens on {self.admin.url.rsplit(':', 1)[-1]} instead"
            )

    def stop(self) -> None:
        """Stop everything this session started. Idempotent."""
        self._stop.set()
        admin, self.admin = self.admin, None
        if admin is not None:
            admin.stop()
        if self.reloader is not None:
            self.reloader.stop_watching()
        real, self.real = self.real, None
        if real is not None:
            real.stop()  # first: they call the mocks
        if self.runtime is not None:
            self.runtime.stop()
        clear_state(self.project.layout)

    def __enter__(self) -> Session:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def status(self) -> list[MockStatus]:
        """Every mock, then every real service (``kind == "real"``)."""
        mocks = self.runtime.status() if self.runtime is not None else []
        return mocks + (self.real.status() if self.real is not None else [])

    def _write_state(self) -> None:
        assert self.runtime is not None
        project = self.project
        state = ServeState(
            pid=os.getpid(),
            runtime=self.runtime.name,
            admin_url=self.admin_url,
            admin_token=self.admin.token if self.admin is not None else "",
            project=ServedProject(
                name=project.name,
                idl_dirs=tuple(map(str, project.idl_dirs)),
                include_dirs=tuple(map(str, project.include_dirs)),
                mocks_dir=str(project.mocks_dir) if project.mocks_dir else None,
                seed=project.seed,
            ),
            mocks=tuple(self.status()),
            reload_error=self.reloader.last_error if self.reloader is not None else None,
        )
        write_state(project.layout, state)

    # -- the loop ------------------------------------------------------------------------------------------

    def start_watching(self) -> None:
        """Watch the IDL, include and stub folders and thriftbox.toml (``start`` does when ``config.watch``)."""
        assert self.reloader is not None, "start() first"
        self.reloader.start_watching()
        for line in self.real.watch() if self.real is not None else []:
            self.report(line)

    def apply_changes(self, changed: set[Path]) -> None:
        """Reload what the saved paths ``changed`` affect (see :meth:`Reloader.apply_changes`)."""
        assert self.reloader is not None, "start() first"
        self.reloader.apply_changes(changed)

    def run_forever(self, tick: float = 1.0) -> None:
        """Supervise and reload until :meth:`stop` (or Ctrl-C in the caller)."""
        reloader = self.reloader
        assert reloader is not None, "start() first"
        assert self.runtime is not None
        while not self._stop.is_set():
            batch = reloader.drain(tick)
            if batch is not None:
                reloader.apply_changes(batch)
            events = self.runtime.supervise()
            if self.real is not None:
                events += self.real.supervise()
            if events:
                self._write_state()  # first: `thriftbox status` agrees with what is reported
            for line in events:
                self.report(line)


def make_owned_like_parent(folder: Path) -> None:
    """Create ``folder`` (and missing parents) owned like the nearest existing parent: a ``serve`` run as root
    (or a container's host) does not leave root-owned folders in the user's project."""
    missing = []
    at = folder
    while not at.exists():
        missing.append(at)
        at = at.parent
    owner = at.stat()
    for path in reversed(missing):
        path.mkdir(exist_ok=True)
        if os.geteuid() == 0:
            os.chown(path, owner.st_uid, owner.st_gid)


def tls_files(config: ServeConfig) -> tuple[Path | None, Path | None, Path | None]:
    """The TLS files of ``config`` (certificate, key, client CA) resolved; checked now (a missing file, a key
    that does not belong to the certificate), so a mistake stops ``serve`` before any host starts."""
    if config.tls_cert is None or config.tls_key is None:
        return None, None, None
    cert, key = Path(config.tls_cert).resolve(), Path(config.tls_key).resolve()
    ca = Path(config.tls_client_ca).resolve() if config.tls_client_ca is not None else None
    server_context(cert, key, ca)
    return cert, key, ca
