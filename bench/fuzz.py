"""Fuzz benchmark: a million seeded malformed inputs against `thriftbox serve`, with good calls beside.

    python bench/fuzz.py [--inputs 1000000] [--seed 16]

Serves the Docker tests' held-out IDL (process runtime) and sends inputs of six families (random bytes; mutated
binary, compact, JSON, framed and HTTP messages; tests/fuzzing.py), each on its own connection, while a
well-behaved client calls the same mock and checks every answer. Reports inputs/s, crashes (host restarts),
tracebacks in any log, failed good calls, RSS of serve and its host before/peak/after, and log bytes. Targets:
0 crashes, 0 tracebacks, 0 failed good calls, bounded RSS and log (docs/reliability.md).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "sandbox")]

from tests.fuzzing import FAMILIES, FIXTURE_IDL, fuzz, rss_kb  # noqa: E402
from tests.serve_support import fresh_module  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--inputs", type=int, default=1_000_000, help="inputs in all (spread over 6 families)"
    )
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()
    per_family = max(1, args.inputs // len(FAMILIES))
    root = Path(tempfile.mkdtemp(prefix="thriftbox-fuzz-"))
    shutil.copytree(FIXTURE_IDL, root / "idl")
    env = {**os.environ, "PYTHONPATH": str(REPO / "sandbox")}
    log = root / "serve.log"
    with log.open("w") as out:
        serve = subprocess.Popen(
            [sys.executable, "-m", "thriftbox", "serve", "idl", "--runtime", "process", "--no-watch"],
            cwd=root,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while "Ctrl-C to stop" not in log.read_text(errors="replace"):
            if time.monotonic() > deadline or serve.poll() is not None:
                raise SystemExit(f"serve did not start:\n{log.read_text(errors='replace')}")
            time.sleep(0.1)
        state = json.loads((root / ".thriftbox" / "state.json").read_text())
        port = next(m["port"] for m in state["mocks"] if m["service"] == "users.Users")
        module = fresh_module(root / "idl" / "users.thrift")
        before = rss_kb(serve.pid)
        peak = [before]
        sampling = threading.Event()

        def sample() -> None:
            while not sampling.wait(0.5):
                peak.append(rss_kb(serve.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()

        def progress(family: str, done: int) -> None:
            print(f"  {family}: {done} inputs sent", file=sys.stderr, flush=True)

        report = fuzz(module, port, per_family, seed=args.seed, progress=progress)
        sampling.set()
        sampler.join(5)
        time.sleep(1)
        after = rss_kb(serve.pid)
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(30)
    logs = [log, *(root / ".thriftbox" / "logs").glob("*.log")]
    text = "".join(p.read_text(errors="replace") for p in logs if p.exists())
    result = {
        "inputs": report.inputs,
        "seconds": round(report.seconds, 1),
        "inputs_per_s": round(report.per_second),
        "crashes": text.count("mock host exited"),
        "tracebacks": text.count("Traceback"),
        "good_calls": report.good_calls,
        "failed_good_calls": len(report.failed_good_calls),
        "rss_mb": {
            "before": round(before / 1024),
            "peak": round(max(peak) / 1024),
            "after": round(after / 1024),
        },
        "log_bytes": sum(p.stat().st_size for p in logs if p.exists()),
    }
    print(json.dumps(result, indent=2))
    shutil.rmtree(root, ignore_errors=True)
    ok = result["crashes"] == result["tracebacks"] == result["failed_good_calls"] == 0
    print(
        "fuzz: " + ("all targets met" if ok else "MISSES a target (0 crashes, 0 tracebacks, 0 failed calls)")
    )


if __name__ == "__main__":
    main()
