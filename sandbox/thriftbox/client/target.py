"""A real backend a mock forwards its calls to (``serve --proxy users.Users=HOST:PORT``), and how to speak to it.

Its own module below ``host`` and ``supervisor`` (both spell it): ``serve`` reads it from options and
``thriftbox.toml``, a host's command line carries it (:meth:`ProxyTarget.spec`), ``host.proxy`` dials it.
"""

from __future__ import annotations

from dataclasses import dataclass

from thriftbox.errors import ConfigError

DEFAULT_PROXY_TIMEOUT_MS = 5000
PROXY_PROTOCOLS = ("binary", "compact")
PROXY_FRAMINGS = ("buffered", "framed")
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

    @property
    def address(self) -> str:
        """The backend's ``HOST:PORT`` as the user gave it (not a relay's)."""
        return self.configured or f"{self.host}:{self.port}"

    @property
    def server_name(self) -> str:
        """The backend's host name as configured: what TLS sends (SNI) and checks, whatever ``host`` is dialled."""
        return self.address.rpartition(":")[0].strip("[]")

    def spec(self) -> str:
        """``HOST:PORT[/BACKEND:PORT],PROTOCOL,FRAMING,TIMEOUT_MS``: what ``thriftbox host --proxy ID=...`` takes
        (``/BACKEND:PORT``: the backend as configured, when HOST:PORT is a relay in front of it)."""
        via = f"/{self.configured}" if self.configured else ""
        return f"{self.host}:{self.port}{via},{self.protocol},{self.framing},{self.timeout_ms}"

    @classmethod
    def parse(cls, text: str) -> ProxyTarget:
        """``HOST:PORT`` (binary, buffered, 5 s) or the full :meth:`spec`; ConfigError when malformed."""
        address, *rest = text.split(",")
        address, _, configured = address.partition("/")
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536 or len(rest) > 3:
            raise ConfigError(f"proxy target {text!r} is not HOST:PORT", hint="e.g. staging-users:9090")
        protocol, framing, timeout = [*rest, "", "", ""][:3]
        if timeout and not timeout.isdigit():
            raise ConfigError(f"proxy timeout {timeout!r} is not a number of milliseconds")
        return cls(
            host.strip("[]"),
            int(port),
            protocol or "binary",
            framing or "buffered",
            int(timeout) if timeout else DEFAULT_PROXY_TIMEOUT_MS,
            configured,
        )
