"""``ThriftboxContainer``: mocks of a folder of IDL in a Testcontainers test, started like a database.

    from thriftbox.testcontainers import ThriftboxContainer

    with ThriftboxContainer().with_idl("idl/").with_stubs("mocks/") as mocks:
        host, port = mocks.get_address("users.Users")

It runs the mock image (``thriftbox image build``'s; built on first use when ``image`` is not given) with
``serve``: every service of the IDL on its own port, each exposed on a random port of the Docker host.
``start()`` returns once every service answers a real Thrift call through its exposed port. Needs the
``testcontainers`` package (``pip install thriftbox[testcontainers]``); the only module importing it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Self

from testcontainers.core.container import DockerContainer

from thriftbox.client.probe import probe
from thriftbox.errors import ConfigError, MockStartError
from thriftbox.idl import load_catalog
from thriftbox.idl.model import Catalog

IDL_DIR = "/project/idl"
STUBS_DIR = "/project/mocks"
FIRST_PORT = 9090


class ThriftboxContainer(DockerContainer):
    """The mocks of one IDL folder in a container (see the module docstring)."""

    def __init__(
        self, image: str | None = None, *, seed: int = 0, start_timeout: float = 60.0, **kwargs: Any
    ):
        super().__init__(image or "", **kwargs)
        self._given_image = image
        self.seed = seed
        self.start_timeout = start_timeout
        self._idl: Path | None = None
        self._stubs: Path | None = None
        self._catalog: Catalog | None = None
        self.service_ports: dict[str, int] = {}  # service id -> port in the container

    def with_idl(self, path: str | Path) -> Self:
        """Serve every service of the ``.thrift`` files in the folder ``path`` (mounted read-only)."""
        self._idl = Path(path).resolve()
        if not self._idl.is_dir():
            raise ConfigError(f"{path}: not a folder", hint="give the folder that holds your .thrift files")
        return self

    def with_stubs(self, path: str | Path) -> Self:
        """Answer from the stub files in the folder ``path`` (docs/stubs.md), mounted read-only."""
        self._stubs = Path(path).resolve()
        if not self._stubs.exists():
            raise ConfigError(f"{path}: no such file or folder")
        return self

    def start(self) -> Self:
        if self._idl is None:
            raise ConfigError("no IDL given", hint="call with_idl(folder) before start()")
        self._catalog = load_catalog([self._idl])
        # a fresh serve numbers services from the first port in sorted order (thriftbox.project.ports)
        self.service_ports = {sid: FIRST_PORT + i for i, sid in enumerate(sorted(self._catalog.services))}
        if not self._given_image:
            from thriftbox.export.image import build

            self.image = build(None, None, None, lambda line: None)
        command = ["serve", IDL_DIR, "--port", str(FIRST_PORT), "--seed", str(self.seed), "--no-watch"]
        self.with_volume_mapping(str(self._idl), IDL_DIR, "ro")
        if self._stubs is not None:
            self.with_volume_mapping(str(self._stubs), STUBS_DIR, "ro")
            command += ["--mocks", STUBS_DIR]
        self.with_command(command)
        self.with_exposed_ports(*self.service_ports.values())
        super().start()
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        """Every service answers a real Thrift call through its exposed port, or MockStartError with the log."""
        deadline = time.monotonic() + self.start_timeout
        waiting = dict(self.service_ports)
        while waiting:
            for sid in list(waiting):
                if probe(*self.get_address(sid), timeout=1.0):
                    del waiting[sid]
            if not waiting:
                return
            if time.monotonic() > deadline:
                out, err = self.get_logs()
                log = (out + err).decode("utf-8", "replace")[-2000:]
                raise MockStartError(
                    f"thriftbox container: {', '.join(sorted(waiting))} not answering after {self.start_timeout} s",
                    hint="the container's log ends with:\n" + log,
                )
            time.sleep(0.2)

    def get_address(self, service: str) -> tuple[str, int]:
        """``(host, port)`` where a client reaches ``service`` (an id like ``users.Users``, or a unique name)."""
        if self._catalog is None:
            raise ConfigError("the container is not started", hint="call start() (or use it in a with block)")
        found = self._catalog.find_service(service)
        if found is None:
            raise ConfigError(
                f"no service {service!r}", hint="served: " + ", ".join(sorted(self.service_ports))
            )
        return self.get_container_host_ip(), int(self.get_exposed_port(self.service_ports[found.id]))
