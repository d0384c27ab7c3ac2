"""The team-stack example (docs/examples/team-stack) as a project to export, and ways to call its mocks."""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

from tests.serve_support import REPO, cli_env, fresh_module, thriftbox_cmd

EXAMPLE = REPO / "docs" / "examples" / "team-stack"
SERVICES = {"users.Users": "users-users", "posts.Posts": "posts-posts", "ads.Ads": "ads-ads"}


def copy_example(dest: Path, port: int | None = None) -> Path:
    """A copy of the example project in ``dest/<unique folder>`` (a unique project name per test); with
    ``port``, its fixed ports 9190, 9191, 9192 become ``port``, ``port + 1``, ``port + 2``."""
    root = dest / f"stack{uuid.uuid4().hex[:6]}"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".thriftbox"))
    if port is not None:
        toml = root / "thriftbox.toml"
        text = toml.read_text()
        for offset in range(3):
            text = text.replace(f"= {9190 + offset}", f"= {port + offset}")
        toml.write_text(text)
    return root


def thriftbox(root: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``thriftbox ARGS`` run in ``root``; fails the test with its output when it fails."""
    proc = subprocess.run(
        thriftbox_cmd(*args), cwd=root, env=cli_env(), capture_output=True, text=True, timeout=timeout
    )
    assert proc.returncode == 0, f"thriftbox {' '.join(args)}:\n{proc.stdout}\n{proc.stderr}"
    return proc


def get_user(root: Path, port: int, user_id: int = 42, timeout: float = 60.0, idl: Path | None = None) -> Any:
    """``Users.getUser(user_id)`` with thriftpy2 on ``127.0.0.1:port``, retried until it answers."""
    from thriftpy2.rpc import make_client

    module = fresh_module((idl or root / "idl") / "users.thrift")
    deadline = time.monotonic() + timeout
    while True:
        try:
            client = make_client(module.Users, "127.0.0.1", port, timeout=5000)
            try:
                return client.getUser(user_id)
            finally:
                client.close()
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def docker(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if check:
        assert proc.returncode == 0, f"docker {' '.join(args)}:\n{proc.stdout}\n{proc.stderr}"
    return proc
