"""Apache Thrift's cross-language test service: ``thriftbox serve`` with ``mocks/thrifttest.yaml`` answers what
Apache's own ``test/py/TestClient.py`` checks, called with Apache's Python library and code from Apache's
compiler over binary/buffered, compact/framed, JSON/buffered, JSON/HTTP and multiplexed connections.

Like TestClient, every connection checks that each reply carries its request's sequence id; unlike it, the
ids are distinct (1, 2, 3...) so an echo of a stale or default id is caught too.
"""

from __future__ import annotations

import importlib
import itertools
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from thrift.protocol import TBinaryProtocol, TCompactProtocol, THeaderProtocol, TJSONProtocol
from thrift.protocol.TMultiplexedProtocol import TMultiplexedProtocol
from thrift.Thrift import TApplicationException
from thrift.transport import THttpClient, TSocket, TTransport, TZlibTransport

from tests.serve_support import REPO, Served, serve

pytestmark = pytest.mark.skipif(
    shutil.which("thrift") is None, reason="Apache's compiler (thrift) is not installed"
)

IDL = "apache__thrift/test/v0.16/ThriftTest.thrift"
STUBS = REPO / "mocks"  # the whole folder, as the demo serves it: the other stub files are optional
GEN_PACKAGE = "tb_thrifttest_gen"  # the generated `ThriftTest` package, renamed so it cannot shadow anything

PROTOCOLS: dict[str, Callable[[Any], Any]] = {
    "binary": TBinaryProtocol.TBinaryProtocol,
    "compact": TCompactProtocol.TCompactProtocol,
    "json": TJSONProtocol.TJSONProtocol,
}
# variant id -> (protocol, transport, multiplexed): the pairs TestClient's matrix is made of
VARIANTS = {
    "binary-buffered": ("binary", "buffered", False),
    "compact-framed": ("compact", "framed", False),
    "json-buffered": ("json", "buffered", False),
    "json-http": ("json", "http", False),
    "multi-binary-buffered": ("binary", "buffered", True),
    "multi-json-http": ("json", "http", True),
}
MULTIPLEXED = [v for v, (_, _, multi) in VARIANTS.items() if multi]

UNICODE = '\b\t\n/\\\\\r{}:パイソン"'
LANGUAGES = (
    "Afrikaans, Alemannisch, Aragonés, العربية, مصرى, Беларуская, বাংলা, 贛語, ગુજરાતી, 日本語, ไทย, 粵語"
)


# -- the served ThriftTest, Apache's generated code, and clients ---------------------------------------


