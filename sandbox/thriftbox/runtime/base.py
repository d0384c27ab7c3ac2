"""Runtimes run mock hosts: local processes, or one Docker container per service.

A *mock host* is ``thriftbox host ...`` (see :mod:`thriftbox.host.process`): one asyncio process serving one or
more services, each on its own port, plus a small HTTP control endpoint for reloads, the journal and stubs. A
runtime decides where hosts run and how many; the supervisor (:mod:`thriftbox.supervisor`) talks to every
runtime through the :class:`Runtime` protocol only.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from thriftbox.control.auth import new_token
from thriftbox.host.config import DEFAULT_MAX_FRAME as DEFAULT_MAX_FRAME  # re-exported: serve
from thriftbox.host.config import ProxyTarget
from thriftbox.project.layout import Layout
from thriftbox.project.state import MockStatus

__all__ = ["DEFAULT_MAX_FRAME", "RUNTIME_NAMES", "MockSpec", "MockStatus", "Project", "Runtime"]


@dataclass(frozen=True)
class Project:
    """What ``serve`` was asked to serve, resolved; the same for every runtime."""

    root: Path  # the project folder (the working directory of `serve`); holds .thriftbox/
    name: str  # a slug of the folder name: prefixes container names, labels the project
    idl_dirs: tuple[Path, ...]
    include_dirs: tuple[Path, ...] = ()
    mocks_dir: Path | None = None
    seed: int = 0
    host: str = "127.0.0.1"  # where ports are published / bound on this machine
    max_frame: int = DEFAULT_MAX_FRAME
    workers: int = 1  # processes per mock host (see thriftbox.host.workers)
    now: str | None = None  # ISO instant generated time is relative to (serve --now); None: today
    tls_cert: Path | None = None  # PEM files the mock ports speak TLS with (serve --tls-cert, ...), resolved
    tls_key: Path | None = None
    tls_client_ca: Path | None = None  # TLS clients must present a certificate this CA signed
    proxies: Mapping[str, ProxyTarget] = field(default_factory=dict)  # service id -> its real backend
    proxy_mode: str = "forward"
    record_dir: Path | None = None  # where recorded stub files go (mocks/recorded), when recording
    redact: tuple[str, ...] = ()  # field-name words recorded files leave out (empty: the recorder's default)
    # the host token: its hosts get it in their environment and refuse control requests without it
    control_token: str = field(default_factory=new_token, repr=False)

    @property
    def layout(self) -> Layout:
        """The project's ``.thriftbox/`` folder: ports, state, host logs."""
        return Layout(self.root)


@dataclass(frozen=True)
class MockSpec:
    """One service to serve, and the port clients reach it on."""

    service_id: str
    port: int


class Runtime(Protocol):
    """Where and how mock hosts run."""

    name: str
    preparing: str  # what the lines given to on_progress are about ("building the mock image")
    on_progress: Callable[[str], None] | None  # lines of long preparations before mocks start, when set

    def start(self, project: Project, mocks: Sequence[MockSpec]) -> None:
        """Start every mock and return once each answers a Thrift call; raise MockStartError otherwise."""

    def reload(
        self, reloaded: Collection[str], started: Sequence[MockSpec], stopped: Collection[str]
    ) -> None:
        """Apply a reload in place: re-read definitions for ``reloaded``, start and stop the others."""

    def supervise(self) -> list[str]:
        """One supervision tick: restart mocks that died; return a line per event worth reporting."""

    def status(self) -> list[MockStatus]:
        """The state of every mock this runtime started."""

    def control_urls(self) -> dict[str, str]:
        """Service id -> base URL of the control endpoint of the host serving it."""

    def logs(self, service_id: str, follow: bool = False) -> Iterator[str]:
        """Lines of the log of the host serving ``service_id``."""

    def stop(self) -> None:
        """Stop everything this runtime started. Idempotent."""


RUNTIME_NAMES = ("auto", "process", "docker")  # "auto": Docker when an engine answers, else processes
