"""The process runtime: every service served by one local mock host process (asyncio, one port per service).

One process keeps start-up and memory small (40 services start in well under 3 s in about 100 MB); the host is
a child of ``serve``, dies with it (``PR_SET_PDEATHSIG`` on Linux), and is restarted if it crashes.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
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
from thriftbox.runtime.wait import free_port, host_exited, log_hint, port_in_use, tail, wait_ready

_PR_SET_PDEATHSIG = 1
CONTROL_HOST = "127.0.0.1"  # the host's control endpoint listens on loopback whatever --host says


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def host_command(project: Project, mocks: Sequence[MockSpec], *, bind: str, control_port: int) -> list[str]:
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
        proxies={
            m.service_id: project.proxies[m.service_id] for m in mocks if m.service_id in project.proxies
        },
        proxy_mode=project.proxy_mode,
        record_dir=project.record_dir,
        redact=project.redact,
    )
    return [sys.executable, "-m", "thriftbox", *config.argv()]


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

    # -- lifecycle -----------------------------------------------------------------------------------------

    def start(self, project: Project, mocks: Sequence[MockSpec]) -> None:
        self.project = project
        self.mocks = {m.service_id: m for m in mocks}
        for m in mocks:
            if not port_free(project.host, m.port):
                raise port_in_use(project.host, m.port, m.service_id)
        self._spawn()

    def _spawn(self) -> None:
        assert self.project is not None
        layout = self.project.layout
        layout.logs_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = layout.host_log
        self.control_port = free_port(CONTROL_HOST)
        cmd = host_command(
            self.project, list(self.mocks.values()), bind=self.project.host, control_port=self.control_port
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
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)

    # -- supervision ---------------------------------------------------------------------------------------

    def supervise(self) -> list[str]:
        if self.proc is None or self.proc.poll() is None:
            return []
        code = self.proc.returncode
        self.restarts += 1
        try:
            self._spawn()
        except ThriftboxError as err:
            return [f"mock host exited ({code}); restart failed: {err}"]
        return [f"mock host exited ({code}), restarted: {len(self.mocks)} service(s) serving again"]

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
                state="ready" if alive else "dead",
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
