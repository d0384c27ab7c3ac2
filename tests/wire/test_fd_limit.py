"""At the open-file limit a mock stops accepting for a moment instead of spinning: bounded CPU, one log line, and
connections are served again once descriptors free up (it busy-looped at 99 % CPU, logging every failed accept,
and served nobody until the load went away)."""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.wire.test_support import RawClient, binary_call, load_client_module

REPO = Path(__file__).resolve().parents[2]
LIMIT = 64
SERVER = f"""
import asyncio, logging, resource, sys
resource.setrlimit(resource.RLIMIT_NOFILE, ({LIMIT}, {LIMIT}))
logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(message)s")
from tests.wire.test_support import EchoApp
from thriftbox.wire import ThriftServer

async def main() -> None:
    server = ThriftServer(EchoApp())
    await server.start()
    print(server.port, flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads CPU time from /proc")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_out_of_descriptors_backs_off_logs_once_and_recovers(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{REPO / 'sandbox'}"}
    with log.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-c", SERVER], stdout=subprocess.PIPE, stderr=err, text=True, env=env, cwd=REPO
        )
    held: list[socket.socket] = []
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        assert soft > 3 * LIMIT  # this test's own sockets fit
        for _ in range(2 * LIMIT):  # more than the server can hold open
            held.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        time.sleep(0.5)
        before, t0 = cpu_seconds(proc.pid), time.monotonic()
        time.sleep(3.0)
        busy = (cpu_seconds(proc.pid) - before) / (time.monotonic() - t0)
        assert busy < 0.25, f"the server used {busy:.0%} of a core while out of descriptors"
        lines = [line for line in log.read_text().splitlines() if "descriptor" in line or "accept" in line]
        assert 1 <= len(lines) <= 2, lines
        for sock in held:  # the load goes: the backlog drains and a new client is served
            sock.close()
        held.clear()
        tp = load_client_module()
        with RawClient(port, timeout=10) as client:
            client.send(binary_call("fail", tp.Echo.fail_args(how="x"), seqid=9))
            assert client.reply(tp.Echo.fail_result)[2] == 9
    finally:
        for sock in held:
            sock.close()
        proc.kill()
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()
