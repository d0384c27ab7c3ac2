"""What Apache's TestClient checks with ``--ssl``: ``TSSLSocket`` under binary, compact and JSON, buffered and
framed (and multiplexed), against ``thriftbox serve --tls-cert --tls-key`` of ThriftTest with the project's mocks;
plaintext clients on the same port at the same time.

The checks are those of :mod:`tests.wire.test_thrifttest`; only the connection differs. The certificates are
made at test time (:mod:`tests.tls_support`), and the client checks the mock's against their CA, host name
included, as TestClient does with its own ``test/keys``.
"""

from __future__ import annotations

import shutil
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from thrift.protocol.TMultiplexedProtocol import TMultiplexedProtocol
from thrift.transport import TSSLSocket, TTransport

from tests.serve_support import Served, serve
from tests.tls_support import Pki, make_pki
from tests.wire import test_thrifttest as checks

pytestmark = checks.pytestmark

# variant id -> (protocol, transport, multiplexed)
VARIANTS = {
    "ssl-binary-buffered": ("binary", "buffered", False),
    "ssl-binary-framed": ("binary", "framed", False),
    "ssl-compact-buffered": ("compact", "buffered", False),
    "ssl-compact-framed": ("compact", "framed", False),
    "ssl-json-buffered": ("json", "buffered", False),
    "ssl-json-framed": ("json", "framed", False),
    "ssl-multi-binary-framed": ("binary", "framed", True),
}

tt = checks.tt
client = checks.client


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def served(corpus: Path, tmp_path_factory: pytest.TempPathFactory, pki: Pki) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("thrifttest-tls")
    (root / "idl").mkdir()
    shutil.copy(corpus / checks.IDL, root / "idl")
    tls = ("--tls-cert", str(pki.server), "--tls-key", str(pki.server_key))
    with serve(root, ["idl"], "--mocks", str(checks.STUBS), *tls) as s:
        yield s
        assert s.proc.poll() is None, f"serve died during the calls:\n{s.output()}"


def connect(tt: Any, port: int, pki: Pki, variant: str) -> checks.Clients:
    protocol, transport, multiplexed = VARIANTS[variant]
    sock = TSSLSocket.TSSLSocket("localhost", port, ca_certs=str(pki.ca), cert_reqs=ssl.CERT_REQUIRED)
    sock.setTimeout(5000)
    trans: Any = (
        TTransport.TFramedTransport(sock) if transport == "framed" else TTransport.TBufferedTransport(sock)
    )
    trans.open()
    seqids = checks.Seqids()

    def proto(service: str | None) -> Any:
        p = checks.Pedantic(checks.PROTOCOLS[protocol](trans), seqids)
        return TMultiplexedProtocol(p, service) if service else p

    if not multiplexed:
        return checks.Clients(tt.ThriftTest.Client(proto(None)), None, trans)
    return checks.Clients(
        tt.ThriftTest.Client(proto("ThriftTest")), tt.SecondService.Client(proto("SecondService")), trans
    )


@pytest.fixture(params=list(VARIANTS))
def clients(request: pytest.FixtureRequest, served: Served, tt: Any, pki: Pki) -> Iterator[checks.Clients]:
    c = connect(tt, served.port("ThriftTest.ThriftTest"), pki, request.param)
    yield c
    c.transport.close()


test_echo_methods_return_their_argument = checks.test_echo_methods_return_their_argument
test_void_answers = checks.test_void_answers
test_map_map_is_the_fixed_map = checks.test_map_map_is_the_fixed_map
test_insanity = checks.test_insanity
test_multi_builds_hello2_from_its_arguments = checks.test_multi_builds_hello2_from_its_arguments
test_exception_xception = checks.test_exception_xception
test_exception_texception_is_an_application_error = checks.test_exception_texception_is_an_application_error
test_exception_other_arguments_succeed = checks.test_exception_other_arguments_succeed
test_multi_exception_xception = checks.test_multi_exception_xception
test_multi_exception_xception2 = checks.test_multi_exception_xception2
test_multi_exception_success_echoes_arg1 = checks.test_multi_exception_success_echoes_arg1
test_oneway_returns_at_once_and_the_connection_stays_usable = (
    checks.test_oneway_returns_at_once_and_the_connection_stays_usable
)


def test_second_service_and_a_plaintext_client_at_the_same_time(served: Served, tt: Any, pki: Pki) -> None:
    secure = connect(tt, served.port("ThriftTest.ThriftTest"), pki, "ssl-multi-binary-framed")
    plain = checks.connect(tt, served.port("ThriftTest.ThriftTest"), "binary", "buffered", False)
    try:
        assert secure.second.secondtestString("foobar") == 'testString("foobar")'
        assert plain.test.testString("plain") == "plain"
        assert secure.test.testString("between") == "between"
        assert plain.test.testI32(-7) == -7
    finally:
        secure.transport.close()
        plain.transport.close()
