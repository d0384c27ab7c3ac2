"""The plugin's options, resolved: flags over ini keys over thriftbox.toml, checked, with serve's own defaults.

Imported when a hook or the fixture first needs them, not when the plugin loads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from thriftbox.errors import ConfigError
from thriftbox.project.file import ServiceSettings, find_project_file, read_project_file
from thriftbox.runtime.base import RUNTIME_NAMES
from thriftbox.supervisor.config import ServeConfig

if TYPE_CHECKING:
    from thriftbox.client.transport import Tls


@dataclass(frozen=True)
class Settings:
    """The plugin's options, resolved (see :func:`resolve`)."""

    idl: tuple[Path, ...]
    include_dirs: tuple[Path, ...] = ()
    mocks: Path | None = None
    runtime: str = ServeConfig.runtime
    seed: int = ServeConfig.seed
    port: int | None = None  # the first port; None: any free range
    contract: Path | None = None
    services: Mapping[str, ServiceSettings] = field(default_factory=dict)  # thriftbox.toml's, without ports
    idl_from_project: bool = False  # the IDL is thriftbox.toml's: its [services] must all be in it
    tls_cert: Path | None = None  # the mocks speak TLS beside plaintext, and the fixture's clients TLS
    tls_key: Path | None = None
    tls_client_ca: Path | None = None  # the mocks require client certificates this CA signed
    tls_client_cert: Path | None = None  # the certificate the fixture's clients present
    tls_client_key: Path | None = None

    def serve_config(self, root: Path, port: int) -> ServeConfig:
        """What to serve for a test session: these settings, no watching, the admin API on any free port."""
        return ServeConfig(
            paths=self.idl, runtime=self.runtime, port=port, include_dirs=self.include_dirs, seed=self.seed,
            mocks_dir=self.mocks, watch=False, root=root, admin_port=0, services=self.services,
            strict_services=self.idl_from_project, tls_cert=self.tls_cert, tls_key=self.tls_key,
            tls_client_ca=self.tls_client_ca,
        )  # fmt: skip

    def client_tls(self) -> Tls | None:
        """How the fixture's clients speak to the mocks: TLS when they serve it (the mock's certificate is not
        checked: the fixture knows whom it talks to), with the client certificate when one is configured."""
        if self.tls_cert is None:
            return None
        from thriftbox.client.transport import Tls

        cert, key = self.tls_client_cert, self.tls_client_key
        return Tls(None, str(cert) if cert else None, str(key) if key else None)


def project_settings(config: pytest.Config) -> tuple[dict[str, Any], dict[str, ServiceSettings]]:
    """``[serve]`` and ``[services]`` of the thriftbox.toml in pytest's rootdir (or where it was started) or a
    parent; fixed service ports are left out, so that tests run beside a ``thriftbox serve``."""
    found = find_project_file(config.rootpath) or find_project_file(config.invocation_params.dir)
    if found is None:
        return {}, {}
    try:
        project = read_project_file(found)
    except ConfigError as err:
        raise pytest.UsageError(f"thriftbox: {err}" + (f" (hint: {err.hint})" if err.hint else "")) from None
    return project.serve, {sid: replace(s, port=None) for sid, s in project.services.items()}


def resolve(config: pytest.Config) -> Settings:
    """The options, flags over ini keys; flag paths are relative to where pytest was started, ini paths to
    the ini file. Raises pytest.UsageError for a value that cannot be used."""
    here = config.invocation_params.dir
    project, services = project_settings(config)
    from_project = {
        "idl": "paths",
        "include": "include",
        "mocks": "mocks",
        "runtime": "runtime",
        "seed": "seed",
        "tls_cert": "tls_cert",
        "tls_key": "tls_key",
        "tls_client_ca": "tls_client_ca",
    }

    def fallback(name: str) -> Any:
        return project.get(from_project.get(name, ""))

    def paths(name: str) -> list[Path]:
        flag = config.getoption(f"thriftbox_{name}")
        if flag:
            return [here / p for p in ([flag] if isinstance(flag, str) else flag)]
        ini = list(config.getini(f"thriftbox_{name}"))
        if ini or fallback(name) is None:
            return ini
        value = fallback(name)
        return list(value) if isinstance(value, tuple) else [value]

    def one(name: str) -> Path | None:
        found = paths(name)
        if len(found) > 1:
            raise pytest.UsageError(f"thriftbox_{name} takes one path, got {len(found)}")
        return found[0] if found else None

    def text(name: str) -> str:
        given = config.getoption(f"thriftbox_{name}") or config.getini(f"thriftbox_{name}")
        return str(given if given else fallback(name) if fallback(name) is not None else "").strip()

    def number(name: str) -> int | None:
        value = text(name)
        try:
            return int(value) if value else None
        except ValueError:
            raise pytest.UsageError(f"thriftbox_{name} must be a number, not {value!r}") from None

    runtime = text("runtime") or ServeConfig.runtime
    if runtime not in RUNTIME_NAMES:
        raise pytest.UsageError(
            f"thriftbox_runtime must be one of {', '.join(RUNTIME_NAMES)}, not {runtime!r}"
        )
    return Settings(
        idl=tuple(paths("idl")),
        include_dirs=tuple(paths("include")),
        mocks=one("mocks"),
        runtime=runtime,
        seed=number("seed") or 0,
        port=number("port"),
        contract=one("contract"),
        services=services,
        idl_from_project=not config.getoption("thriftbox_idl") and not config.getini("thriftbox_idl"),
        tls_cert=one("tls_cert"),
        tls_key=one("tls_key"),
        tls_client_ca=one("tls_client_ca"),
        tls_client_cert=one("tls_client_cert"),
        tls_client_key=one("tls_client_key"),
    )
