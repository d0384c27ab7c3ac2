"""Benchmark: thriftbox's mock against a hand-written thriftpy2 server, same IDL, same loads, one run.

    python bench/run.py [--seconds 3] [--rounds 5] [--workers 2]

Three servers run side by side, each in its own process(es): the hand-written thriftpy2 server
(bench/baseline_server.py), the mock as `serve` starts it by default (one process), and the mock with
`--workers N` (N processes sharing its port). The same client processes drive each with the same loads
(Cython binary protocol, buffered transport, persistent connections, every call with distinct arguments):

  concurrent  4 connections, each driven by its own client process (the headline figure)
  pooled      2 client processes, each cycling through 2 connections one call at a time
  sequential  1 connection, one call at a time (the latency of one call, which workers cannot help)

Rounds alternate the servers so that all see the same machine; each figure is the median of the rounds.
Reports calls/s, the ratios mock/baseline (target >= 1.0), memory (RSS, all processes of a server) and the
mock's start-up time. Results are printed and written to bench/results/latest.json.
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and its children (a mock's worker processes)."""
    total = 0.0
    for p in [pid, *children(pid)]:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) / 1024
    return total


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    return found


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


def drive(port: int, clients: int, connections: int, seconds: float) -> tuple[float, int]:
    q: mp.Queue = mp.Queue()  # type: ignore[type-arg]
    procs = [
        mp.Process(target=client_worker, args=(port, connections, seconds, i * 10_000_000, q))
        for i in range(clients)
    ]
    for p in procs:
        p.start()
    results = [q.get(timeout=seconds + 60) for _ in procs]
    for p in procs:
        p.join()
    calls = sum(r[0] for r in results)
    return calls / seconds, max(r[1] for r in results)


LOADS = {  # name: (client processes, connections per client process)
    "concurrent": (4, 1),
    "pooled": (2, 2),
    "sequential": (1, 1),
}


def start_mock(env: dict[str, str], workers: int) -> tuple[subprocess.Popen[bytes], int, float]:
    port = free_port()
    cmd = [sys.executable, "-m", "thriftbox", "host", "--idl", str(HERE / "bench.thrift")]
    cmd += ["--service", f"bench.Profiles={port}", "--workers", str(workers)]
    cmd += ["--state-dir", tempfile.mkdtemp(prefix="thriftbox-bench-")]  # as `serve` runs it (host.persist)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port)
    return proc, port, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each measurement")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of the concurrent load (median)")
    parser.add_argument("--workers", type=int, default=2, help="processes of the second mock")
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(REPO / "sandbox")}

    mock1, mock1_port, mock_start = start_mock(env, 1)
    mockn, mockn_port, mockn_start = start_mock(env, args.workers)
    base_port = free_port()
    baseline = subprocess.Popen(
        [sys.executable, str(HERE / "baseline_server.py"), str(base_port)], env=env, stdout=subprocess.DEVNULL
    )
    names = ("baseline", "mock", f"mock --workers {args.workers}")
    servers = dict(zip(names, (base_port, mock1_port, mockn_port), strict=True))
    try:
        wait_port(base_port)
        rates: dict[str, dict[str, list[float]]] = {load: {n: [] for n in names} for load in LOADS}
        distinct: dict[str, int] = {}
        for load, (clients, connections) in LOADS.items():
            for _ in range(args.rounds if load == "concurrent" else 1):
                for name, port in servers.items():
                    rate, seen = drive(port, clients, connections, args.seconds)
                    rates[load][name].append(rate)
                    distinct[name] = max(distinct.get(name, 0), seen)
        med = {load: {n: statistics.median(v) for n, v in by.items()} for load, by in rates.items()}
        result = {
            "loads": {load: f"{c} client process(es) x {k} connection(s)" for load, (c, k) in LOADS.items()},
            "seconds_per_measurement": args.seconds,
            "rounds_concurrent": args.rounds,
            "calls_per_s": {load: {n: round(r) for n, r in by.items()} for load, by in med.items()},
            "ratio_over_baseline": {
                load: {n: round(by[n] / by["baseline"], 3) for n in names[1:]} for load, by in med.items()
            },
            "distinct_answers_in_first_200": distinct,
            "rss_mb": {
                n: round(rss_mb(p.pid), 1) for n, p in zip(names, (baseline, mock1, mockn), strict=True)
            },
            "mock_start_s": {"mock": round(mock_start, 3), names[2]: round(mockn_start, 3)},
        }
    finally:
        for p in (baseline, mock1, mockn):
            p.terminate()
            p.wait(timeout=10)
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "latest.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    for load in LOADS:
        ratios = result["ratio_over_baseline"][load]
        line = ", ".join(f"{n} {r:.2f}" for n, r in ratios.items())
        print(f"{load:>10}: mock/baseline = {line}")
    headline = result["ratio_over_baseline"]["concurrent"][names[2]]
    verdict = "meets" if headline >= 1.0 else "MISSES"
    print(f"headline (concurrent, {names[2]}): {headline:.2f} ({verdict} the >= 1.0 target)")


if __name__ == "__main__":
    main()
