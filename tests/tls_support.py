"""Throwaway TLS material for tests (no tests here): a CA, a server certificate and a client certificate.

Made at test time with the ``openssl`` command line (the venv has no ``cryptography``), EC P-256 keys so it
takes a few milliseconds; the server certificate names ``localhost`` and ``127.0.0.1``.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

_EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]


@dataclass(frozen=True)
class Pki:
    """PEM files: ``ca`` signed ``server``/``server_key`` and ``client``/``client_key``; ``other_ca`` signed
    ``stranger``/``stranger_key`` (a client certificate the server's client CA does not know)."""

    folder: Path
    ca: Path
    server: Path
    server_key: Path
    client: Path
    client_key: Path
    other_ca: Path
    stranger: Path
    stranger_key: Path


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def _ca(folder: Path, name: str) -> tuple[Path, Path]:
    cert, key = folder / f"{name}.pem", folder / f"{name}.key"
    _openssl(
        "req", "-x509", *_EC, "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", f"/CN={name}",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    )  # fmt: skip
    return cert, key


def _leaf(folder: Path, name: str, ca: tuple[Path, Path], extensions: str) -> tuple[Path, Path]:
    cert, key, csr, ext = (folder / f"{name}{s}" for s in (".pem", ".key", ".csr", ".ext"))
    _openssl("req", *_EC, "-keyout", str(key), "-out", str(csr), "-subj", f"/CN={name}")
    ext.write_text(extensions + "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n")
    _openssl(
        "x509", "-req", "-in", str(csr), "-CA", str(ca[0]), "-CAkey", str(ca[1]), "-CAcreateserial",
        "-out", str(cert), "-days", "2", "-extfile", str(ext),
    )  # fmt: skip
    return cert, key


def make_pki(folder: Path) -> Pki:
    """A fresh CA with a server and a client certificate, and a stranger's CA and client certificate."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed")
    folder.mkdir(parents=True, exist_ok=True)
    ca = _ca(folder, "test-ca")
    server = _leaf(
        folder,
        "localhost",
        ca,
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"
        "keyUsage=critical,digitalSignature\n",
    )
    client = _leaf(folder, "client", ca, "extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n")
    other = _ca(folder, "other-ca")
    stranger = _leaf(
        folder, "stranger", other, "extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n"
    )
    return Pki(folder, ca[0], *server, *client, other[0], *stranger)
