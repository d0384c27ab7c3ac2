"""The state file ``.thriftbox/state.json``: what a running ``serve`` serves, for ``status`` and friends.

:class:`ServeState` is the one shape of that file: ``serve`` writes it, ``status``, ``journal``, ``call``,
``logs`` and ``down`` read it back, never by raw keys.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from thriftbox.project.layout import Layout


@dataclass
class MockStatus:
    """One mock as a runtime reports it, and as ``status`` shows it."""

    service: str
    host: str
    port: int
    runtime: str
    state: str  # "starting" | "ready" | "unresponsive" | "restarting" | "dead" | "stopped"
    detail: str = ""  # pid, container name, ...
    restarts: int = 0
    extra: dict[str, str] = field(default_factory=dict)
    kind: str = "mock"  # "mock", or "real": a [real.NAME] service of thriftbox.toml (service is its NAME)


@dataclass(frozen=True)
class ServedProject:
    """What the session was asked to serve (enough for ``call`` to load the same IDL)."""

    name: str
    idl_dirs: tuple[str, ...]
    include_dirs: tuple[str, ...] = ()
    mocks_dir: str | None = None
    seed: int = 0


@dataclass(frozen=True)
class ServeState:
    pid: int
    runtime: str
    admin_url: str
    project: ServedProject
    mocks: tuple[MockStatus, ...]
    reload_error: str | None = None  # the last reload failed: still serving the last good definitions
    admin_token: str = ""  # what state-changing admin requests must carry (the file is 0600)

    def port_of(self, service_id: str) -> tuple[str, int] | None:
        """Where the mock of ``service_id`` answers, if it is served."""
        for mock in self.mocks:
            if mock.service == service_id and mock.kind == "mock":
                return mock.host, mock.port
        return None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["project"]["idl_dirs"] = list(self.project.idl_dirs)
        data["project"]["include_dirs"] = list(self.project.include_dirs)
        data["mocks"] = [asdict(m) for m in self.mocks]
        return data

    @classmethod
    def from_json(cls, data: Any) -> ServeState:
        """The state in ``data``; raises ValueError (or TypeError, KeyError) when it is not one."""
        project = dict(data["project"])
        return cls(
            pid=int(data["pid"]),
            runtime=str(data["runtime"]),
            admin_url=str(data["admin_url"]),
            project=ServedProject(
                name=str(project["name"]),
                idl_dirs=tuple(map(str, project["idl_dirs"])),
                include_dirs=tuple(map(str, project.get("include_dirs") or ())),
                mocks_dir=None if project.get("mocks_dir") is None else str(project["mocks_dir"]),
                seed=int(project.get("seed") or 0),
            ),
            mocks=tuple(MockStatus(**m) for m in data["mocks"]),
            reload_error=None if data.get("reload_error") is None else str(data["reload_error"]),
            admin_token=str(data.get("admin_token") or ""),
        )


def write_state(layout: Layout, state: ServeState) -> None:
    """Write the state file, readable by its owner only (it holds the admin token), in a 0700 folder."""
    layout.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(OSError):  # a folder another user made: the file's own mode still holds
        layout.folder.chmod(0o700)
    tmp = layout.state_file.with_name(layout.state_file.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        os.fchmod(out.fileno(), 0o600)  # an old .tmp file keeps its mode through O_CREAT
        out.write(json.dumps(state.to_json(), indent=2) + "\n")
    tmp.replace(layout.state_file)


def read_state(layout: Layout) -> ServeState | None:
    """The state of the ``serve`` running for this folder, or None when none runs."""
    try:
        state = ServeState.from_json(json.loads(layout.state_file.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError, KeyError):
        return None
    return state if pid_alive(state.pid) else None


def find_serving(start: Path) -> tuple[Layout, ServeState | None]:
    """The ``serve`` running for ``start`` or the nearest folder above it (as git finds its repository), with
    that folder's layout; ``(Layout(start), None)`` when none runs."""
    for folder in (start, *start.parents):
        layout = Layout(folder)
        if layout.state_file.is_file():
            state = read_state(layout)
            if state is not None:
                return layout, state
    return Layout(start), None


def clear_state(layout: Layout) -> None:
    """Remove the state file if this process wrote it (another `serve` may have taken the folder over)."""
    try:
        data = json.loads(layout.state_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if isinstance(data, dict) and data.get("pid") == os.getpid():
        layout.state_file.unlink(missing_ok=True)


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists (possibly another user's)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
