"""Benchmark: thriftbox's mock against a hand-written thriftpy2 server, same IDL, same load, one run.

    python bench/run.py [--seconds 5] [--connections 4] [--clients 2]

Each server runs in its own process; the same client processes drive both with the same load: several
persistent connections, Cython binary protocol, buffered transport, every call with distinct arguments.
Reports calls/s for each, the ratio mock/baseline (target >= 1.0), server memory (RSS) and
the mock's start-up time.
Results are printed and written to bench/results/latest.json.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def wait_port(port: int, timeout: float = 30.0) -> float:
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return time.perf_counter() - t0
        except OSError:
            time.sleep(0.01)
    raise SystemExit(f"server on port {port} did not come up")


def client_worker(port: int, connections: int, seconds: float, offset: int, out: mp.Queue) -> None:  # type: ignore[type-arg]
    import thriftpy2
    from thriftpy2.protocol import TCyBinaryProtocolFactory
    from thriftpy2.rpc import make_client
    from thriftpy2.transport import TCyBufferedTransportFactory

    bench = thriftpy2.load(str(HERE / "bench.thrift"), module_name="bench_client_thrift")
    clients = [
        make_client(
            bench.Profiles,
            "127.0.0.1",
            port,
            proto_factory=TCyBinaryProtocolFactory(),
            trans_factory=TCyBufferedTransportFactory(),
            timeout=10_000,
        )
        for _ in range(connections)
    ]
    calls, distinct = 0, set()
    next_id = offset
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        for c in clients:  # round-robin over persistent connections
            p = c.getProfile(next_id)
            next_id += 1
            calls += 1
            if len(distinct) < 200:
                distinct.add((p.name, p.email))
    for c in clients:
        c.close()
    out.put((calls, len(distinct)))


def drive(port: int, args: argparse.Namespace) -> tuple[float, int]:
    q: mp.Queue = mp.Queue()  # type: ignore[type-arg]
    procs = [
        mp.Process(target=client_worker, args=(port, args.connections, args.seconds, i * 10_000_000, q))
        for i in range(args.clients)
    ]
    for p in procs:
        p.start()
    results = [q.get(timeout=args.seconds + 60) for _ in procs]
    for p in procs:
        p.join()
    calls = sum(r[0] for r in results)
    return calls / args.seconds, max(r[1] for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=2, help="connections per client process")
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(REPO / "sandbox")}

    mock_port = free_port()
    mock = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "thriftbox",
            "host",
            "--idl",
            str(HERE / "bench.thrift"),
            "--service",
            f"bench.Profiles={mock_port}",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    mock_start = wait_port(mock_port)
    base_port = free_port()
    baseline = subprocess.Popen(
        [sys.executable, str(HERE / "baseline_server.py"), str(base_port)], env=env, stdout=subprocess.DEVNULL
    )
    try:
        wait_port(base_port)
        base_rate, base_distinct = drive(base_port, args)
        mock_rate, mock_distinct = drive(mock_port, args)
        result = {
            "load": f"{args.clients} clients x {args.connections} connections, {args.seconds:.0f} s each",
            "baseline_calls_per_s": round(base_rate),
            "mock_calls_per_s": round(mock_rate),
            "ratio_mock_over_baseline": round(mock_rate / base_rate, 3),
            "distinct_answers_seen": {"baseline": base_distinct, "mock": mock_distinct},
            "rss_mb": {"baseline": round(rss_mb(baseline.pid), 1), "mock": round(rss_mb(mock.pid), 1)},
            "mock_start_s": round(mock_start, 3),
        }
    finally:
        for p in (baseline, mock):
            p.terminate()
            p.wait(timeout=10)
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "latest.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    verdict = "meets" if result["ratio_mock_over_baseline"] >= 1.0 else "MISSES"
    print(f"mock/baseline = {result['ratio_mock_over_baseline']:.2f} ({verdict} the >= 1.0 target)")


if __name__ == "__main__":
    main()
