"""A real backend a mock forwards its calls to (``serve --proxy users.Users=HOST:PORT``), and how to speak to it.

Its own module below ``host`` and ``supervisor`` (both spell it): ``serve`` reads it from options and
``thriftbox.toml``, a host's command line carries it (:meth:`ProxyTarget.spec`), ``host.proxy`` dials it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from thriftbox.errors import ConfigError

DEFAULT_PROXY_TIMEOUT_MS = 5000
PROXY_PROTOCOLS = ("binary", "compact")
PROXY_FRAMINGS = ("buffered", "framed", "header")
_TLS_FILES = ("ca", "cert", "key")  # the spec's name=PATH options (tls is implied by any of them)
PROXY_MODES = ("forward", "fallback")
# field-name words that mark a value secret: recorded stub files leave it out (serve --redact)
DEFAULT_REDACT = ("password", "token", "secret", "apiKey", "api_key")


@dataclass(frozen=True)
class ProxyTarget:
    """The real backend a mock forwards its calls to (``serve --proxy``, ``proxy = "HOST:PORT"``)."""

    host: str
    port: int
    protocol: str = "binary"
    framing: str = "buffered"
    timeout_ms: int = DEFAULT_PROXY_TIMEOUT_MS
    tls: bool = False  # speak TLS to the backend
    ca: str | None = (
        None  # PEM CA certificate(s) the backend's certificate must chain to (None: not verified)
    )
    cert: str | None = None  # PEM client certificate, for a backend that asks for one (mutual TLS)
    key: str | None = None  # PEM private key of ``cert`` (None: in the same file)
    # the backend's HOST:PORT as configured, when host:port is a relay in front of it (the Docker runtime's,
    # runtime.docker.relay): messages and the journal name the backend, TLS checks its name (server_name)
    configured: str = ""

    def __post_init__(self) -> None:
        if self.protocol not in PROXY_PROTOCOLS:
            raise ConfigError(
                f"unknown proxy protocol {self.protocol!r}",
                hint="choose one of: " + ", ".join(PROXY_PROTOCOLS),
            )
        if self.framing not in PROXY_FRAMINGS:
            raise ConfigError(
                f"unknown proxy framing {self.framing!r}", hint="choose one of: " + ", ".join(PROXY_FRAMINGS)
            )
        if not 1 <= self.timeout_ms <= 3_600_000:
            raise ConfigError(f"proxy timeout {self.timeout_ms} ms is out of range", hint="give 1 to 3600000")
        if self.key is not None and self.cert is None:
            raise ConfigError("a proxy client key without its certificate", hint="give proxy_cert too")
        for name in _TLS_FILES:
            path = getattr(self, name)
            if path is not None and "," in path:
                raise ConfigError(f"proxy {name} path {path!r} has a comma", hint="rename or link the file")
        if not self.tls and (self.ca or self.cert):
            object.__setattr__(self, "tls", True)  # a CA or a client certificate means TLS

    def check_files(self) -> None:
        """ConfigError unless the TLS files a ``--proxy`` spec names exist: before any host starts."""
        for name in _TLS_FILES:
            path = getattr(self, name)
            if path is not None and not Path(path).is_file():
                raise ConfigError(
                    f"proxy_{name} {path}: no such file",
                    hint="paths in --proxy are relative to where you run it",
                )

    def moved(self, files: dict[str, str]) -> ProxyTarget:
        """The same target with its TLS files at other paths (``files``: this machine's path -> another)."""
        return replace(
            self, **{n: files.get(p, p) for n in _TLS_FILES if (p := getattr(self, n)) is not None}
        )

    @property
    def files(self) -> tuple[str, ...]:
        """The TLS files it reads."""
        return tuple(p for n in _TLS_FILES if (p := getattr(self, n)) is not None)

    @property
    def address(self) -> str:
        """The backend's ``HOST:PORT`` as the user gave it (not a relay's)."""
        return self.configured or f"{self.host}:{self.port}"

    @property
    def server_name(self) -> str:
        """The backend's host name as configured: what TLS sends (SNI) and checks, whatever ``host`` is dialled."""
        return self.address.rpartition(":")[0].strip("[]")

    def spec(self) -> str:
        """``HOST:PORT[/BACKEND:PORT],PROTOCOL,FRAMING,TIMEOUT_MS[,tls][,ca=PATH][,cert=PATH][,key=PATH]``: what
        ``thriftbox host --proxy ID=...`` takes (and ``serve --proxy``; ``/BACKEND:PORT``: the backend as
        configured, when HOST:PORT is a relay in front of it)."""
        via = f"/{self.configured}" if self.configured else ""
        text = f"{self.host}:{self.port}{via},{self.protocol},{self.framing},{self.timeout_ms}"
        if self.tls:
            text += ",tls" + "".join(f",{n}={getattr(self, n)}" for n in _TLS_FILES if getattr(self, n))
        return text

    @classmethod
    def parse(cls, text: str) -> ProxyTarget:
        """``HOST:PORT`` (binary, buffered, 5 s) or the full :meth:`spec`; ConfigError when malformed."""
        address, *rest = text.split(",")
        address, _, configured = address.partition("/")
        host, _, port = address.rpartition(":")
        positional: list[str] = []
        options: dict[str, str] = {}
        for item in rest:
            name, eq, value = item.partition("=")
            if item == "tls":
                options["tls"] = item
            elif eq and name in _TLS_FILES and value:
                options[name] = value
            elif not options and not eq and len(positional) < 3:
                positional.append(item)
            else:
                address = ""  # not a target: said below
        if not host or not port.isdigit() or not 0 < int(port) < 65536 or not address:
            raise ConfigError(
                f"proxy target {text!r} is not HOST:PORT[,PROTOCOL,FRAMING,TIMEOUT_MS][,tls][,ca=PATH]...",
                hint="e.g. staging-users:9090, or staging-users:9443,binary,header,5000,tls,ca=ca.pem",
            )
        protocol, framing, timeout = [*positional, "", "", ""][:3]
        if timeout and not timeout.isdigit():
            raise ConfigError(f"proxy timeout {timeout!r} is not a number of milliseconds")
        return cls(
            host.strip("[]"),
            int(port),
            protocol or "binary",
            framing or "buffered",
            int(timeout) if timeout else DEFAULT_PROXY_TIMEOUT_MS,
            "tls" in options,
            options.get("ca"),
            options.get("cert"),
            options.get("key"),
            configured,
        )
