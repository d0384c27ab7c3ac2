"""Real clients against ONE port: thriftpy2's and Apache's, every protocol and transport they offer."""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import thriftpy2.http
from thriftpy2.protocol import (
    TBinaryProtocolFactory,
    TCompactProtocolFactory,
    TCyBinaryProtocolFactory,
)
from thriftpy2.rpc import make_client
from thriftpy2.transport import TBufferedTransportFactory, TFramedTransportFactory

from tests.wire.test_support import WIRE_IDL, EchoApp, ResettingApacheJSONProtocolFactory, load_client_module
from thriftbox.wire import ServerThread, ThriftServer

tp = load_client_module()


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[ThriftServer, EchoApp]]:
    app = EchoApp()
    with ServerThread() as thread:
        yield thread.serve(app), app


def tp_bag() -> Any:
    return tp.Bag(
        flag=True,
        b=-7,
        s=-300,
        i=2**31 - 1,
        l=-(2**62),
        d=3.25,
        text='héllo ✓ "quoted" \\ パイソン',
        data=bytes(range(256)),
        nums=[1, -2, 3],
        tags=["a", "b"],
        points={"p": tp.Point(x=1, y=2, label="x")},
        color=tp.Color.GREEN,
        path=[tp.Point(x=3, y=4), tp.Point(x=5, y=6, label="z")],
    )


TP_PROTOCOLS = {
    "binary": TBinaryProtocolFactory(),
    "binary-nonstrict": TBinaryProtocolFactory(strict_write=False, strict_read=False),
    "cybinary": TCyBinaryProtocolFactory(),
    "compact": TCompactProtocolFactory(),
    "json": ResettingApacheJSONProtocolFactory(),
}
TP_TRANSPORTS = {"buffered": TBufferedTransportFactory(), "framed": TFramedTransportFactory()}


@pytest.mark.parametrize("transport", list(TP_TRANSPORTS))
@pytest.mark.parametrize("protocol", list(TP_PROTOCOLS))
def test_thriftpy2_clients(served: tuple[ThriftServer, EchoApp], protocol: str, transport: str) -> None:
    server, app = served
    client = make_client(
        tp.Echo,
        "127.0.0.1",
        server.port,
        proto_factory=TP_PROTOCOLS[protocol],
        trans_factory=TP_TRANSPORTS[transport],
        timeout=5000,
    )
    try:
        bag = tp_bag()
        assert client.echo(bag) == bag
        assert client.getPoint(41, "four") == tp.Point(x=41, y=4, label="v1")
        assert client.ping() is None
        with pytest.raises(tp.NotFound) as caught:
            client.fail("nf")
        assert (caught.value.what, caught.value.code) == ("thing", 404)
        assert client.fail("fine") == "ok:fine"
    finally:
        client.close()
    seen = {(c.protocol, c.framing) for c in app.calls}
    assert (protocol.split("-")[0].replace("cy", ""), transport) in seen


@pytest.mark.parametrize("protocol", ["binary", "compact", "json"])
def test_thriftpy2_http_client(served: tuple[ThriftServer, EchoApp], protocol: str) -> None:
    factories = {
        "binary": TBinaryProtocolFactory(),
        "compact": TCompactProtocolFactory(),
        "json": ResettingApacheJSONProtocolFactory(),
    }
    server, _ = served
    client = thriftpy2.http.make_client(
        tp.Echo,
        "127.0.0.1",
        server.port,
        path="/any/path",
        proto_factory=factories[protocol],
        keep_alive=True,
    )
    try:
        bag = tp_bag()
        assert client.echo(bag) == bag
        assert client.getPoint(5, "") == tp.Point(x=5, y=0, label="v1")
    finally:
        client.close()


# -- Apache's Python library, with code from Apache's compiler ---------------------------------------


