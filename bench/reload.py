"""Hot-reload benchmark: from the rename of a saved .thrift file to the first successful call of the method it added.

    python bench/reload.py [--saves 20] [--runtime process|docker|both]

Copies the demo project (idl/ and mocks/) into a temporary folder, runs `thriftbox serve --mocks mocks` on it
(watching, as a user would), and saves idl/users.thrift the way vim and JetBrains IDEs do (a temporary file
renamed over the original) ``--saves`` times, each save adding one method to the Users service. For each save it
measures the time from the rename until a call of the new method, on a connection opened before the save,
succeeds (it is retried every millisecond until then), and the time serve reports for the reload itself (after
its 0.15 s debounce). Prints median, p90 and max per runtime. Targets: median under 0.3 s (process) and under
1 s (Docker). The Docker runtime runs when an engine answers and THRIFTBOX_BASE_IMAGE names the base image.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "sandbox"))

from thriftpy2.thrift import TApplicationException  # noqa: E402

from thriftbox.client.catalog import ThriftClient  # noqa: E402
from thriftbox.idl import load_catalog  # noqa: E402
from thriftbox.idl.classes import Classes  # noqa: E402

SERVICE = "users.Users"
SERVICE_END = re.compile(r"(service Users\b[^{]*\{.*?)(\n\})", re.S)
REPORTED = re.compile(r"idl/users\.thrift: reloaded [^\n]*users\.Users \(\+bench(\d+)\)[^\n]* in (\d+) ms")


def free_base_port(span: int = 40) -> int:
    for _ in range(100):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = int(s.getsockname()[1])
        if base + span < 65000:
            return base
    raise SystemExit("no free port range")


def with_method(text: str, n: int) -> str:
    """users.thrift with ``string bench<n>(1: string x)`` added at the end of service Users."""
    new, count = SERVICE_END.subn(
        lambda m: f"{m.group(1)}\n  string bench{n}(1: string x),{m.group(2)}", text
    )
    if count != 1:
        raise SystemExit("idl/users.thrift has no `service Users { ... }` block to add methods to")
    return new


def classes_for(idl: Path, users_text: str, scratch: Path) -> Classes:
    """Payload classes of the IDL as it will be after the save (loaded from a scratch copy, untimed)."""
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.copytree(idl, scratch)
    (scratch / "users.thrift").write_text(users_text)
    return Classes(load_catalog([scratch]))


class Serve:
    """`thriftbox serve` in a project folder, watching; stopped with Ctrl-C."""

    def __init__(self, root: Path, runtime: str) -> None:
        self.root = root
        self.log = root / "serve.log"
        env = {**os.environ, "PYTHONPATH": str(REPO / "sandbox")}
        cmd = [sys.executable, "-m", "thriftbox", "serve", "idl", "--mocks", "mocks", "--runtime", runtime]
        cmd += ["--port", str(free_base_port())]
        with self.log.open("w") as fh:
            self.proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=fh, stderr=subprocess.STDOUT)
        self.wait_for(lambda out: "Ctrl-C to stop" in out, 600, "serve did not come up")

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, done: Any, timeout: float, what: str) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out = self.output()
            if done(out):
                return out
            if self.proc.poll() is not None:
                break
            time.sleep(0.01)
        raise SystemExit(f"{what}:\n{self.output()}")

    def port(self) -> int:
        state = json.loads((self.root / ".thriftbox" / "state.json").read_text())
        return next(int(m["port"]) for m in state["mocks"] if m["service"] == SERVICE)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            self.proc.wait(timeout=60)


def first_success(client: ThriftClient, method: str, timeout: float = 30.0) -> float:
    """perf_counter() at the first successful call of ``method`` (unknown-method answers are retried)."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        try:
            client.call(method, "x")
        except TApplicationException:
            time.sleep(0.001)
            continue
        return time.perf_counter()
    raise SystemExit(f"{method} did not answer within {timeout} s")


def run(runtime: str, saves: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="thriftbox-reload-") as tmp:
        root = Path(tmp)
        shutil.copytree(REPO / "idl", root / "idl")
        shutil.copytree(REPO / "mocks", root / "mocks")
        users = root / "idl" / "users.thrift"
        serve = Serve(root, runtime)
        latencies: list[float] = []
        reported: list[float] = []
        try:
            port = serve.port()
            text = users.read_text()
            for n in range(1, saves + 1):
                text = with_method(text, n)
                classes = classes_for(root / "idl", text, root / "scratch")
                tmp_file = users.with_name("users.thrift.tmp")
                tmp_file.write_text(text)
                with ThriftClient(classes, SERVICE, "127.0.0.1", port, timeout=30) as client:
                    t0 = time.perf_counter()
                    os.replace(tmp_file, users)
                    latencies.append(first_success(client, f"bench{n}") - t0)
                out = serve.wait_for(
                    lambda out, n=n: any(int(m[0]) == n for m in REPORTED.findall(out)),
                    60,
                    f"serve did not report the reload of save {n}",
                )
                reported.append(next(int(ms) for k, ms in REPORTED.findall(out) if int(k) == n) / 1000)
            failures = serve.output().count("reload failed")
        finally:
            serve.stop()
    return {
        "runtime": runtime,
        "saves": saves,
        "failures": failures,
        **summary(latencies, "save_to_call"),
        **summary(reported, "serve_reported"),
    }


def summary(values: list[float], name: str) -> dict[str, float]:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return {
        f"{name}_median_s": round(statistics.median(ordered), 3),
        f"{name}_p90_s": round(p90, 3),
        f"{name}_max_s": round(ordered[-1], 3),
    }


def docker_ready() -> tuple[bool, str]:
    if not os.environ.get("THRIFTBOX_BASE_IMAGE"):
        return False, "THRIFTBOX_BASE_IMAGE is not set"
    from thriftbox.runtime.docker.sdk import engine_available

    ok, reason = engine_available()
    return ok, reason


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=20)
    parser.add_argument("--runtime", choices=("process", "docker", "both"), default="both")
    args = parser.parse_args()
    runtimes = ["process", "docker"] if args.runtime == "both" else [args.runtime]
    targets = {"process": 0.3, "docker": 1.0}
    results = []
    for runtime in runtimes:
        if runtime == "docker":
            ok, reason = docker_ready()
            if not ok:
                print(f"docker: skipped ({reason})", file=sys.stderr)
                continue
        result = {**run(runtime, args.saves), "target_median_s": targets[runtime]}
        result["meets_target"] = result["save_to_call_median_s"] < targets[runtime]
        results.append(result)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
