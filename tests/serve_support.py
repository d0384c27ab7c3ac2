"""Run ``thriftbox serve`` for real, as a user would: a subprocess in a project folder, stopped by Ctrl-C."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def fresh_module(idl_file: Path, include_dirs: Sequence[str] | None = None) -> Any:
    """The IDL as thriftpy2 sees it now, with its includes parsed afresh too.

    thriftpy2 caches an included file under a name built from the includer's module name: loading
    `billing.thrift` as `billing_<hex>_thrift` still caches its `common.thrift` as `common_thrift`, so a
    different `common.thrift` loaded earlier in the same process would be used instead. A unique prefix
    (`t<hex>_billing_thrift`) gives the includes unique names too."""
    import thriftpy2

    name = f"t{uuid.uuid4().hex[:8]}_{idl_file.stem}_thrift"
    return thriftpy2.load(str(idl_file), module_name=name, include_dirs=list(include_dirs or []) or None)


def free_base_port(span: int = 50) -> int:
    """The start of a range of ``span`` ports that are free right now (bound and released), with the port below
    it (serve's admin API) free too.

    Chosen below the kernel's ephemeral range, where no outgoing connection or port-0 listener of a parallel
    test can take a port between this check and serve binding it, and in a slice of its own per xdist worker."""
    lo, hi = 10_000, max(_ephemeral_start(), 20_000)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    slices = 16
    size = (hi - lo) // slices
    start = lo + (int(worker) % slices if worker.isdigit() else 0) * size
    rng = random.Random()
    for _ in range(200):
        base = rng.randrange(start + 1, start + size - span)
        if all(_free(base + i) for i in range(-1, span)):
            return base
    raise RuntimeError("no free port range")


def _ephemeral_start() -> int:
    """The first port the kernel hands out for port 0 (Linux: ip_local_port_range), else IANA's 49152."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 49152


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
