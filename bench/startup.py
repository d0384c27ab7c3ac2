"""Start-up benchmark: how long `thriftbox serve` takes to serve 40 services, and how much memory they use.

    python bench/startup.py [--services 40] [--runtime process]

Generates an IDL folder with N services (spread over N/5 files that include a shared file), runs
`thriftbox serve` on it, and measures the time from launch until every mock answers a Thrift call (serve prints
its table only then), and the resident memory of serve and its mock hosts. Targets (process runtime): under 3 s
and under 300 MB in all for 40 services.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

SHARED = """
namespace py shared
typedef i64 Timestamp
enum Status { ACTIVE = 1, SUSPENDED = 2, DELETED = 3 }
exception NotFound { 1: string message }
struct Entity { 1: required i64 id, 2: string name, 3: string email, 4: Timestamp createdAt, 5: Status status,
                6: list<string> tags, 7: map<string, string> labels }
"""


def write_idl(folder: Path, services: int) -> None:
    (folder / "shared.thrift").write_text(SHARED)
    per_file = 5
    for f in range(0, services, per_file):
        body = ['include "shared.thrift"']
        for s in range(f, min(f + per_file, services)):
            body.append(
                f"service Service{s:02d} {{\n"
                f"  shared.Entity get(1: i64 id) throws (1: shared.NotFound nf)\n"
                f"  list<shared.Entity> list(1: i32 limit)\n"
                f"  void put(1: shared.Entity e)\n"
                f"  oneway void touch(1: i64 id)\n}}"
            )
        (folder / f"group{f // per_file:02d}.thrift").write_text("\n".join(body) + "\n")


def rss_mb(pid: int) -> float:
    total = 0.0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            pass
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=40)
    parser.add_argument("--runtime", default="process")
    parser.add_argument("--port", type=int, default=31000)
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(REPO / "sandbox")}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "idl").mkdir()
        write_idl(root / "idl", args.services)
        log = root / "serve.log"
        t0 = time.perf_counter()
        with log.open("w") as fh:
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "thriftbox",
                    "serve",
                    "idl",
                    "--runtime",
                    args.runtime,
                    "--no-watch",
                    "--port",
                    str(args.port),
                ],
                cwd=root,
                env=env,
                stdout=fh,
                stderr=subprocess.STDOUT,
                text=True,
            )
        try:
            while "Ctrl-C to stop" not in log.read_text():
                if proc.poll() is not None or time.perf_counter() - t0 > 120:
                    raise SystemExit("serve did not come up:\n" + log.read_text())
                time.sleep(0.01)
            elapsed = time.perf_counter() - t0
            time.sleep(0.5)
            memory = rss_mb(proc.pid)
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=30)
    result = {
        "services": args.services,
        "runtime": args.runtime,
        "seconds_until_all_answer": round(elapsed, 2),
        "rss_mb_total": round(memory, 1),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
