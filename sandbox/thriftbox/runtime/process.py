"""The process runtime: every service served by one local mock host process (asyncio, one port per service).

One process keeps start-up and memory small (40 services start in well under 3 s in about 100 MB); the host is
a child of ``serve``, dies with it (``PR_SET_PDEATHSIG`` on Linux), and is restarted if it crashes.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Collection, Iterator, Sequence
from pathlib import Path

from thriftbox.client.probe import probe
from thriftbox.control.auth import HOST_TOKEN_ENV
from thriftbox.control.client import HostClient
from thriftbox.control.messages import ReloadRequest
from thriftbox.errors import ThriftboxError
from thriftbox.host.config import HostConfig
from thriftbox.project.ports import port_free
from thriftbox.runtime.base import MockSpec, MockStatus, Project
from thriftbox.runtime.health import HEALTH_TIMEOUT, UNRESPONSIVE_GRACE, HealthWatch, Verdict
from thriftbox.runtime.wait import free_port, host_exited, log_hint, port_in_use, tail, wait_ready

_PR_SET_PDEATHSIG = 1
CONTROL_HOST = "127.0.0.1"  # the host's control endpoint listens on loopback whatever --host says
LOG_ROTATE_BYTES = 10 * 2**20  # a host log this large is moved to host.log.1 when a host starts


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def host_command(
    project: Project,
    mocks: Sequence[MockSpec],
    *,
    bind: str,
    control_port: int,
    state_dir: Path | None = None,
) -> list[str]:
    """The ``thriftbox host`` command line that serves ``mocks`` (shared with the Docker runtime's tests)."""
    config = HostConfig(
        idl_dirs=project.idl_dirs,
        services={m.service_id: m.port for m in mocks},
        include_dirs=project.include_dirs,
        mocks_dir=project.mocks_dir,
        seed=project.seed,
        bind=bind,
        control_port=control_port,
        max_frame=project.max_frame,
        workers=project.workers,
        now=project.now,
        state_dir=state_dir,
        tls_cert=project.tls_cert,
        tls_key=project.tls_key,
        tls_client_ca=project.tls_client_ca,
        proxies={
            m.service_id: project.proxies[m.service_id] for m in mocks if m.service_id in project.proxies
        },
        proxy_mode=project.proxy_mode,
        record_dir=project.record_dir,
        redact=project.redact,
    )
    return [sys.executable, "-m", "thriftbox", *config.argv()]


def rotate(log: Path, limit: int = LOG_ROTATE_BYTES) -> None:
    """Move ``log`` to ``log.1`` (replacing an older one) once it holds ``limit`` bytes: two files at most."""
    with contextlib.suppress(OSError):
        if log.stat().st_size >= limit:
            log.replace(log.with_name(log.name + ".1"))


class ProcessRuntime:
    name = "process"

    def __init__(self, start_timeout: float = 30.0) -> None:
        self.start_timeout = start_timeout
        self.preparing = "starting the mock host"
        self.on_progress: Callable[[str], None] | None = (
            None  # nothing long to report: hosts start in a second
        )
        self.project: Project | None = None
        self.mocks: dict[str, MockSpec] = {}
        self.proc: subprocess.Popen[bytes] | None = None
        self.control_port = 0
        self.restarts = 0
        self.log_path: Path | None = None
        self.state_dir: Path | None = None  # the host's, for what survives its restart (host.persist)
        self.health = HealthWatch()

    # -- lifecycle -----------------------------------------------------------------------------------------

    def start(self, project: Project, mocks: Sequence[MockSpec]) -> None:
        self.project = project
        self.mocks = {m.service_id: m for m in mocks}
        for m in mocks:
            if not port_free(project.host, m.port):
                raise port_in_use(project.host, m.port, m.service_id)
        self.state_dir = project.layout.hosts_dir / "process"
        shutil.rmtree(self.state_dir, ignore_errors=True)  # a new serve starts clean
        self._spawn()

    def _spawn(self) -> None:
        assert self.project is not None
        layout = self.project.layout
        layout.logs_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = layout.host_log
        rotate(self.log_path)
        self.control_port = free_port(CONTROL_HOST)
        cmd = host_command(
            self.project,
            list(self.mocks.values()),
            bind=self.project.host,
            control_port=self.control_port,
            state_dir=self.state_dir,
        )
        env = {**os.environ, "PYTHONUNBUFFERED": "1", HOST_TOKEN_ENV: self.project.control_token}
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                cmd,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        ports = [(self.project.host, m.port) for m in self.mocks.values()]
        wait_ready(
            ports,
            lambda hp: probe(*hp, timeout=0.5),
            timeout=self.start_timeout,
            name=lambda hp: f"{hp[0]}:{hp[1]}",
            gone=host_exited(self.proc, self.log_path),
            hint=lambda _: log_hint(self.log_path),
        )

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        if self.state_dir is not None:
            shutil.rmtree(self.state_dir, ignore_errors=True)

    # -- supervision ---------------------------------------------------------------------------------------

    def supervise(self) -> list[str]:
        if self.proc is None:
            return []
        if self.proc.poll() is None:
            return self._check_health()
        return self._restart(f"mock host exited ({self.proc.returncode})")

    def _check_health(self) -> list[str]:
        """Ask a running host for its health (runtime.health); one silent for the grace period is killed and
        started again (a deadlock or a stopped process answers nothing but still exists)."""
        assert self.proc is not None
        assert self.project is not None
        if not self.health.due():
            return []
        client = HostClient(self.control_url, token=self.project.control_token, timeout=HEALTH_TIMEOUT)
        try:
            client.health()
            answered = True
        except ThriftboxError:
            answered = False
        verdict = self.health.saw(answered)
        pid = self.proc.pid
        if verdict is Verdict.SILENT:
            return [
                f"mock host (pid {pid}) does not answer its health check: unresponsive; "
                f"it is replaced if still silent in {UNRESPONSIVE_GRACE:g} s"
            ]
        if verdict is Verdict.BACK:
            return [f"mock host (pid {pid}) answers its health check again"]
        if verdict is Verdict.REPLACE:
            silent = self.health.silent_for()
            self.proc.kill()
            self.proc.wait(timeout=10)
            return self._restart(
                f"mock host (pid {pid}) unresponsive for {silent:.0f} s: killed and restarted"
            )
        return []

    def _restart(self, why: str) -> list[str]:
        self.restarts += 1
        kept = self.state_dir is not None and (self.state_dir / "host.json").is_file()
        self.health.reset()
        try:
            self._spawn()
        except ThriftboxError as err:
            return [f"{why}; restart failed: {err}"]
        restored = "; run-time stubs, state and journal restored" if kept else ""
        return [f"{why}, restarted: {len(self.mocks)} service(s) serving again{restored}"]

    def status(self) -> list[MockStatus]:
        assert self.project is not None
        alive = self.proc is not None and self.proc.poll() is None
        pid = str(self.proc.pid) if self.proc is not None else ""
        workers = self.project.workers
        return [
            MockStatus(
                service=sid,
                host=self.project.host,
                port=m.port,
                runtime=self.name,
                state=("unresponsive" if self.health.unresponsive else "ready") if alive else "dead",
                detail=f"pid {pid}" + (f" (x{workers})" if workers > 1 else ""),
                restarts=self.restarts,
            )
            for sid, m in sorted(self.mocks.items())
        ]

    def control_urls(self) -> dict[str, str]:
        assert self.project is not None
        return dict.fromkeys(self.mocks, self.control_url)

    @property
    def control_url(self) -> str:
        return f"http://{CONTROL_HOST}:{self.control_port}"

    def reload(
        self, reloaded: Collection[str], started: Sequence[MockSpec], stopped: Collection[str]
    ) -> None:
        assert self.project is not None
        request = ReloadRequest(
            tuple(sorted(reloaded)), {m.service_id: m.port for m in started}, tuple(sorted(stopped))
        )
        HostClient(self.control_url, token=self.project.control_token).reload(
            request
        )  # HostRefused: bad files
        for sid in stopped:
            self.mocks.pop(sid, None)
        for m in started:
            self.mocks[m.service_id] = m

    def logs(self, service_id: str, follow: bool = False) -> Iterator[str]:
        if self.log_path is None:
            return iter(())
        return tail(self.log_path, follow=follow)
