"""``thriftbox serve --tls-cert --tls-key [--tls-client-ca]`` and the same keys in thriftbox.toml, run as a user
would: TLS and plaintext clients on the same ports, with worker processes too, client certificates, and the
errors a mistake gets."""

from __future__ import annotations

import json
import ssl
import subprocess
from pathlib import Path
from typing import Any

import pytest
import thriftpy2
from thriftpy2.rpc import make_client
from thriftpy2.transport import TFramedTransportFactory

from tests.serve_support import cli_env, serve, thriftbox_cmd
from tests.tls_support import Pki, make_pki


def users_module(root: Path) -> Any:
    return thriftpy2.load(
        str(root / "idl/users.thrift"), include_dirs=[str(root / "idl")], module_name="tlsu_thrift"
    )


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def tls_client(u: Any, port: int, pki: Pki, *, cert: bool = False) -> Any:
    """thriftpy2's TSSLSocket client, checking the mock's certificate against the test CA."""
    extra = {"certfile": str(pki.client), "keyfile": str(pki.client_key)} if cert else {}
    return make_client(u.Users, "localhost", port, cafile=str(pki.ca), timeout=10000, **extra)


def test_tls_beside_plaintext_with_workers(demo_project: Path, pki: Pki) -> None:
    """Every connection is detected in the process that serves it: with two processes per port, TLS clients
    (on connections spread over both) and plaintext ones are all answered."""
    u = users_module(demo_project)
    args = (
        "--mocks",
        "mocks",
        "--workers",
        "2",
        "--tls-cert",
        str(pki.server),
        "--tls-key",
        str(pki.server_key),
    )
    with serve(demo_project, ["idl"], *args) as served:
        port = served.port("users.Users")
        for n in range(1, 7):
            secure = tls_client(u, port, pki)
            plain = make_client(
                u.Users, "127.0.0.1", port, timeout=10000, trans_factory=TFramedTransportFactory()
            )
            try:
                assert secure.getUser(id=n).id == n
                assert plain.getUser(id=n + 100).id == n + 100
            finally:
                secure.close()
                plain.close()
    assert "Traceback" not in served.output()


def test_mutual_tls_from_the_project_file(demo_project: Path, pki: Pki) -> None:
    (demo_project / "thriftbox.toml").write_text(
        "[serve]\n"
        'paths = ["idl"]\n'
        'mocks = "mocks"\n'
        f'tls_cert = "{pki.server}"\n'
        f'tls_key = "{pki.server_key}"\n'
        f'tls_client_ca = "{pki.ca}"\n'
    )
    u = users_module(demo_project)
    with serve(demo_project, []) as served:
        port = served.port("users.Users")
        client = tls_client(u, port, pki, cert=True)
        try:
            assert client.getUser(id=3).id == 3
        finally:
            client.close()
        refused = tls_client(u, port, pki)  # no client certificate
        try:
            with pytest.raises(ssl.SSLError, match="CERTIFICATE_REQUIRED"):  # TLS 1.3: on the first read
                refused.getUser(id=4)
        finally:
            refused.close()
        plain = make_client(u.Users, "127.0.0.1", port, timeout=10000)
        try:
            assert plain.getUser(id=5).id == 5
        finally:
            plain.close()


def run_serve(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        thriftbox_cmd("serve", *args, "--runtime", "process", "--no-watch"),
        cwd=root,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_tls_mistakes_are_errors_before_anything_starts(demo_project: Path, pki: Pki) -> None:
    done = run_serve(demo_project, "idl", "--tls-cert", str(pki.server))
    assert done.returncode == 2
    assert "needs its key" in done.stderr
    done = run_serve(demo_project, "idl", "--tls-cert", str(pki.server), "--tls-key", str(pki.client_key))
    assert done.returncode == 2
    assert f"{pki.server}: cannot use it as the TLS certificate" in done.stderr.replace("\n", "")
    assert "Traceback" not in done.stderr
    (demo_project / "thriftbox.toml").write_text(f'[serve]\npaths = ["idl"]\ntls_cert = "{pki.server}"\n')
    done = run_serve(demo_project)
    assert done.returncode == 2
    assert "thriftbox.toml:3:" in done.stderr
    assert "tls_cert needs tls_key" in done.stderr


def cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        thriftbox_cmd(*args), cwd=root, env=cli_env(), capture_output=True, text=True, timeout=120
    )


