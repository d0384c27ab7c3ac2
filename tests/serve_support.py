"""Run ``thriftbox serve`` for real, as a user would: a subprocess in a project folder, stopped by Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def free_base_port(span: int = 50) -> int:
    """The start of a range of ``span`` ports that are free right now (bound and released)."""
    for _ in range(100):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = int(s.getsockname()[1])
        if base + span < 65000 and all(_free(base + i) for i in range(span)):
            return base
    raise RuntimeError("no free port range")


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def thriftbox_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "thriftbox", *args]


def cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO / "sandbox") + os.pathsep + env.get("PYTHONPATH", "")
    env["COLUMNS"] = "200"
    return env


@dataclass
class Served:
    proc: subprocess.Popen[str]
    root: Path
    log: Path

    def state(self) -> dict[str, Any]:
        return dict(json.loads((self.root / ".thriftbox" / "state.json").read_text()))

    def port(self, service_id: str) -> int:
        for m in self.state()["mocks"]:
            if m["service"] == service_id:
                return int(m["port"])
        raise KeyError(service_id)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for_output(self, text: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out = self.output()
            if text in out:
                return out
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"{text!r} not printed within {timeout} s; output:\n{self.output()}")

    def interrupt(self, timeout: float = 20.0) -> int:
        """Ctrl-C, as a user would; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        return self.proc.wait(timeout=timeout)


@contextmanager
def serve(root: Path, paths: Sequence[str], *extra: str, timeout: float = 60.0) -> Iterator[Served]:
    """``thriftbox serve PATHS --runtime process --no-watch`` (unless ``extra`` says otherwise) in root."""
    args = ["serve", *paths]
    if "--runtime" not in extra:
        args += ["--runtime", "process"]
    if "--watch" not in extra and "--no-watch" not in extra:
        args.append("--no-watch")
    if "--port" not in extra:
        args += ["--port", str(free_base_port())]
    log = root / "serve.log"
    with log.open("w") as fh:
        proc = subprocess.Popen(
            thriftbox_cmd(*args, *[e for e in extra if e != "--watch"]),
            cwd=root,
            env=cli_env(),
            stdout=fh,
            stderr=subprocess.STDOUT,
            text=True,
        )
    served = Served(proc, root, log)
    try:
        served.wait_for_output("Ctrl-C to stop", timeout=timeout)
        yield served
    finally:
        if proc.poll() is None:
            served.interrupt()
