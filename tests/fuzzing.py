"""Fuzzing a running `thriftbox serve` from outside, as the CI test (tests/wire/test_fuzz_serve.py) and the
benchmark (bench/fuzz.py) do: seeded inputs of six families, each on its own connection, while a well-behaved
client calls the same mock and checks every answer.

Families: random bytes; mutated binary, compact and JSON messages (buffered); mutated framed binary; mutated
HTTP requests carrying a binary message. A mutation flips, inserts, deletes, duplicates or truncates bytes of a
valid message of the served IDL.
"""

from __future__ import annotations

import random
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from thriftpy2.protocol import TBinaryProtocol, TCompactProtocol, TJSONProtocol
from thriftpy2.rpc import make_client
from thriftpy2.thrift import TMessageType
from thriftpy2.transport import TMemoryBuffer

FAMILIES = ("random", "binary", "compact", "json", "framed", "http")
FIXTURE_IDL = Path(__file__).parent / "runtime" / "docker_fixtures" / "idl"


def valid_messages(module: Any) -> dict[str, list[bytes]]:
    """Well-formed calls of ``users.Users`` in each protocol, to mutate."""
    calls: list[tuple[str, Any]] = [
        ("getUser", module.Users.getUser_args(id=42)),
        ("listUsers", module.Users.listUsers_args(limit=3)),
        ("exists", module.Users.exists_args(email="ada@example.com")),
        ("ping", module.Users.ping_args()),
    ]
    out: dict[str, list[bytes]] = {"binary": [], "compact": [], "json": []}
    for protocol, factory in (
        ("binary", TBinaryProtocol),
        ("compact", TCompactProtocol),
        ("json", TJSONProtocol),
    ):
        for seqid, (name, args) in enumerate(calls, 1):
            buf = TMemoryBuffer()
            proto = factory(buf)
            proto.write_message_begin(name, TMessageType.CALL, seqid)
            args.write(proto)
            proto.write_message_end()
            out[protocol].append(buf.getvalue())
    return out


def mutate(rng: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        how = rng.randrange(5)
        at = rng.randrange(len(b) + 1) if b else 0
        if how == 0 and b:
            b[min(at, len(b) - 1)] ^= 1 << rng.randrange(8)
        elif how == 1:
            b[at:at] = rng.randbytes(rng.randint(1, 8))
        elif how == 2 and b:
            del b[at : at + rng.randint(1, 8)]
        elif how == 3 and b:
            chunk = b[at : at + rng.randint(1, 16)]
            b[at:at] = chunk * rng.randint(1, 4)
        elif b:
            del b[at:]
    return bytes(b)


def inputs(family: str, count: int, seed: int, messages: dict[str, list[bytes]]) -> Iterator[bytes]:
    """``count`` seeded inputs of ``family``."""
    rng = random.Random(f"{seed}:{family}")
    for _ in range(count):
        if family == "random":
            yield rng.randbytes(rng.randint(1, 512))
        elif family in ("binary", "compact", "json"):
            yield mutate(rng, rng.choice(messages[family]))
        elif family == "framed":
            body = rng.choice(messages["binary"])
            yield mutate(rng, struct.pack(">i", len(body)) + body)
        else:
            body = rng.choice(messages["binary"])
            head = (
                "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-thrift\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            )
            yield mutate(rng, head.encode() + body)


def send(port: int, data: bytes, timeout: float = 5.0) -> None:
    """One input on its own connection: send, half-close, read until the mock closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
            while sock.recv(65536):
                pass
        except OSError:  # reset by the mock: fine, it closed this connection
            pass


@dataclass
class GoodCalls:
    """A well-behaved client calling ``getUser`` in a loop until stopped; every answer is checked."""

    module: Any
    port: int
    ok: int = 0
    failed: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        client = make_client(self.module.Users, "127.0.0.1", self.port, timeout=10_000)
        try:
            while not self._stop.is_set():
                try:
                    user = client.getUser(7)
                    if user.id != 7:
                        self.failed.append(f"getUser(7) answered id {user.id}")
                    else:
                        self.ok += 1
                except Exception as err:
                    self.failed.append(f"{type(err).__name__}: {err}")
                    client.close()
                    client = make_client(self.module.Users, "127.0.0.1", self.port, timeout=10_000)
                time.sleep(0.002)
        finally:
            client.close()

    def stop(self) -> None:
        self._stop.set()


@dataclass
class Report:
    inputs: int
    seconds: float
    good_calls: int
    failed_good_calls: list[str]

    @property
    def per_second(self) -> float:
        return self.inputs / self.seconds if self.seconds else 0.0


def fuzz(
    module: Any,
    port: int,
    per_family: int,
    seed: int = 0,
    threads: int = 8,
    progress: Callable[[str, int], None] | None = None,
) -> Report:
    """Send ``per_family`` inputs of each family to the mock on ``port`` while good calls run beside."""
    messages = valid_messages(module)
    good = GoodCalls(module, port)
    runner = threading.Thread(target=good.run, daemon=True)
    runner.start()
    t0 = time.perf_counter()
    total = 0
    try:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            for family in FAMILIES:
                batch: list[bytes] = []
                for data in inputs(family, per_family, seed, messages):
                    batch.append(data)
                    if len(batch) == 1000:
                        total += len(list(pool.map(lambda d: send(port, d), batch)))
                        batch = []
                total += len(list(pool.map(lambda d: send(port, d), batch)))
                if progress is not None:
                    progress(family, total)
    finally:
        good.stop()
        runner.join(30)
    return Report(total, time.perf_counter() - t0, good.ok, good.failed)


def rss_kb(pid: int) -> int:
    """Resident memory of a process and its children (kB), from /proc."""
    total = 0
    todo = [pid]
    while todo:
        current = todo.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return total
