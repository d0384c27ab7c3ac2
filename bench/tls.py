"""Benchmark: TLS and THeader calls per second beside plain binary ones, and what serving TLS costs the plain call.

    python bench/tls.py [--seconds 3] [--rounds 3] [--before REV]

Mock hosts (``thriftbox host``, one process each) run side by side:

  plain        this checkout, no TLS configured
  tls-port     this checkout with --tls-cert/--tls-key: plaintext clients (their first byte is peeked at once per
               connection) and TLS clients on the same port
  before       (with --before REV) the package as of git revision REV, no TLS: the plain call before this work

The same client processes (thriftpy2, Cython binary protocol, buffered transport, persistent connections) drive
each with the loads of bench/run.py (concurrent: 4 client processes; sequential: 1 connection), plaintext on every
server, TLS on tls-port, and THeader (binary inside, thriftbox's own client) on plain; ``handshake`` opens a
new connection for every call (TLS: a full handshake each, TLS 1.3, EC P-256). Rounds alternate the servers;
each figure is the median of the rounds. Results are printed and written to bench/results/tls.json, with the
server's CPU time per call (from /proc: it varies far less than calls/s when other programs share the machine).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import ssl
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sandbox"))  # thriftbox's THeader client
sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import HERE, REPO, free_port, wait_port

MAX_CONNECTIONS = 400  # per handshake measurement: each leaves a socket in TIME-WAIT for a minute
LOADS = {"concurrent": (4, 1), "sequential": (1, 1)}  # name: (client processes, connections each)


def make_cert(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "server.pem", folder / "server.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=localhost"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def client_worker(
    port: int, wire: str, connections: int, seconds: float, reconnect: bool, out: mp.Queue
) -> None:  # type: ignore[type-arg]
    import thriftpy2
    from thriftpy2.protocol import TCyBinaryProtocolFactory
    from thriftpy2.rpc import make_client
    from thriftpy2.transport import TCyBufferedTransportFactory

    bench = thriftpy2.load(str(HERE / "bench.thrift"), module_name="bench_tls_client_thrift")
    tls = wire == "tls"
    context = None
    if tls:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE

    def connect() -> object:
        if wire == "header":
            from thriftpy2.thrift import TClient

            from thriftbox.client.transport import open_transport

            opened = open_transport("127.0.0.1", port, "binary", "header", 10.0)
            client = TClient(bench.Profiles, opened.protocol)
            client.close = opened.close  # type: ignore[method-assign]
            return client
        return make_client(
            bench.Profiles,
            "127.0.0.1",
            port,
            proto_factory=TCyBinaryProtocolFactory(),
            trans_factory=TCyBufferedTransportFactory(),
            timeout=10_000,
            ssl_context=context,
        )

    calls, next_id = 0, 1
    clients = [] if reconnect else [connect() for _ in range(connections)]
    start = time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline and not (reconnect and calls >= MAX_CONNECTIONS):
        if reconnect:
            c = connect()
            c.getProfile(next_id)  # type: ignore[attr-defined]
            c.close()  # type: ignore[attr-defined]
            next_id, calls = next_id + 1, calls + 1
            continue
        for c in clients:
            c.getProfile(next_id)  # type: ignore[attr-defined]
            next_id, calls = next_id + 1, calls + 1
    for c in clients:
        c.close()  # type: ignore[attr-defined]
    out.put((calls, time.perf_counter() - start))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def drive(
    port: int, wire: str, clients: int, connections: int, seconds: float, reconnect: bool = False
) -> tuple[int, float]:
    """Calls made by ``clients`` processes, and the seconds the slowest one took."""
    q: mp.Queue = mp.Queue()  # type: ignore[type-arg]
    procs = [
        mp.Process(target=client_worker, args=(port, wire, connections, seconds, reconnect, q))
        for _ in range(clients)
    ]
    for p in procs:
        p.start()
    results = [q.get(timeout=seconds + 60) for _ in procs]
    for p in procs:
        p.join()
    return sum(calls for calls, _ in results), max(elapsed for _, elapsed in results)


def measure(
    proc: subprocess.Popen[bytes],
    port: int,
    wire: str,
    load: tuple[int, int],
    seconds: float,
    reconnect: bool,
) -> tuple[float, float]:
    """(calls/s, the server's CPU microseconds per call): the second hardly depends on what else the machine runs."""
    before = cpu_seconds(proc.pid)
    calls, elapsed = drive(port, wire, load[0], load[1], seconds, reconnect)
    used = cpu_seconds(proc.pid) - before
    return calls / elapsed, used * 1e6 / max(calls, 1)


def start_host(sandbox: Path, extra: list[str]) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    cmd = [sys.executable, "-m", "thriftbox", "host", "--idl", str(HERE / "bench.thrift")]
    cmd += ["--service", f"bench.Profiles={port}", *extra]
    env = {**os.environ, "PYTHONPATH": str(sandbox)}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port)
    time.sleep(0.5)  # the first calls pay for loading: let them settle
    return proc, port