@pytest.fixture(scope="module")
def served(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``thriftbox serve idl --mocks mocks/`` on a folder holding the v0.16 ThriftTest IDL."""
    root = tmp_path_factory.mktemp("thrifttest")
    (root / "idl").mkdir()
    shutil.copy(corpus / IDL, root / "idl")
    with serve(root, ["idl"], "--mocks", str(STUBS)) as s:
        yield s
        assert s.proc.poll() is None, f"serve died during the calls:\n{s.output()}"


@pytest.fixture(scope="module")
def tt(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Apache's generated package for ThriftTest.thrift: ``tt.ttypes``, ``tt.ThriftTest``, ``tt.SecondService``."""
    out = tmp_path_factory.mktemp("gen")
    subprocess.run(
        ["thrift", "--gen", "py", "-out", str(out), str(corpus / IDL)], check=True, capture_output=True
    )
    (out / "ThriftTest").rename(out / GEN_PACKAGE)  # the generated modules import each other relatively
    sys.path.insert(0, str(out))
    try:
        gen = importlib.import_module(GEN_PACKAGE)
        for sub in ("ttypes", "ThriftTest", "SecondService"):
            setattr(gen, sub, importlib.import_module(f"{GEN_PACKAGE}.{sub}"))
    finally:
        sys.path.remove(str(out))
    return gen


class Seqids:
    """Numbers the calls of one connection and checks every reply against the latest call."""

    def __init__(self) -> None:
        self._next = itertools.count(1)
        self.last = 0

    def issue(self) -> int:
        self.last = next(self._next)
        return self.last

    def check(self, name: str, seqid: int) -> None:
        assert seqid == self.last, f"{name}: sent seqid {self.last}, the reply carries {seqid}"


class Pedantic:
    """A protocol that sends its own sequence ids and refuses a reply that does not echo one."""

    def __init__(self, inner: Any, seqids: Seqids) -> None:
        self._inner = inner
        self._seqids = seqids

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def writeMessageBegin(self, name: str, mtype: int, seqid: int) -> None:
        self._inner.writeMessageBegin(name, mtype, self._seqids.issue())

    def readMessageBegin(self) -> tuple[str, int, int]:
        name, mtype, seqid = self._inner.readMessageBegin()
        self._seqids.check(name, seqid)
        return name, mtype, seqid


@dataclass
class Clients:
    test: Any  # ThriftTest.Client
    second: Any  # SecondService.Client, multiplexed over the same connection (None otherwise)
    transport: Any


def open_transport(port: int, transport: str) -> Any:
    if transport == "http":
        trans = THttpClient.THttpClient(f"http://127.0.0.1:{port}/")
    else:
        sock = TSocket.TSocket("127.0.0.1", port)
        trans = (
            TTransport.TFramedTransport(sock)
            if transport == "framed"
            else TTransport.TBufferedTransport(sock)
        )
    trans.open()
    return trans


def connect(tt: Any, port: int, protocol: str, transport: str, multiplexed: bool) -> Clients:
    trans = open_transport(port, transport)
    seqids = Seqids()

    def proto(service: str | None) -> Any:
        p = Pedantic(PROTOCOLS[protocol](trans), seqids)
        return TMultiplexedProtocol(p, service) if service else p

    if not multiplexed:
        return Clients(tt.ThriftTest.Client(proto(None)), None, trans)
    return Clients(
        tt.ThriftTest.Client(proto("ThriftTest")), tt.SecondService.Client(proto("SecondService")), trans
    )


@pytest.fixture(params=list(VARIANTS))
def clients(request: pytest.FixtureRequest, served: Served, tt: Any) -> Iterator[Clients]:
    protocol, transport, multiplexed = VARIANTS[request.param]
    c = connect(tt, served.port("ThriftTest.ThriftTest"), protocol, transport, multiplexed)
    yield c
    c.transport.close()


@pytest.fixture
def client(clients: Clients) -> Any:
    return clients.test


# -- what TestClient checks ----------------------------------------------------------------------------

ECHOES: list[tuple[str, Callable[[Any], Any]]] = [
    ("testString", lambda t: "Python" * 20),
    ("testString", lambda t: ""),
    ("testString", lambda t: UNICODE),
    ("testString", lambda t: LANGUAGES),
    ("testBool", lambda t: True),
    ("testBool", lambda t: False),
    ("testByte", lambda t: 63),
    ("testByte", lambda t: -127),
    ("testI32", lambda t: -1),
    ("testI32", lambda t: 0),
    ("testI64", lambda t: 1),
    ("testI64", lambda t: -34359738368),
    ("testDouble", lambda t: -5.235098235),
    ("testDouble", lambda t: -0.000341012439638598279),
    ("testBinary", lambda t: bytes(range(256))),
    ("testStruct", lambda t: t.ttypes.Xtruct("Zero", 1, -3, -5)),
    ("testNest", lambda t: t.ttypes.Xtruct2(0, t.ttypes.Xtruct("Zero", 1, -3, -5), 0)),
    ("testMap", lambda t: {0: 1, 1: 2, 2: 3, 3: 4, -1: -2}),
    ("testStringMap", lambda t: {"a": "2", "b": "blah", "some": "thing"}),
    ("testSet", lambda t: {8, 1, 42}),
    ("testList", lambda t: [1, 4, 9, -42]),
    ("testEnum", lambda t: t.ttypes.Numberz.FIVE),
    ("testTypedef", lambda t: 0xFFFFFFFFFFFFFF),
]


@pytest.mark.parametrize(("method", "value"), ECHOES, ids=[f"{m}-{i}" for i, (m, _) in enumerate(ECHOES)])
def test_echo_methods_return_their_argument(
    client: Any, tt: Any, method: str, value: Callable[[Any], Any]
) -> None:
    thing = value(tt)
    assert getattr(client, method)(thing) == thing


def test_void_answers(client: Any) -> None:
    assert client.testVoid() is None
    assert client.testString("after void") == "after void"


def test_map_map_is_the_fixed_map(client: Any) -> None:
    assert client.testMapMap(42) == {-4: {-4: -4, -3: -3, -2: -2, -1: -1}, 4: {4: 4, 3: 3, 2: 2, 1: 1}}


def test_insanity(client: Any, tt: Any) -> None:
    t = tt.ttypes
    argument = t.Insanity(
        userMap={t.Numberz.FIVE: 5, t.Numberz.EIGHT: 8},
        xtructs=[t.Xtruct("Goodbye4", 4, 4, 4), t.Xtruct("Hello2", 2, 2, 2)],
    )
    assert client.testInsanity(argument) == {
        1: {t.Numberz.TWO: argument, t.Numberz.THREE: argument},
        2: {t.Numberz.SIX: t.Insanity()},
    }


def test_multi_builds_hello2_from_its_arguments(client: Any, tt: Any) -> None:
    t = tt.ttypes
    got = client.testMulti(74, 0xFF00FF, 0xFFFFFFFFD0D0, {0: "abc"}, t.Numberz.FIVE, 0xF0F0F0)
    assert got == t.Xtruct("Hello2", 74, 0xFF00FF, 0xFFFFFFFFD0D0)


def test_exception_xception(client: Any, tt: Any) -> None:
    with pytest.raises(tt.ttypes.Xception) as raised:
        client.testException("Xception")
    assert (raised.value.errorCode, raised.value.message) == (1001, "Xception")
    assert client.testException("Safe") is None  # the connection is still usable


def test_exception_texception_is_an_application_error(client: Any) -> None:
    with pytest.raises(TApplicationException) as raised:
        client.testException("TException")
    assert raised.value.type == TApplicationException.INTERNAL_ERROR
    assert client.testString("after") == "after"  # the connection survives the error reply


@pytest.mark.parametrize("arg", ["success", "Safe"])
def test_exception_other_arguments_succeed(client: Any, arg: str) -> None:
    assert client.testException(arg) is None


def test_multi_exception_xception(client: Any, tt: Any) -> None:
    with pytest.raises(tt.ttypes.Xception) as raised:
        client.testMultiException("Xception", "ignore")
    assert (raised.value.errorCode, raised.value.message) == (1001, "This is an Xception")


def test_multi_exception_xception2(client: Any, tt: Any) -> None:
    with pytest.raises(tt.ttypes.Xception2) as raised:
        client.testMultiException("Xception2", "ignore")
    assert raised.value.errorCode == 2002
    assert raised.value.struct_thing.string_thing == "This is an Xception2"


def test_multi_exception_success_echoes_arg1(client: Any, tt: Any) -> None:
    assert client.testMultiException("success", "foobar") == tt.ttypes.Xtruct(string_thing="foobar")


def test_oneway_returns_at_once_and_the_connection_stays_usable(client: Any) -> None:
    start = time.monotonic()
    client.testOneway(1)  # Apache's server sleeps a third of this; the client must not wait for it
    assert time.monotonic() - start < 1.0
    # a stray reply to the oneway call would be read here instead, with the oneway's seqid
    assert client.testString("Python") == "Python"
    assert client.testI32(7) == 7


# -- SecondService: multiplexed on ThriftTest's port, and on its own ---------------------------------


@pytest.mark.parametrize("clients", MULTIPLEXED, indirect=True)
def test_multiplexed_second_service_on_thrifttest_port(clients: Clients) -> None:
    assert clients.second.secondtestString("foobar") == 'testString("foobar")'
    assert clients.test.testString("between") == "between"  # both services share the connection
    assert clients.second.secondtestString("again") == 'testString("again")'


@pytest.mark.parametrize("transport", ["buffered", "http"])
def test_multiplexed_unknown_service_is_unknown_method(served: Served, tt: Any, transport: str) -> None:
    trans = open_transport(served.port("ThriftTest.ThriftTest"), transport)
    try:
        seqids = Seqids()
        stranger = tt.SecondService.Client(
            TMultiplexedProtocol(Pedantic(TBinaryProtocol.TBinaryProtocol(trans), seqids), "NoSuchService")
        )
        with pytest.raises(TApplicationException) as raised:
            stranger.secondtestString("x")
        assert raised.value.type == TApplicationException.UNKNOWN_METHOD
        assert "NoSuchService:secondtestString" in str(raised.value.message)
        test = tt.ThriftTest.Client(
            TMultiplexedProtocol(Pedantic(TBinaryProtocol.TBinaryProtocol(trans), seqids), "ThriftTest")
        )
        assert test.testString("still here") == "still here"
    finally:
        trans.close()


def test_thrifttest_multiplexed_on_second_service_port(served: Served, tt: Any) -> None:
    c = connect(tt, served.port("ThriftTest.SecondService"), "compact", "framed", multiplexed=True)
    try:
        assert c.test.testI64(-34359738368) == -34359738368
        assert c.second.secondtestString("x") == 'testString("x")'
    finally:
        c.transport.close()


@pytest.mark.parametrize(("protocol", "transport"), [("binary", "buffered"), ("json", "http")])
def test_second_service_on_its_own_port(served: Served, tt: Any, protocol: str, transport: str) -> None:
    trans = open_transport(served.port("ThriftTest.SecondService"), transport)
    try:
        second = tt.SecondService.Client(Pedantic(PROTOCOLS[protocol](trans), Seqids()))
        assert second.secondtestString("foobar") == 'testString("foobar")'
    finally:
        trans.close()


# -- THeader and zlib, which Apache's TestClient selects with --protocol=header and --zlib ------------------


def _header_client(tt: Any, sock: Any) -> tuple[Any, Any]:
    trans = TTransport.TBufferedTransport(sock)
    return tt.ThriftTest.Client(THeaderProtocol.THeaderProtocolFactory().getProtocol(trans)), trans


def _zlib_client(tt: Any, sock: Any) -> tuple[Any, Any]:
    trans = TZlibTransport.TZlibTransport(TTransport.TFramedTransport(sock), 9)
    return tt.ThriftTest.Client(TBinaryProtocol.TBinaryProtocol(trans)), trans


@pytest.mark.parametrize("make", [_header_client, _zlib_client], ids=["header", "zlib-framed"])
def test_header_and_zlib_clients(served: Served, tt: Any, make: Callable[..., Any]) -> None:
    sock = TSocket.TSocket("127.0.0.1", served.port("ThriftTest.ThriftTest"))
    sock.setTimeout(5000)
    client, trans = make(tt, sock)
    trans.open()
    try:
        assert client.testString("x") == "x"
        assert client.testI32(-7) == -7
    finally:
        trans.close()
