"""What Apache's TestClient checks, over the wires it selects with ``--protocol=header``, ``multih`` and
``--zlib``, against ``thriftbox serve`` of ThriftTest with the project's mocks.

The checks are those of :mod:`tests.wire.test_thrifttest` (the same functions, run here with other clients); only
the connections differ: THeader over buffered and framed transports (TestClient's ``header`` and ``multih``),
and ``TZlibTransport`` around buffered and framed binary and compact (TestClient's ``--zlib``). Not JSON:
Apache's Python ``TJSONProtocol`` reads a ``\\u`` escape with a bare ``read(4)``, which ``TZlibTransport`` may
answer short, and thriftpy2's JSON writer escapes non-ASCII text.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from thrift.protocol import THeaderProtocol
from thrift.protocol.TMultiplexedProtocol import TMultiplexedProtocol
from thrift.transport import TSocket, TTransport, TZlibTransport

from tests.serve_support import Served
from tests.wire import test_thrifttest as checks

pytestmark = checks.pytestmark

# variant id -> (protocol, transport, zlib, multiplexed); "header" is THeader, binary inside
VARIANTS = {
    "header-buffered": ("header", "buffered", False, False),
    "header-framed": ("header", "framed", False, False),
    "multih-buffered": ("header", "buffered", False, True),
    "multih-framed": ("header", "framed", False, True),
    "zlib-binary-buffered": ("binary", "buffered", True, False),
    "zlib-compact-framed": ("compact", "framed", True, False),
    "zlib-compact-buffered": ("compact", "buffered", True, False),
    "zlib-multi-binary-framed": ("binary", "framed", True, True),
    "zlib-binary-framed": ("binary", "framed", True, False),
    "zlib-header-buffered": ("header", "buffered", True, False),  # TestClient --protocol=header --zlib
}
PROTOCOLS = {**checks.PROTOCOLS, "header": lambda t: THeaderProtocol.THeaderProtocolFactory().getProtocol(t)}

served = checks.served
tt = checks.tt
client = checks.client


def connect(tt: Any, port: int, variant: str) -> checks.Clients:
    """The transport and protocols as TestClient builds them for ``variant``."""
    protocol, transport, zlib, multiplexed = VARIANTS[variant]
    sock = TSocket.TSocket("127.0.0.1", port)
    sock.setTimeout(5000)
    trans: Any = (
        TTransport.TFramedTransport(sock) if transport == "framed" else TTransport.TBufferedTransport(sock)
    )
    if zlib:
        trans = TZlibTransport.TZlibTransport(trans, 9)
    trans.open()
    seqids = checks.Seqids()

    def proto(service: str | None) -> Any:
        p = checks.Pedantic(PROTOCOLS[protocol](trans), seqids)
        return TMultiplexedProtocol(p, service) if service else p

    if not multiplexed:
        return checks.Clients(tt.ThriftTest.Client(proto(None)), None, trans)
    return checks.Clients(
        tt.ThriftTest.Client(proto("ThriftTest")), tt.SecondService.Client(proto("SecondService")), trans
    )


@pytest.fixture(params=list(VARIANTS))
def clients(request: pytest.FixtureRequest, served: Served, tt: Any) -> Iterator[checks.Clients]:
    c = connect(tt, served.port("ThriftTest.ThriftTest"), request.param)
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


@pytest.mark.parametrize("variant", [v for v, (*_, multi) in VARIANTS.items() if multi])
def test_second_service_over_the_same_connection(served: Served, tt: Any, variant: str) -> None:
    """TestClient's ``multih``: SecondService and ThriftTest multiplexed inside THeader (and inside zlib)."""
    c = connect(tt, served.port("ThriftTest.ThriftTest"), variant)
    try:
        assert c.second.secondtestString("foobar") == 'testString("foobar")'
        assert c.test.testString("between") == "between"
        assert c.second.secondtestString("again") == 'testString("again")'
    finally:
        c.transport.close()
