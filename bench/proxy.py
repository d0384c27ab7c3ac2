"""Benchmark: what `serve --proxy` costs. The hand-written thriftpy2 server (bench/baseline_server.py) is the
real backend; the same clients call it directly, then through a mock that forwards every call to it.

    python bench/proxy.py [--seconds 3] [--rounds 3] [--runtime process|docker]

With ``--runtime docker`` the mock runs in a container and reaches the backend (on this machine's loopback)
through serve's relay (thriftbox.runtime.docker.relay): what the container and the relay add.

Loads (Cython binary protocol, buffered transport, persistent connections, distinct arguments):

  sequential  1 connection, one call at a time: calls/s and the p50 latency of one call
  concurrent  4 client processes, one connection each: calls/s

Reports calls/s direct and proxied, their ratio, and the p50 latency the proxy adds (median of the rounds).
Results are printed and written to bench/results/proxy.json (proxy-docker.json with ``--runtime docker``).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SID = "bench.Profiles"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit(f"nothing listens on {port}")


def drive(port: int, seconds: float, start: int) -> tuple[int, list[float]]:
    """Calls made in ``seconds`` on one connection, and each call's latency (ms)."""
    import thriftpy2
    from thriftpy2.protocol import TCyBinaryProtocolFactory
    from thriftpy2.rpc import make_client
    from thriftpy2.transport import TCyBufferedTransportFactory

    bench = thriftpy2.load(str(HERE / "bench.thrift"), module_name="bench_thrift")
    client = make_client(
        bench.Profiles,
        "127.0.0.1",
        port,
        proto_factory=TCyBinaryProtocolFactory(),
        trans_factory=TCyBufferedTransportFactory(),
        timeout=10_000,
    )
    latencies: list[float] = []
    n = start
    deadline = time.perf_counter() + seconds
    while (t0 := time.perf_counter()) < deadline:
        client.getProfile(n)
        latencies.append((time.perf_counter() - t0) * 1000.0)
        n += 1
    client.close()
    return len(latencies), latencies


def _drive_one(args: tuple[int, float, int]) -> int:
    return drive(*args)[0]


def concurrent(port: int, seconds: float, clients: int = 4) -> float:
    with mp.get_context("spawn").Pool(clients) as pool:
        counts = pool.map(_drive_one, [(port, seconds, i * 1_000_000) for i in range(clients)])
    return sum(counts) / seconds


def measure(port: int, seconds: float) -> dict[str, float]:
    drive(port, 0.3, 0)  # warm up (connections, the mock's first calls)
    calls, latencies = drive(port, seconds, 0)
    return {
        "sequential_calls_s": calls / seconds,
        "p50_ms": statistics.median(latencies),
        "concurrent_calls_s": concurrent(port, seconds),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--runtime", choices=("process", "docker"), default="process")
    opts = parser.parse_args()
    backend_port, mock_port = free_port(), free_port()
    env = dict(os.environ, PYTHONPATH=str(REPO / "sandbox"))
    backend = subprocess.Popen(
        [sys.executable, str(HERE / "baseline_server.py"), str(backend_port)], stdout=subprocess.DEVNULL
    )
    with tempfile.TemporaryDirectory() as root:
        (Path(root) / "idl").mkdir()
        (Path(root) / "idl" / "bench.thrift").write_text((HERE / "bench.thrift").read_text())
        mock = subprocess.Popen(
            [
                sys.executable, "-m", "thriftbox", "serve", "idl", "--runtime", opts.runtime, "--no-watch",
                "--port", str(mock_port), "--admin-port", "0", "--proxy", f"{SID}=127.0.0.1:{backend_port}",
            ],
            cwd=root,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            wait_port(backend_port)
            wait_port(mock_port)
            ready = Path(root) / ".thriftbox" / "state.json"  # written once every mock answers
            deadline = time.monotonic() + 120
            while not ready.exists() and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(1.0)
            rounds: dict[str, list[dict[str, float]]] = {"direct": [], "proxied": []}
            for _ in range(opts.rounds):
                rounds["direct"].append(measure(backend_port, opts.seconds))
                rounds["proxied"].append(measure(mock_port, opts.seconds))
        finally:
            mock.terminate()
            backend.terminate()
            mock.wait(30)
            backend.wait(30)
    result = {
        side: {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        for side, runs in rounds.items()
    }
    direct, proxied = result["direct"], result["proxied"]
    summary = {
        **result,
        "sequential_ratio": proxied["sequential_calls_s"] / direct["sequential_calls_s"],
        "concurrent_ratio": proxied["concurrent_calls_s"] / direct["concurrent_calls_s"],
        "added_p50_ms": proxied["p50_ms"] - direct["p50_ms"],
        "cpus": os.cpu_count(),
        "seconds": opts.seconds,
        "rounds": opts.rounds,
        "runtime": opts.runtime,
    }
    print(f"{'':12} {'direct':>10} {'proxied':>10} {'ratio':>7}")
    for key, label in (("sequential_calls_s", "sequential"), ("concurrent_calls_s", "concurrent")):
        ratio = proxied[key] / direct[key]
        print(f"{label:12} {direct[key]:>10.0f} {proxied[key]:>10.0f} {ratio:>7.2f}  calls/s")
    print(f"{'p50':12} {direct['p50_ms']:>10.3f} {proxied['p50_ms']:>10.3f}          ms (one call)")
    print(f"added p50 latency: {summary['added_p50_ms']:.3f} ms")
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    name = "proxy.json" if opts.runtime == "process" else f"proxy-{opts.runtime}.json"
    (out / name).write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
