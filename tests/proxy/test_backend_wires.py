"""The backend spoken to in THeader and over TLS (proxy_framing = "header", proxy_tls, proxy_ca, proxy_cert):
a real provider (Apache's Python thrift: THeaderProtocol, TSSLServerSocket) behind the mock, Apache clients in
binary and compact in front of it, a recording written on the way; and each way TLS to a backend fails."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from tests.proxy.support import SID, apache, client, journal, project, provider
from tests.proxy.test_failures import call_fails
from tests.serve_support import cli_env, free_base_port, serve, thriftbox_cmd
from tests.tls_support import Pki, make_pki


def certs(root: Path, pki: Pki) -> None:
    """The PEM files beside thriftbox.toml, as a team would keep them (paths in the file are relative)."""
    (root / "certs").mkdir()
    for f in (pki.ca, pki.client, pki.client_key, pki.other_ca):
        shutil.copy(f, root / "certs" / f.name)


@pytest.mark.parametrize(
    ("protocol", "framing", "tls"),
    [
        ("binary", "header", ""),
        ("compact", "header", "tls"),
        ("binary", "buffered", "tls"),
        ("compact", "framed", "mtls"),
    ],
)
def test_the_backend_is_spoken_to_as_told_and_clients_get_its_answers(
    tmp_path: Path, protocol: str, framing: str, tls: str
) -> None:
    gen = apache(tmp_path)
    pki = make_pki(tmp_path / "pki")
    root = project(tmp_path / "p")
    certs(root, pki)
    served_by = (pki.server, pki.server_key) + ((pki.ca,) if tls == "mtls" else ()) if tls else ()
    keys = f'proxy_protocol = "{protocol}"\nproxy_framing = "{framing}"\n'
    if tls:
        keys += f'proxy_ca = "certs/{pki.ca.name}"\n'  # verified: the certificate names 127.0.0.1
    if tls == "mtls":
        keys += f'proxy_cert = "certs/{pki.client.name}"\nproxy_key = "certs/{pki.client_key.name}"\n'
    with provider(tmp_path, protocol, framing, served_by) as backend:
        (root / "thriftbox.toml").write_text(
            f'[services."{SID}"]\nproxy = "127.0.0.1:{backend}"\nrecord = true\n{keys}'
        )
        with serve(root, ["idl"], "--mocks", "mocks") as served:
            for client_protocol, client_framing in (("binary", "buffered"), ("compact", "framed")):
                with client(gen, served.port(SID), client_protocol, client_framing) as people:
                    person = people.getPerson(5)
                    assert person == gen.ttypes.Person(
                        id=5, name="person-5", email="p5@example.org", apiToken="tok-5"
                    )
                    assert people.add(40, 2) == 42
                    assert people.greet("ana", 2) == ["hello ana #0", "hello ana #1"]
                    with pytest.raises(gen.ttypes.NotFound) as missing:
                        people.getPerson(14)
                    assert missing.value == gen.ttypes.NotFound(message="no person 14", id=14)
            proxied = [e["proxied"] for e in journal(served) if e.get("proxied")]
            assert len(proxied) == 8
            assert all(p["backend"] == f"127.0.0.1:{backend}" and "error" not in p for p in proxied)
    doc = yaml.safe_load((root / "mocks" / "recorded" / f"{SID}.yaml").read_text())
    assert {r["when"]["id"] for r in doc["methods"]["getPerson"]} == {5, 14}


def test_a_backend_certificate_the_ca_did_not_sign_fails_the_handshake(tmp_path: Path) -> None:
    pki = make_pki(tmp_path / "pki")
    with provider(tmp_path, tls=(pki.server, pki.server_key)) as backend:
        (tmp_path / "p" / "certs").mkdir(parents=True)
        shutil.copy(pki.other_ca, tmp_path / "p" / "certs" / "other.pem")
        keys = 'proxy_ca = "certs/other.pem"\n'
        why = "TLS handshake failed: CERTIFICATE_VERIFY_FAILED (unable to get local issuer certificate)"
        call_fails(tmp_path, backend, why, keys)


def test_a_backend_asking_for_a_client_certificate_refuses_a_mock_without_one(tmp_path: Path) -> None:
    pki = make_pki(tmp_path / "pki")
    with provider(tmp_path, tls=(pki.server, pki.server_key, pki.ca)) as backend:
        # TLS 1.3: the server checks the client's certificate after the handshake, and closes
        call_fails(tmp_path, backend, "wants a client certificate: give proxy_cert", "proxy_tls = true\n")


def test_plain_tcp_to_a_tls_backend_is_a_clear_error(tmp_path: Path) -> None:
    pki = make_pki(tmp_path / "pki")
    with provider(tmp_path, tls=(pki.server, pki.server_key)) as backend:
        call_fails(tmp_path, backend, "proxy_tls = true")


def test_a_missing_ca_file_stops_serve_at_its_line(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    port = free_base_port(2)
    (root / "thriftbox.toml").write_text(
        f'[services."{SID}"]\nproxy = "127.0.0.1:{port}"\nproxy_ca = "nope.pem"\n'
    )
    t0 = time.monotonic()
    done = subprocess.run(
        thriftbox_cmd("serve", "idl", "--port", str(port)),
        cwd=root,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert "thriftbox.toml:3:12: proxy_ca: no such file 'nope.pem'" in done.stderr
    assert "Traceback" not in done.stderr
    assert time.monotonic() - t0 < 30