def checkout(rev: str, into: Path) -> Path:
    """The ``sandbox/`` folder of git revision ``rev``, extracted into ``into``."""
    archive = into / "before.tar"
    subprocess.run(["git", "-C", str(REPO), "archive", "-o", str(archive), rev, "sandbox"], check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return into / "sandbox"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each measurement")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each load (median)")
    parser.add_argument(
        "--before", default=None, metavar="REV", help="also serve the package of this revision"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="thriftbox-bench-tls-") as tmp:
        cert, key = make_cert(Path(tmp))
        procs: dict[str, subprocess.Popen[bytes]] = {}
        ports: dict[str, int] = {}
        here = REPO / "sandbox"
        procs["plain"], ports["plain"] = start_host(here, [])
        procs["tls-port"], ports["tls-port"] = start_host(
            here, ["--tls-cert", str(cert), "--tls-key", str(key)]
        )
        if args.before:
            procs["before"], ports["before"] = start_host(checkout(args.before, Path(tmp)), [])
        # (server, what the client speaks)
        runs = [(name, "plain") for name in ports] + [("tls-port", "tls"), ("plain", "header")]
        try:
            rates: dict[str, dict[str, list[float]]] = {}
            cpu: dict[str, dict[str, list[float]]] = {}
            for load, shape in [*LOADS.items(), ("handshake", (1, 1))]:
                order = runs if load != "handshake" else [("tls-port", "plain"), ("tls-port", "tls")]
                for i in range(args.rounds):
                    for name, wire in order if i % 2 == 0 else order[::-1]:  # no server always goes first
                        label = f"{name} ({wire} client)"
                        rate, us = measure(
                            procs[name], ports[name], wire, shape, args.seconds, load == "handshake"
                        )
                        rates.setdefault(load, {}).setdefault(label, []).append(rate)
                        cpu.setdefault(load, {}).setdefault(label, []).append(us)
        finally:
            for p in procs.values():
                p.terminate()
                p.wait(timeout=10)
    med = {load: {n: round(statistics.median(v)) for n, v in by.items()} for load, by in rates.items()}
    result: dict[str, object] = {
        "loads": {
            **{
                load: f"{c} client process(es) x {k} connection(s), persistent"
                for load, (c, k) in LOADS.items()
            },
            "handshake": "1 client process, a new connection for every call",
        },
        "seconds_per_measurement": args.seconds,
        "rounds": args.rounds,
        "before": args.before,
        "calls_per_s": med,
        "server_cpu_us_per_call": {
            load: {n: round(statistics.median(v), 1) for n, v in by.items()} for load, by in cpu.items()
        },
    }
    for key, table in (
        ("calls_per_s", "calls_per_s_over_plain"),
        ("server_cpu_us_per_call", "cpu_over_plain"),
    ):
        ratios: dict[str, dict[str, float]] = {}
        for load, by in result[key].items():  # type: ignore[attr-defined]
            plain = by.get("plain (plain client)")
            if not plain:
                continue
            ratios[load] = {n: round(r / plain, 3) for n, r in by.items() if n != "plain (plain client)"}
            if "before (plain client)" in by:
                ratios[load]["plain after/before"] = round(plain / by["before (plain client)"], 3)
        result[table] = ratios
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "tls.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
