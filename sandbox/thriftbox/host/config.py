"""What a mock host serves, and the ``thriftbox host`` command line that says so.

The runtimes start hosts (local processes, containers) and a host starts its worker processes; all of them
build the command line from a :class:`HostConfig` with :meth:`HostConfig.argv`, the inverse of what the CLI's
``host`` command parses. Kept apart from ``thriftbox.host.process`` so that ``serve`` need not import the mock itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from thriftbox.client.target import PROXY_MODES, ProxyTarget

__all__ = ["DEFAULT_MAX_FRAME", "PROXY_MODES", "HostConfig", "ProxyTarget"]

DEFAULT_MAX_FRAME = 16 * 2**20  # the largest message a mock accepts unless told otherwise (--max-frame)


@dataclass(frozen=True)
class HostConfig:
    idl_dirs: tuple[Path, ...]
    services: dict[str, int]  # service id -> port
    include_dirs: tuple[Path, ...] = ()
    mocks_dir: Path | None = None
    seed: int = 0
    bind: str = "127.0.0.1"
    control_port: int = 0
    control_bind: str = "127.0.0.1"  # loopback whatever `bind` is; a container's interface in Docker
    max_frame: int = DEFAULT_MAX_FRAME
    workers: int = 1  # processes serving the ports (see thriftbox.host.workers)
    worker_channel: int | None = None  # set in a worker process: the fd connections arrive on
    journal_start: int = 0  # the id after which the journal numbers its entries
    now: str | None = None  # ISO instant generated time is relative to (serve --now); None: today
    state_dir: Path | None = None  # where run-time stubs, state and journal survive a restart (host.persist)
    # TLS beside plaintext on every port: PEM files (paths only: key material never on a command line)
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_client_ca: Path | None = None
    proxies: dict[str, ProxyTarget] = field(default_factory=dict)  # service id -> its real backend
    proxy_mode: str = "forward"  # or "fallback": stub rules and state first (see thriftbox.host.proxy)
    record_dir: Path | None = None  # write what the backends answer as stub files here (mocks/recorded)
    redact: tuple[str, ...] = ()  # field-name words recorded files leave out (empty: the recorder's default)

    def argv(self) -> list[str]:
        """``host --bind ... --service ID=PORT ...``: the arguments of ``thriftbox`` that run this host."""
        cmd = ["host", "--bind", self.bind, "--control-port", str(self.control_port)]
        if self.control_bind != "127.0.0.1":
            cmd += ["--control-bind", self.control_bind]
        cmd += ["--seed", str(self.seed), "--max-frame", str(self.max_frame)]
        if self.workers > 1:
            cmd += ["--workers", str(self.workers)]
        if self.now is not None:
            cmd += ["--now", self.now]
        if self.journal_start:
            cmd += ["--journal-start", str(self.journal_start)]
        if self.worker_channel is not None:
            cmd += ["--worker-channel", str(self.worker_channel)]
        if self.state_dir is not None:
            cmd += ["--state-dir", str(self.state_dir)]
        if self.tls_cert is not None and self.tls_key is not None:
            cmd += ["--tls-cert", str(self.tls_cert), "--tls-key", str(self.tls_key)]
        if self.tls_client_ca is not None:
            cmd += ["--tls-client-ca", str(self.tls_client_ca)]
        for d in self.idl_dirs:
            cmd += ["--idl", str(d)]
        for d in self.include_dirs:
            cmd += ["--include-dir", str(d)]
        if self.mocks_dir is not None:
            cmd += ["--mocks", str(self.mocks_dir)]
        for sid, port in self.services.items():
            cmd += ["--service", f"{sid}={port}"]
        for sid, target in self.proxies.items():
            cmd += ["--proxy", f"{sid}={target.spec()}"]
        if self.proxies and self.proxy_mode != "forward":
            cmd += ["--proxy-mode", self.proxy_mode]
        if self.record_dir is not None:
            cmd += ["--record-dir", str(self.record_dir)]
            for word in self.redact:
                cmd += ["--redact", word]
        return cmd
