"""The plugin's options, resolved: flags over ini keys, checked, with serve's own defaults.

Imported when a hook or the fixture first needs them, not when the plugin loads.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from thriftbox.runtime.base import RUNTIME_NAMES
from thriftbox.supervisor.config import ServeConfig


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

    def serve_config(self, root: Path, port: int) -> ServeConfig:
        """What to serve for a test session: these settings, no watching, the admin API on any free port."""
        return ServeConfig(
            paths=self.idl, runtime=self.runtime, port=port, include_dirs=self.include_dirs, seed=self.seed,
            mocks_dir=self.mocks, watch=False, root=root, admin_port=0,
        )  # fmt: skip


def resolve(config: pytest.Config) -> Settings:
    """The options, flags over ini keys; flag paths are relative to where pytest was started, ini paths to
    the ini file. Raises pytest.UsageError for a value that cannot be used."""
    here = config.invocation_params.dir

    def paths(name: str) -> list[Path]:
        flag = config.getoption(f"thriftbox_{name}")
        if flag:
            return [here / p for p in ([flag] if isinstance(flag, str) else flag)]
        return list(config.getini(f"thriftbox_{name}"))

    def one(name: str) -> Path | None:
        found = paths(name)
        if len(found) > 1:
            raise pytest.UsageError(f"thriftbox_{name} takes one path, got {len(found)}")
        return found[0] if found else None

    def text(name: str) -> str:
        return str(config.getoption(f"thriftbox_{name}") or config.getini(f"thriftbox_{name}") or "").strip()

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
    )
