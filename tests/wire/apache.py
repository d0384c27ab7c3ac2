"""Shared by the THeader, zlib and uuid wire tests (no tests here): code from Apache's compiler for an IDL."""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest


def generate(out: Path, idl_text: str, package: str, modules: tuple[str, ...]) -> Any:
    """``thrift --gen py`` of ``idl_text`` (whose ``namespace py`` is ``package``), imported: the package,
    with ``modules`` (e.g. ``Echo``, ``ttypes``) as attributes. Skips the test without a compiler."""
    compiler = shutil.which("thrift")
    if compiler is None:
        pytest.skip("Apache's thrift compiler is not installed")
    idl = out / "gen.thrift"
    idl.write_text(idl_text)
    subprocess.run([compiler, "--gen", "py", "-out", str(out), str(idl)], check=True, capture_output=True)
    sys.path.insert(0, str(out))
    try:
        gen = importlib.import_module(package)
        for sub in modules:
            setattr(gen, sub, importlib.import_module(f"{package}.{sub}"))
    finally:
        sys.path.remove(str(out))
    return gen
