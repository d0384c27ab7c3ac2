"""What a ``serve`` is asked to do: :class:`ServeConfig`, the one home of serve's defaults.

The CLI's ``serve`` options, the pytest plugin's settings and a program calling :func:`thriftbox.serve` all
build one of these; everything further down (the runtime's :class:`~thriftbox.runtime.base.Project`, a host's
:class:`~thriftbox.host.config.HostConfig`) is derived from it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from thriftbox.client.target import DEFAULT_REDACT, PROXY_MODES, ProxyTarget
from thriftbox.errors import ConfigError
from thriftbox.project.file import ServiceSettings
from thriftbox.project.real import RealService
from thriftbox.runtime.base import DEFAULT_MAX_FRAME, RUNTIME_NAMES

LOOPBACK = "127.0.0.1"
DEFAULT_PORT = 9090


@dataclass(frozen=True)
class ServeConfig:
    """Everything ``serve`` takes. Paths may be strings; relative ones are relative to the working directory."""

    paths: Sequence[Path | str] = ("idl",)  # folders or .thrift files to serve
    runtime: str = "auto"  # one of RUNTIME_NAMES
    host: str = LOOPBACK  # where mock ports are bound / published
    port: int = DEFAULT_PORT  # the first port; services keep theirs across runs (.thriftbox/ports.json)
    include_dirs: Sequence[Path | str] = ()
    seed: int = 0
    mocks_dir: Path | str | None = None  # stub files
    watch: bool = True  # reload on save
    root: Path = field(default_factory=Path.cwd)  # the project folder: holds .thriftbox/
    max_frame: int = DEFAULT_MAX_FRAME
    admin_port: int | None = None  # None: port - 1 when free, else any free port; 0: any free port
    admin_host: str = LOOPBACK
    dashboard: bool = True  # the dashboard's pages at the root of the admin API (docs/dashboard.md)
    base_image: str | None = None  # Docker runtime: None means $THRIFTBOX_BASE_IMAGE, else python:3.11-slim
    workers: int = 1  # processes per mock host, for load tests (see thriftbox.host.workers)
    now: str | None = None  # generated time is relative to this instant (ISO, UTC); None: the start of today
    services: Mapping[str, ServiceSettings] = field(default_factory=dict)  # by id: fixed port, enabled, ...
    strict_services: bool = True  # False: settings of services the IDL does not define are ignored
    tls_cert: Path | str | None = None  # PEM: TLS clients of the mock ports get this certificate (chain)
    tls_key: Path | str | None = None  # PEM: its private key
    tls_client_ca: Path | str | None = None  # PEM: TLS clients must present a certificate it signed (mTLS)
    real: Mapping[str, RealService] = field(default_factory=dict)  # [real.NAME]: started beside the mocks
    project_file: Path | None = None  # the thriftbox.toml this came from: saving it applies its [real] tables
    proxies: Mapping[str, str] = field(default_factory=dict)  # --proxy ID=HOST:PORT, over `proxy` in the file
    proxy_mode: str = "forward"  # "fallback": stub rules and state first, the backend for the rest
    record: bool = False  # write the backends' answers as stub files (mocks/recorded/)
    redact: Sequence[str] = DEFAULT_REDACT  # field-name words whose values recorded files leave out

    def __post_init__(self) -> None:
        if isinstance(self.paths, (str, Path)):
            object.__setattr__(self, "paths", (self.paths,))
        if self.now is not None:
            parse_now(self.now)
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ConfigError(
                "a TLS certificate needs its key and the other way round",
                hint="give both --tls-cert and --tls-key (tls_cert and tls_key in thriftbox.toml)",
            )
        if self.tls_client_ca is not None and self.tls_cert is None:
            raise ConfigError(
                "--tls-client-ca asks TLS clients for certificates, but the mocks do not speak TLS",
                hint="give --tls-cert and --tls-key too (tls_cert and tls_key in thriftbox.toml)",
            )
        if self.proxy_mode not in PROXY_MODES:
            raise ConfigError(
                f"unknown proxy mode {self.proxy_mode!r}", hint="choose one of: " + ", ".join(PROXY_MODES)
            )
        if self.runtime not in RUNTIME_NAMES:
            raise ConfigError(
                f"unknown runtime {self.runtime!r}", hint="choose one of: " + ", ".join(RUNTIME_NAMES)
            )

    @property
    def fixed_ports(self) -> dict[str, int]:
        """Service id -> the port it must have (``[services."id"] port``), for the enabled services."""
        return {sid: s.port for sid, s in self.services.items() if s.port is not None and s.enabled}

    @property
    def disabled(self) -> frozenset[str]:
        """The ids of services that are not to be served (``enabled = false``)."""
        return frozenset(sid for sid, s in self.services.items() if not s.enabled)

    @property
    def proxy_targets(self) -> dict[str, ProxyTarget]:
        """Service id -> the real backend its calls go to (``--proxy`` over ``proxy`` in thriftbox.toml; how to
        speak to it from thriftbox.toml, unless ``--proxy`` gives the full spec)."""
        out = {}
        for sid, s in self.services.items():
            if s.proxy is not None and s.enabled:
                out[sid] = _speaking(ProxyTarget.parse(s.proxy), s)
        for sid, address in self.proxies.items():
            target = ProxyTarget.parse(address)
            target = target.moved({f: str(Path(f).resolve()) for f in target.files})  # hosts run elsewhere
            target.check_files()  # thriftbox.toml's were checked when it was read, at their lines
            given = self.services.get(sid)
            out[sid] = _speaking(target, given) if given is not None and "," not in address else target
        return out

    @property
    def recording(self) -> bool:
        """Whether the backends' answers are written as stub files (``--record``, or ``record = true``)."""
        return self.record or any(s.record for s in self.services.values() if s.proxy is not None)

    @property
    def admin_is_local(self) -> bool:
        return self.admin_host in (LOOPBACK, "localhost", "::1")


def parse_now(text: str) -> dt.datetime:
    """``--now``: an ISO date or datetime, UTC unless it says otherwise; ConfigError (with the form) otherwise."""
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            f"--now {text!r} is not a date or time",
            hint="write it as ISO 8601: 2026-01-31 or 2026-01-31T09:30",
        ) from None
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


def validate_paths(paths: Sequence[Path | str]) -> tuple[Path, ...]:
    """The given IDL, include or stub paths, resolved; a clear error for a URL or a missing one."""
    out = []
    for p in paths:
        text = str(p)
        if "://" in text:
            raise ConfigError(
                f"{text}: URLs are not served", hint="clone or download the IDL and pass a folder"
            )
        path = Path(text)
        if not path.exists():
            raise ConfigError(
                f"{text}: no such file or folder", hint="pass the folder that holds your .thrift files"
            )
        out.append(path.resolve())
    return tuple(out)


def _speaking(target: ProxyTarget, settings: ServiceSettings) -> ProxyTarget:
    """``target`` spoken to as a service's ``proxy_*`` keys say."""
    return ProxyTarget(
        target.host,
        target.port,
        settings.proxy_protocol,
        settings.proxy_framing,
        settings.proxy_timeout_ms,
        settings.proxy_tls,
        ca=_text(settings.proxy_ca),
        cert=_text(settings.proxy_cert),
        key=_text(settings.proxy_key),
    )


def _text(path: Path | None) -> str | None:
    return str(path) if path is not None else None
