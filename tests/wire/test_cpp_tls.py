"""A C++ client built against Debian's ``libthrift-dev`` (``TSSLSocketFactory``, code from ``thrift --gen cpp``)
calls a mock port in TLS: binary and compact, buffered and framed, and with a client certificate where the port
requires one (refused without).

The client (``tests/wire/cpp/tls_client.cpp``) is built once per test session. Debian's libthrift headers include
two Boost headers without depending on Boost; when Boost is not installed, ``tests/wire/cpp/boost_shim`` stands
in for the two (same layout as Boost's, so the compiled library matches).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.tls_support import Pki, make_pki
from tests.wire.test_support import EchoApp
from thriftbox.wire import ServerThread, ThriftServer
from thriftbox.wire.tls import server_context

CPP = Path(__file__).parent / "cpp"
# The part of tests.wire.test_support.WIRE_IDL the C++ client calls (same names and field ids)
CPP_IDL = """
struct Point { 1: i32 x, 2: i32 y, 3: optional string label }
service Echo { Point getPoint(1: required i64 id, 2: string hint), void ping(), oneway void fire(1: i32 n) }
"""


def _have_boost() -> bool:
    probe = subprocess.run(
        ["g++", "-x", "c++", "-E", "-"],
        input="#include <boost/scoped_array.hpp>\n",
        capture_output=True,
        text=True,
    )
    return probe.returncode == 0


@pytest.fixture(scope="session")
def cpp_client(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("g++") is None:
        pytest.skip("g++ is not installed")
    if shutil.which("thrift") is None:
        pytest.skip("Apache's thrift compiler is not installed")
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "thrift"], capture_output=True, text=True)
    if flags.returncode != 0:
        pytest.skip("libthrift-dev is not installed (pkg-config thrift)")
    out = tmp_path_factory.mktemp("cpp")
    (out / "echo.thrift").write_text(CPP_IDL)
    subprocess.run(["thrift", "--gen", "cpp", "-out", str(out), str(out / "echo.thrift")], check=True)
    binary = out / "tls_client"
    cmd = ["g++", "-std=c++20", "-O0", f"-I{out}", str(CPP / "tls_client.cpp"), str(out / "Echo.cpp")]
    cmd += [str(out / "echo_types.cpp"), "-o", str(binary), *flags.stdout.split(), "-lssl", "-lcrypto"]
    if not _have_boost():
        cmd.insert(1, f"-I{CPP / 'boost_shim'}")
    built = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr[-3000:]
    return binary


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def servers(pki: Pki) -> Iterator[tuple[ThriftServer, ThriftServer, EchoApp]]:
    app = EchoApp()
    with ServerThread() as thread:
        plain_tls = thread.serve(app, tls=server_context(pki.server, pki.server_key))
        mutual = thread.serve(app, tls=server_context(pki.server, pki.server_key, pki.ca))
        yield plain_tls, mutual, app


def run(
    binary: Path, port: int, protocol: str, framing: str, pki: Pki, *cert: Path
) -> subprocess.CompletedProcess[str]:
    args = [str(binary), "localhost", str(port), protocol, framing, str(pki.ca), *map(str, cert)]
    return subprocess.run(args, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("framing", ["buffered", "framed"])
@pytest.mark.parametrize("protocol", ["binary", "compact"])
def test_cpp_tls_client(
    cpp_client: Path,
    servers: tuple[ThriftServer, ThriftServer, EchoApp],
    pki: Pki,
    protocol: str,
    framing: str,
) -> None:
    server, _, app = servers
    before = len(app.calls)
    done = run(cpp_client, server.port, protocol, framing, pki)
    assert (done.returncode, done.stdout.strip()) == (0, "ok"), done.stdout + done.stderr
    calls = app.calls[before:]
    assert [c.method for c in calls] == ["getPoint", "getPoint", "getPoint", "fire", "ping"]
    assert {(c.protocol, c.framing) for c in calls} == {(protocol, framing)}
    assert 4242 in app.fired


def test_cpp_client_certificate(
    cpp_client: Path, servers: tuple[ThriftServer, ThriftServer, EchoApp], pki: Pki
) -> None:
    _, mutual, _ = servers
    done = run(cpp_client, mutual.port, "binary", "framed", pki, pki.client, pki.client_key)
    assert (done.returncode, done.stdout.strip()) == (0, "ok"), done.stdout + done.stderr
    refused = run(cpp_client, mutual.port, "binary", "framed", pki)
    assert refused.returncode == 3, refused.stdout + refused.stderr
    assert refused.stdout.startswith("failed:")
