"""TLS on a mock port beside plaintext: Apache's ``TSSLSocket`` and thriftpy2's, every protocol and framing,
THeader, zlib and multiplexing inside TLS, client certificates, and what a broken handshake closes."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from thrift.protocol import TBinaryProtocol, TCompactProtocol, TJSONProtocol
from thrift.protocol.THeaderProtocol import THeaderProtocol
from thrift.protocol.TMultiplexedProtocol import TMultiplexedProtocol
from thrift.transport import THttpClient, TSocket, TSSLSocket, TTransport
from thrift.transport.THeaderTransport import THeaderClientType, THeaderSubprotocolID
from thrift.transport.TZlibTransport import TZlibTransport

from tests.tls_support import Pki, make_pki
from tests.wire.apache import generate
from tests.wire.test_support import WIRE_IDL, EchoApp, RawClient, binary_call, load_client_module
from thriftbox.errors import ConfigError
from thriftbox.wire import ServerThread, ThriftServer
from thriftbox.wire.tls import server_context

tp = load_client_module()

PROTOCOLS = {
    "binary": TBinaryProtocol.TBinaryProtocol,
    "compact": TCompactProtocol.TCompactProtocol,
    "json": TJSONProtocol.TJSONProtocol,
}


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def thread() -> Iterator[ServerThread]:
    with ServerThread() as t:
        yield t


@pytest.fixture(scope="module")
def served(thread: ServerThread, pki: Pki) -> tuple[ThriftServer, EchoApp]:
    app = EchoApp()
    return thread.serve(app, tls=server_context(pki.server, pki.server_key)), app


@pytest.fixture(scope="module")
def mutual(thread: ServerThread, pki: Pki) -> tuple[ThriftServer, EchoApp]:
    """A server that requires client certificates signed by the test CA."""
    app = EchoApp()
    return thread.serve(app, tls=server_context(pki.server, pki.server_key, pki.ca), idle_timeout=2.0), app


@pytest.fixture(scope="module")
def gen(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return generate(tmp_path_factory.mktemp("tls-gen"), WIRE_IDL, "tbwire_gen", ("Echo", "Second", "ttypes"))


def apache_tls(port: int, pki: Pki, *, cert: bool = False, stranger: bool = False) -> Any:
    """Apache's TSSLSocket checking the server against the test CA (and its host name), as a user sets it up."""
    kwargs: dict[str, Any] = {"ca_certs": str(pki.ca), "cert_reqs": ssl.CERT_REQUIRED}
    if cert:
        kwargs.update(certfile=str(pki.client), keyfile=str(pki.client_key))
    if stranger:
        kwargs.update(certfile=str(pki.stranger), keyfile=str(pki.stranger_key))
    sock = TSSLSocket.TSSLSocket("localhost", port, **kwargs)
    sock.setTimeout(5000)
    return sock


def wrap(sock: Any, framing: str) -> Any:
    return TTransport.TFramedTransport(sock) if framing == "framed" else TTransport.TBufferedTransport(sock)


@pytest.mark.parametrize("framing", ["buffered", "framed"])
@pytest.mark.parametrize("protocol", ["binary", "compact", "json"])
def test_apache_tls_clients(
    served: tuple[ThriftServer, EchoApp], gen: Any, pki: Pki, protocol: str, framing: str
) -> None:
    """Apache TestClient's ``--ssl``: TSSLSocket under every protocol and framing, on the plaintext port."""
    server, app = served
    trans = wrap(apache_tls(server.port, pki), framing)
    trans.open()
    try:
        client = gen.Echo.Client(PROTOCOLS[protocol](trans))
        bag = gen.ttypes.Bag(text="secret " * 3000, data=bytes(range(256)) * 64, nums=list(range(500)))
        assert client.echo(bag) == bag  # larger than one TLS record (16 KiB) both ways
        assert (app.calls[-1].protocol, app.calls[-1].framing) == (protocol, framing)
        assert app.calls[-1].tls == "TLSv1.3"
        assert client.getPoint(7, "abc") == gen.ttypes.Point(x=7, y=3, label="v1")
        with pytest.raises(gen.ttypes.NotFound):
            client.fail("nf")
        client.fire(777)  # oneway: no reply; the next call must still line up
        assert client.fail("after") == "ok:after"
        assert 777 in app.fired
    finally:
        trans.close()