def test_call_and_verify_speak_tls(demo_project: Path, pki: Pki) -> None:
    tls = ("--tls-cert", str(pki.server), "--tls-key", str(pki.server_key), "--tls-client-ca", str(pki.ca))
    mine = ("--tls-cert", str(pki.client), "--tls-key", str(pki.client_key))
    with serve(demo_project, ["idl"], "--mocks", "mocks", *tls) as served:
        port = served.port("users.Users")
        done = cli(demo_project, "call", "Users.getUser", '{"id": 42}', "--tls-ca", str(pki.ca), *mine)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["id"] == 42
        done = cli(
            demo_project,
            "call",
            "Users.getUser",
            '{"id": 43}',
            "--framed",
            "--protocol",
            "compact",
            "--tls",
            *mine,
        )
        assert done.returncode == 0, done.stderr  # --tls alone takes the mock's certificate unchecked
        # a CA that did not sign the mock's certificate; then no client certificate on a port that wants one
        done = cli(demo_project, "call", "Users.getUser", '{"id": 1}', "--tls-ca", str(pki.other_ca), *mine)
        assert done.returncode == 1
        assert "CERTIFICATE_VERIFY_FAILED" in done.stderr
        assert "Traceback" not in done.stderr
        done = cli(demo_project, "call", "Users.getUser", '{"id": 1}', "--tls-ca", str(pki.ca))
        assert done.returncode == 1
        assert "certificate" in done.stderr.lower()
        assert "Traceback" not in done.stderr
        target = ("--service", "users.Users", "--target", f"127.0.0.1:{port}", "--cases", "1")
        done = cli(demo_project, "verify", "idl", *target, "--tls-ca", str(pki.ca), *mine)
        assert done.returncode == 0, done.stdout + done.stderr
        journal = cli(demo_project, "journal", "--json")
        assert journal.returncode == 0, journal.stderr
        entries = [e for e in map(json.loads, journal.stdout.splitlines()) if e["method"] == "getUser"]
        by_id = {e["args"].get("id"): e for e in entries}
        assert by_id[42]["tls"] == "TLSv1.3"
        assert (by_id[43]["tls"], by_id[43]["protocol"], by_id[43]["framing"]) == (
            "TLSv1.3",
            "compact",
            "framed",
        )
        plain = cli(demo_project, "call", "Users.getUser", '{"id": 44}')
        assert plain.returncode == 0, plain.stderr
        shown = cli(demo_project, "journal", "Users.getUser").stdout.splitlines()
        assert any('{"id": 43}' in line and ", TLSv1.3" in line for line in shown), shown
        assert any('{"id": 44}' in line and "TLS" not in line for line in shown), shown


def test_tls_settings_that_do_not_go_together(pki: Pki) -> None:
    """The Python API refuses half a TLS configuration as the CLI does (ServeConfig is where it is checked)."""
    from thriftbox.errors import ConfigError
    from thriftbox.supervisor.config import ServeConfig

    with pytest.raises(ConfigError, match="needs its key"):
        ServeConfig(tls_key=pki.server_key)
    with pytest.raises(ConfigError, match="do not speak TLS") as caught:
        ServeConfig(tls_client_ca=pki.ca)
    assert caught.value.hint is not None
    assert "--tls-cert" in caught.value.hint
    assert (
        ServeConfig(tls_cert=pki.server, tls_key=pki.server_key, tls_client_ca=pki.ca).tls_client_ca == pki.ca
    )
