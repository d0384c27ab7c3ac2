"""The pytest plugin with ``thriftbox_tls_*`` ini keys: the mocks speak TLS (here requiring client certificates)
and the fixture's clients use it, run by pytest itself in a subprocess against mocks on real ports."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pytest.test_plugin import project, run
from tests.tls_support import make_pki

pytest_plugins = ["pytester"]


def test_the_fixture_serves_and_speaks_mutual_tls(pytester: pytest.Pytester, tmp_path: Path) -> None:
    pki = make_pki(tmp_path / "pki")
    project(
        pytester,
        thriftbox_tls_cert=str(pki.server),
        thriftbox_tls_key=str(pki.server_key),
        thriftbox_tls_client_ca=str(pki.ca),
        thriftbox_tls_client_cert=str(pki.client),
        thriftbox_tls_client_key=str(pki.client_key),
    )
    pytester.makepyfile(
        test_tls=f"""
        import socket, ssl
        import pytest

        def sock_of(client):
            return client._oprot.trans.sock  # thriftpy2: protocol -> transport -> its socket

        def test_clients_speak_tls(thriftbox):
            client = thriftbox.client("Users")
            assert client.getUser(42).id == 42
            tls = sock_of(client)
            assert isinstance(tls, ssl.SSLSocket)
            assert tls.version() in ("TLSv1.2", "TLSv1.3")
            assert [c.method for c in thriftbox.calls("Users")] == ["getUser"]

        def test_plaintext_on_the_same_port(thriftbox):
            client = thriftbox.client("Users", tls=False)
            assert client.getUser(7).id == 7
            assert not isinstance(sock_of(client), ssl.SSLSocket)

        def test_a_client_without_certificate_is_refused(thriftbox):
            host, port = thriftbox.address("Users")
            ctx = ssl.create_default_context(cafile={str(pki.ca)!r})
            with socket.create_connection((host, port), timeout=10) as raw:
                with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
                    with pytest.raises(ssl.SSLError, match="CERTIFICATE_REQUIRED"):
                        tls.sendall(b"\\x80\\x01\\x00\\x01")
                        tls.recv(10)  # TLS 1.3: the refusal arrives on the first read
        """
    )
    result = run(pytester, "-v")
    result.assert_outcomes(passed=3)