@pytest.fixture(scope="module")
def apache(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The generated ``tbwire_gen`` package (Echo, Second, ttypes)."""
    compiler = shutil.which("thrift")
    if compiler is None:
        pytest.skip("Apache's thrift compiler is not installed")
    out = tmp_path_factory.mktemp("apache-gen")
    idl = out / "wiretest.thrift"
    idl.write_text(WIRE_IDL)
    subprocess.run([compiler, "--gen", "py", "-out", str(out), str(idl)], check=True, capture_output=True)
    sys.path.insert(0, str(out))
    try:
        gen = importlib.import_module("tbwire_gen")
        for sub in ("Echo", "Second", "ttypes"):
            setattr(gen, sub, importlib.import_module(f"tbwire_gen.{sub}"))
    finally:
        sys.path.remove(str(out))
    return gen


def apache_client(
    gen: Any, port: int, protocol: str, transport: str, service: str = "Echo", multiplex: bool = False
) -> Any:
    from thrift.protocol import TBinaryProtocol, TCompactProtocol, TJSONProtocol, TMultiplexedProtocol
    from thrift.transport import THttpClient, TSocket, TTransport

    if transport == "http":
        trans: Any = THttpClient.THttpClient(f"http://127.0.0.1:{port}/")
    else:
        sock = TSocket.TSocket("127.0.0.1", port)
        sock.setTimeout(5000)
        trans = (
            TTransport.TFramedTransport(sock)
            if transport == "framed"
            else TTransport.TBufferedTransport(sock)
        )
    proto: Any = {
        "binary": lambda t: TBinaryProtocol.TBinaryProtocol(t),
        "accel": lambda t: TBinaryProtocol.TBinaryProtocolAccelerated(t, fallback=False),
        "compact": lambda t: TCompactProtocol.TCompactProtocol(t),
        "json": lambda t: TJSONProtocol.TJSONProtocol(t),
    }[protocol](trans)
    if multiplex:
        proto = TMultiplexedProtocol.TMultiplexedProtocol(proto, service)
    trans.open()
    return getattr(gen, service).Client(proto), trans


def apache_bag(gen: Any) -> Any:
    t = gen.ttypes
    return t.Bag(
        flag=False,
        b=127,
        s=32767,
        i=-(2**31),
        l=2**63 - 1,
        d=-0.5,
        text='\b\t\n/\\\\\r{}:パイソン"',
        data=bytes(range(255, -1, -1)),
        nums=[],
        tags={"x", "y", "z"},
        points={"a": t.Point(x=-1, y=-2), "b": t.Point(x=0, y=0, label="")},
        color=t.Color.RED,
        path=[t.Point(x=9, y=9, label="end")],
    )


@pytest.mark.parametrize("transport", ["buffered", "framed", "http"])
@pytest.mark.parametrize("protocol", ["binary", "accel", "compact", "json"])
def test_apache_clients(
    served: tuple[ThriftServer, EchoApp], apache: Any, protocol: str, transport: str
) -> None:
    server, app = served
    client, trans = apache_client(apache, server.port, protocol, transport)
    try:
        bag = apache_bag(apache)
        assert client.echo(bag) == bag
        assert client.getPoint(-(2**31), "xy") == apache.ttypes.Point(x=-(2**31), y=2, label="v1")
        assert client.ping() is None
        with pytest.raises(apache.ttypes.NotFound) as caught:
            client.fail("nf")
        assert (caught.value.what, caught.value.code) == ("thing", 404)
        client.fire(12345)  # oneway: no reply is read; the next call must still line up
        assert client.fail("after-oneway") == "ok:after-oneway"
        assert 12345 in app.fired
    finally:
        trans.close()


@pytest.mark.parametrize("transport", ["buffered", "framed", "http"])
@pytest.mark.parametrize("protocol", ["binary", "compact", "json"])
def test_apache_multiplexed_clients(
    served: tuple[ThriftServer, EchoApp], apache: Any, protocol: str, transport: str
) -> None:
    """TMultiplexedProtocol: 'Echo:getPoint' and 'Second:secondEcho' on the same port, as Apache's
    TestClient does with ThriftTest and SecondService."""
    server, app = served
    echo, t1 = apache_client(apache, server.port, protocol, transport, "Echo", multiplex=True)
    second, t2 = apache_client(apache, server.port, protocol, transport, "Second", multiplex=True)
    try:
        assert echo.getPoint(3, "abc").x == 3
        assert second.secondEcho("foobar") == "second:foobar"
        assert app.calls[-1].service == "Second"
        assert app.calls[-2].service == "Echo"
    finally:
        t1.close()
        t2.close()
