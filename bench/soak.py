"""Soak benchmark: calls keep succeeding while files are saved every second, a tenth of the saves broken.

    python bench/soak.py [--minutes 10] [--clients 4]

Copies the demo project (idl/ and mocks/) into a temporary folder and runs `thriftbox serve --mocks mocks` on it,
watching, as a user would. Client threads call Users.getUser(42) (answered by a stub rule: Grace Hopper) and
Catalog methods in a loop and check every answer. Every second one file is saved the way editors do (a temporary
file renamed over it): mocks/users.yaml or idl/users.thrift with a changed comment, and one save in ten a broken
one (a YAML or IDL syntax error), fixed by the next save. Reports calls, failed calls (target: 0), saves, the
reloads and refused saves `serve` reported, and serve's and its host's RSS at the start and the end.
"""

from __future__ import annotations

import argparse
import json
import os
import random
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

from tests.fuzzing import rss_kb  # noqa: E402
from tests.serve_support import fresh_module  # noqa: E402
from thriftpy2.rpc import make_client  # noqa: E402


def save(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.swp")
    tmp.write_text(text)
    os.replace(tmp, path)


class Caller(threading.Thread):
    def __init__(self, module: object, port: int, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.module, self.port, self.stop = module, port, stop
        self.calls = 0
        self.failed: list[str] = []

    def run(self) -> None:
        client = make_client(self.module.Users, "127.0.0.1", self.port, timeout=10_000)  # type: ignore[attr-defined]
        while not self.stop.is_set():
            try:
                user = client.getUser(42)
                if user.firstName != "Grace":
                    self.failed.append(f"getUser(42) answered {user.firstName!r}")
                self.calls += 1
            except Exception as err:
                self.failed.append(f"{type(err).__name__}: {err}")
                client.close()
                client = make_client(self.module.Users, "127.0.0.1", self.port, timeout=10_000)  # type: ignore[attr-defined]
        client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="thriftbox-soak-"))
    shutil.copytree(REPO / "idl", root / "idl")
    shutil.copytree(REPO / "mocks", root / "mocks")
    env = {**os.environ, "PYTHONPATH": str(REPO / "sandbox")}
    log = root / "serve.log"
    with log.open("w") as out:
        serve = subprocess.Popen(
            [sys.executable, "-m", "thriftbox", "serve", "idl", "--mocks", "mocks", "--runtime", "process"],
            cwd=root,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    stop = threading.Event()
    callers: list[Caller] = []
    saves = broken = 0
    try:
        deadline = time.monotonic() + 60
        while "Ctrl-C to stop" not in log.read_text(errors="replace"):
            if time.monotonic() > deadline or serve.poll() is not None:
                raise SystemExit(f"serve did not start:\n{log.read_text(errors='replace')}")
            time.sleep(0.1)
        state = json.loads((root / ".thriftbox" / "state.json").read_text())
        port = next(m["port"] for m in state["mocks"] if m["service"] == "users.Users")
        module = fresh_module(root / "idl" / "users.thrift", [str(root / "idl")])
        rss_start = rss_kb(serve.pid)
        callers = [Caller(module, port, stop) for _ in range(args.clients)]
        for c in callers:
            c.start()
        files = {p: p.read_text() for p in (root / "mocks" / "users.yaml", root / "idl" / "users.thrift")}
        rng = random.Random(args.seed)
        end = time.monotonic() + args.minutes * 60
        last_broken: Path | None = None
        while time.monotonic() < end:
            time.sleep(1.0)
            if last_broken is not None:  # fix what the last save broke
                save(last_broken, files[last_broken] + f"\n# fixed {saves}\n")
                last_broken = None
            else:
                path = rng.choice(list(files))
                if rng.random() < 0.1:
                    junk = "methods: [unclosed\n" if path.suffix == ".yaml" else "service Broken {\n"
                    save(path, files[path] + junk)
                    last_broken, broken = path, broken + 1
                else:
                    save(path, files[path] + f"\n# save {saves}\n")
            saves += 1
            if serve.poll() is not None:
                break
        time.sleep(2)  # the last reload
        rss_end = rss_kb(serve.pid)
    finally:
        stop.set()
        for c in callers:
            c.join(15)
        serve.send_signal(signal.SIGTERM)
        serve.wait(30)
    output = log.read_text(errors="replace")
    failed = [f for c in callers for f in c.failed]
    result = {
        "minutes": args.minutes,
        "calls": sum(c.calls for c in callers),
        "failed_calls": len(failed),
        "first_failures": failed[:5],
        "saves": saves,
        "broken_saves": broken,
        "reloads_reported": output.count(" in ") - output.count("reload failed"),
        "refused_saves_reported": output.count("reload failed"),
        "serve_exit_code": serve.returncode,
        "rss_mb": {"start": round(rss_start / 1024), "end": round(rss_end / 1024)},
    }
    print(json.dumps(result, indent=2))
    shutil.rmtree(root, ignore_errors=True)
    print("soak: " + ("0 failed calls" if not failed else f"MISSES the target: {len(failed)} failed calls"))


if __name__ == "__main__":
    main()
