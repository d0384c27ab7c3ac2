"""Building the C++ client of users_client.cpp against Debian's libthrift-dev (no tests here)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).parent


def build_users_client(idl: Path, out: Path) -> Path:
    """``thrift --gen cpp`` of ``idl/users.thrift`` and ``g++`` of users_client.cpp with it, linked against
    libthrift and libthriftz (THeader lives there); the executable's path. Skips the test, saying what is
    missing, without g++, pkg-config's ``thrift-z``, Apache's compiler or the headers libthrift needs."""
    for tool in ("g++", "pkg-config", "thrift"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (the C++ client needs g++, pkg-config and thrift)")
    flags = subprocess.run(
        ["pkg-config", "--cflags", "--libs", "thrift-z"], capture_output=True, text=True, check=False
    )
    if flags.returncode:
        pytest.skip(f"libthrift-dev is not installed: pkg-config thrift-z: {flags.stderr.strip()}")
    gen = out / "gen"
    gen.mkdir(parents=True)
    subprocess.run(
        ["thrift", "-r", "--gen", "cpp", "-out", str(gen), str(idl / "users.thrift")],
        check=True,
        capture_output=True,
    )
    sources = [p for p in sorted(gen.glob("*.cpp")) if "skeleton" not in p.name]
    exe = out / "users_client"
    proc = subprocess.run(
        [
            *("g++", "-std=c++17", "-O0", "-o", str(exe), str(HERE / "users_client.cpp")),
            *map(str, sources),
            *("-I", str(gen), *flags.stdout.split()),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode:
        missing = [ln for ln in proc.stderr.splitlines() if "fatal error:" in ln and "No such file" in ln]
        if missing:  # libthrift-dev's headers include Boost's: Debian's libboost-dev
            pytest.skip(f"a header libthrift needs is not installed: {missing[0].split('fatal error:')[1]}")
        raise AssertionError(f"the C++ client does not build:\n{proc.stderr[-4000:]}")
    return exe
