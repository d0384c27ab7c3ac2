"""Shared by the proxy tests (no tests here): a real People provider (Apache's Python ``thrift``), Apache
clients for the mock, and a project folder serving people.thrift."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.serve_support import Served, free_base_port
from tests.wire.apache import generate

HERE = Path(__file__).resolve().parent
IDL = HERE / "people.thrift"
SID = "people.People"


def apache(tmp: Path) -> Any:
    """Apache's generated code for people.thrift: ``gen.People``, ``gen.ttypes``."""
    pytest.importorskip("thrift", reason="Apache's Python library (thrift) is not installed")
    out = tmp / "gen"
    out.mkdir(exist_ok=True)
    return generate(out, IDL.read_text(), "proxypeople", ("People", "ttypes"))


def project(root: Path) -> Path:
    """``root`` with idl/people.thrift and an empty mocks/."""
    (root / "idl").mkdir(parents=True, exist_ok=True)
    shutil.copy(IDL, root / "idl" / "people.thrift")
    (root / "mocks").mkdir(exist_ok=True)
    return root


def wait_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on {port}")


@contextmanager
def provider(
    tmp: Path, protocol: str = "binary", framing: str = "buffered", tls: tuple[Path, ...] = ()
) -> Iterator[int]:
    """The real provider on a free port (its own interpreter); yields the port. ``framing`` may be ``header``
    (THeader); ``tls``: its certificate and key, and the CA its clients' certificates must chain to."""
    apache(tmp)
    port = free_base_port(2)
    proc = subprocess.Popen(
        [
            sys.executable,
            str(HERE / "provider.py"),
            str(tmp / "gen"),
            str(port),
            protocol,
            framing,
            *map(str, tls),
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_port(port)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@contextmanager
def client(
    gen: Any, port: int, protocol: str = "binary", framing: str = "buffered", mux: str | None = None
) -> Iterator[Any]:
    """An Apache client of People on ``port``."""
    from thrift.protocol import TBinaryProtocol, TCompactProtocol, TMultiplexedProtocol
    from thrift.transport import TSocket, TTransport

    sock = TSocket.TSocket("127.0.0.1", port)
    sock.setTimeout(20_000)
    transport = (
        TTransport.TFramedTransport(sock) if framing == "framed" else TTransport.TBufferedTransport(sock)
    )
    proto = (
        TCompactProtocol.TCompactProtocol(transport)
        if protocol == "compact"
        else TBinaryProtocol.TBinaryProtocol(transport)
    )
    if mux is not None:
        proto = TMultiplexedProtocol.TMultiplexedProtocol(proto, mux)
    transport.open()
    try:
        yield gen.People.Client(proto)
    finally:
        transport.close()


def journal(served: Served) -> list[dict[str, Any]]:
    """Every journal entry, through the admin API (as `thriftbox journal --json` reads it)."""
    state = served.state()
    request = urllib.request.Request(
        state["admin_url"].rstrip("/") + "/journal", headers={"X-Thriftbox-Token": state["admin_token"]}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return list(json.loads(response.read())["entries"])