@pytest.mark.parametrize("protocol", ["binary", "json"])
def test_apache_https_client(served: tuple[ThriftServer, EchoApp], gen: Any, pki: Pki, protocol: str) -> None:
    """Apache's THttpClient with an https:// URL: the HTTP transport inside TLS, keep-alive across calls."""
    server, app = served
    context = ssl.create_default_context(cafile=str(pki.ca))  # (its cafile= alone wants a client certificate)
    trans = THttpClient.THttpClient(f"https://localhost:{server.port}/", ssl_context=context)
    trans.open()
    try:
        client = gen.Echo.Client(PROTOCOLS[protocol](trans))
        for n in range(3):
            assert client.getPoint(n, "https").x == n
        assert (app.calls[-1].framing, app.calls[-1].protocol, app.calls[-1].tls) == (
            "http",
            protocol,
            "TLSv1.3",
        )
    finally:
        trans.close()


def test_thriftpy2_tls_client(served: tuple[ThriftServer, EchoApp], pki: Pki) -> None:
    """thriftpy2's own TSSLSocket, framed and buffered."""
    from thriftpy2.rpc import make_client
    from thriftpy2.transport import TBufferedTransportFactory, TFramedTransportFactory

    server, app = served
    for factory, framing in (
        (TBufferedTransportFactory(), "buffered"),
        (TFramedTransportFactory(), "framed"),
    ):
        client = make_client(
            tp.Echo, "localhost", server.port, cafile=str(pki.ca), trans_factory=factory, timeout=5000
        )
        try:
            assert client.getPoint(id=11, hint="tls") == tp.Point(x=11, y=3, label="v1")
            assert app.calls[-1].framing == framing
        finally:
            client.close()


def test_header_zlib_and_multiplexed_inside_tls(
    served: tuple[ThriftServer, EchoApp], gen: Any, pki: Pki
) -> None:
    server, app = served
    trans = wrap(apache_tls(server.port, pki), "framed")
    proto = THeaderProtocol(trans, [THeaderClientType.HEADERS], THeaderSubprotocolID.COMPACT)
    trans.open()
    try:
        echo = gen.Echo.Client(TMultiplexedProtocol(proto, "Echo"))
        second = gen.Second.Client(TMultiplexedProtocol(proto, "Second"))
        proto.set_header(b"request-id", b"tls-1")
        assert echo.getPoint(3, "abcd").y == 4
        assert (app.calls[-1].framing, app.calls[-1].protocol) == ("header", "compact")
        assert app.calls[-1].context is not None
        assert app.calls[-1].context.headers == {"request-id": "tls-1"}
        assert second.secondEcho("foobar") == "second:foobar"
    finally:
        trans.close()
    ztrans = TZlibTransport(TTransport.TBufferedTransport(apache_tls(server.port, pki)), 9)
    ztrans.open()
    try:
        client = gen.Echo.Client(TBinaryProtocol.TBinaryProtocol(ztrans))
        assert client.getPoint(5, "xy").y == 2
        assert app.calls[-1].framing == "zlib"
    finally:
        ztrans.close()


def test_plaintext_and_tls_at_the_same_time(served: tuple[ThriftServer, EchoApp], gen: Any, pki: Pki) -> None:
    """A TLS and a plaintext connection open side by side on one port, calls interleaved; many at once too."""
    server, app = served
    secure = wrap(apache_tls(server.port, pki), "framed")
    plain_sock = TSocket.TSocket("127.0.0.1", server.port)
    plain_sock.setTimeout(5000)
    plain = TTransport.TBufferedTransport(plain_sock)
    secure.open()
    plain.open()
    try:
        a = gen.Echo.Client(TBinaryProtocol.TBinaryProtocol(secure))
        b = gen.Echo.Client(TBinaryProtocol.TBinaryProtocol(plain))
        for n in range(5):
            assert a.getPoint(n, "tls").x == n
            assert app.calls[-1].tls == "TLSv1.3"
            assert b.getPoint(n + 100, "plain").x == n + 100
            assert app.calls[-1].tls is None
    finally:
        secure.close()
        plain.close()
    errors: list[BaseException] = []

    def one(n: int) -> None:
        try:
            trans = wrap(
                apache_tls(server.port, pki) if n % 2 else TSocket.TSocket("127.0.0.1", server.port), "framed"
            )
            trans.open()
            try:
                assert gen.Echo.Client(TBinaryProtocol.TBinaryProtocol(trans)).getPoint(n, "x").x == n
            finally:
                trans.close()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert errors == []


