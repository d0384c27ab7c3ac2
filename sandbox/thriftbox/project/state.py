"""The state file ``.thriftbox/state.json``: what a running ``serve`` serves, for ``status`` and friends."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

from thriftbox.runtime.base import MockStatus


def write_state(
    state_dir: Path, *, runtime: str, admin_url: str, mocks: list[MockStatus], project: dict[str, Any]
) -> None:
    state_dir.mkdir(parents=True, exist_ok=True)
    data = {
        "pid": os.getpid(),
        "runtime": runtime,
        "admin_url": admin_url,
        "project": project,
        "mocks": [asdict(m) for m in mocks],
    }
    tmp = state_dir / "state.json.tmp"
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    tmp.replace(state_dir / "state.json")


def read_state(state_dir: Path) -> dict[str, Any] | None:
    """The state of the ``serve`` running for this folder, or None when none runs."""
    path = state_dir / "state.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    pid = data.get("pid")
    if not isinstance(pid, int) or not pid_alive(pid):
        return None
    return data if isinstance(data, dict) else None


def clear_state(state_dir: Path) -> None:
    """Remove the state file if this process wrote it (another `serve` may have taken the folder over)."""
    path = state_dir / "state.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if isinstance(data, dict) and data.get("pid") == os.getpid():
        path.unlink(missing_ok=True)


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists (possibly another user's)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
