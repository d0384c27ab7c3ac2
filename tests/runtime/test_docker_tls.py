"""``thriftbox serve --runtime docker --tls-cert ... --tls-client-ca ... --workers 2`` as a user runs it: the
container gets the three PEM files (only those, read-only), and both of its processes answer TLS clients with a
client certificate, refuse those without, and answer plaintext clients on the same published port."""

from __future__ import annotations

import shutil
import ssl
from pathlib import Path
from typing import Any

import pytest

from tests.docker_support import leftovers, mock_image
from tests.serve_support import serve
from tests.tls_support import make_pki
from thriftbox.client.catalog import ThriftClient
from thriftbox.client.transport import Tls
from thriftbox.idl import load_catalog
from thriftbox.idl.classes import Classes
from thriftbox.project.layout import project_name
from thriftbox.runtime.docker.plan import TLS_DIR

pytestmark = pytest.mark.docker

IDL = Path(__file__).parent / "docker_fixtures" / "idl"


def test_tls_in_containers_with_workers(engine: Any, tmp_path: Path) -> None:
    pki = make_pki(tmp_path / "keys")
    (tmp_path / "idl").mkdir()
    for name in ("users.thrift", "common.thrift"):
        shutil.copy(IDL / name, tmp_path / "idl" / name)
    classes = Classes(load_catalog([tmp_path / "idl"]))
    label = f"thriftbox.project={project_name(tmp_path)}"
    tls = ("--tls-cert", str(pki.server), "--tls-key", str(pki.server_key), "--tls-client-ca", str(pki.ca))
    args = ("--runtime", "docker", "--base-image", mock_image().base, "--workers", "2", *tls)
    with serve(tmp_path, ["idl"], *args) as served:
        port = served.port("users.Users")
        users = engine.containers.get(f"thriftbox-{project_name(tmp_path)}-users-users")
        mounts = {m["Destination"]: m for m in users.attrs["Mounts"]}
        for name in ("cert.pem", "key.pem", "client-ca.pem"):
            assert mounts[f"{TLS_DIR}/{name}"]["RW"] is False
        assert str(pki.folder) not in {m["Source"] for m in mounts.values()}  # not the folder of the keys
        mine = Tls(str(pki.ca), str(pki.client), str(pki.client_key))
        answers = []
        for _ in range(4):  # connections go to both processes of the container in turn
            with ThriftClient(classes, "users.Users", "127.0.0.1", port, tls=mine) as client:
                answers.append(client.call("getUser", 5))
            with ThriftClient(classes, "users.Users", "127.0.0.1", port, framing="framed") as client:
                answers.append(client.call("getUser", 5))  # plaintext on the same port
        assert len({repr(a) for a in answers}) == 1
        with (
            pytest.raises(ssl.SSLError, match="CERTIFICATE_REQUIRED"),
            ThriftClient(classes, "users.Users", "127.0.0.1", port, tls=Tls(str(pki.ca))) as client,
        ):
            client.call("getUser", 6)
        served.interrupt()
    assert leftovers(engine, label) == []