def test_client_certificates(
    mutual: tuple[ThriftServer, EchoApp], gen: Any, pki: Pki, caplog: pytest.LogCaptureFixture
) -> None:
    """With a client CA: a client with a certificate it signed is served; one without, or with a stranger's,
    is refused in the handshake, one warning each, and the server keeps serving."""
    server, _ = mutual
    trans = wrap(apache_tls(server.port, pki, cert=True), "framed")
    trans.open()
    try:
        assert gen.Echo.Client(TBinaryProtocol.TBinaryProtocol(trans)).getPoint(1, "m").x == 1
    finally:
        trans.close()
    for kwargs in ({}, {"stranger": True}):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="thriftbox.wire"):
            trans = wrap(apache_tls(server.port, pki, **kwargs), "framed")

            with pytest.raises((TTransport.TTransportException, ssl.SSLError, OSError)):
                _open_and_call(trans, gen)
            trans.close()
            _wait_for(lambda: any("TLS handshake failed" in r.getMessage() for r in caplog.records))
        refusals = [r.getMessage() for r in caplog.records if "TLS handshake failed" in r.getMessage()]
        assert len(refusals) == 1, refusals
        assert "CERTIFICATE" in refusals[0].upper()
    with RawClient(
        server.port
    ) as raw:  # plaintext still answers on a port that requires certificates for TLS
        raw.send(binary_call("getPoint", tp.Echo.getPoint_args(id=9, hint="p")))
        assert raw.reply(tp.Echo.getPoint_result)[3].success.x == 9


def test_garbage_after_a_client_hello_closes_only_that_connection(
    served: tuple[ThriftServer, EchoApp], gen: Any, pki: Pki, caplog: pytest.LogCaptureFixture
) -> None:
    server, _ = served
    keep = wrap(apache_tls(server.port, pki), "buffered")
    keep.open()
    try:
        client = gen.Echo.Client(TBinaryProtocol.TBinaryProtocol(keep))
        assert client.getPoint(1, "before").x == 1
        with caplog.at_level(logging.WARNING, logger="thriftbox.wire"):
            with socket.create_connection(("127.0.0.1", server.port), timeout=5) as bad:
                bad.sendall(b"\x16\x03\x01\x00\x20" + b"\xee" * 200)  # a handshake record of nonsense
                assert _closed(bad)
            # a real handshake, then a record of garbage
            ctx = ssl.create_default_context(cafile=str(pki.ca))
            raw = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
                with socket.socket(fileno=os.dup(tls.fileno())) as under:  # the TCP socket beneath
                    under.sendall(b"\x17\x03\x03\x00\x40" + b"\x00" * 64)  # a record that does not decrypt
                with contextlib.suppress(ssl.SSLError, OSError):  # an alert, or the end of the connection
                    while tls.recv(100):
                        pass
            _wait_for(lambda: any("TLS error" in r.getMessage() for r in caplog.records))
        warnings = [r.getMessage() for r in caplog.records]
        assert any("TLS handshake failed" in w for w in warnings), warnings
        assert any("TLS error" in w for w in warnings), warnings
        assert client.getPoint(2, "after").x == 2
    finally:
        keep.close()


def test_a_stalled_handshake_is_closed(mutual: tuple[ThriftServer, EchoApp]) -> None:
    server, _ = mutual  # idle timeout 2 s
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"\x16\x03\x01\x02\x00\x01")  # the start of a ClientHello, then nothing
        assert _closed(sock, 8.0)


def test_bad_certificate_files_are_config_errors(pki: Pki, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        server_context(tmp_path / "missing.pem", pki.server_key)
    with pytest.raises(ConfigError, match="cannot use it as the TLS certificate") as caught:
        server_context(pki.server, pki.client_key)  # not its key
    assert caught.value.hint
    not_pem = tmp_path / "not.pem"
    not_pem.write_text("hello\n")
    with pytest.raises(ConfigError, match="client CA"):
        server_context(pki.server, pki.server_key, not_pem)


def _open_and_call(trans: Any, gen: Any) -> None:
    trans.open()  # TLS 1.3: the client may finish its handshake first and learn of the refusal on a read
    gen.Echo.Client(TBinaryProtocol.TBinaryProtocol(trans)).getPoint(2, "m")


def _closed(sock: socket.socket, timeout: float = 3.0) -> bool:
    sock.settimeout(timeout)
    try:
        while sock.recv(65536):
            pass
    except (ConnectionResetError, BrokenPipeError):
        return True
    except TimeoutError:
        return False
    return True


def _wait_for(cond: Any, timeout: float = 5.0) -> None:
    import time

    end = time.monotonic() + timeout
    while not cond() and time.monotonic() < end:
        time.sleep(0.02)
