"""An IDL file too large to serve is refused at once, before it is read, with its size and the limit.

Loading is linear but costs about 2.5 s of CPU per MiB (a generated 20 MiB file took
over 50 s and 1 GB to load); the largest real file of the corpus (Evernote's NoteStore.thrift) is 165 KiB.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from thriftbox.errors import IdlError
from thriftbox.idl import load_catalog
from thriftbox.idl.loader import MAX_FILE_BYTES

HEAD = "struct A { 1: i32 x }\n/*"
TAIL = "*/\n"


def padded(path: Path, size: int) -> Path:
    """A valid IDL file of exactly ``size`` bytes: one struct and a long comment."""
    path.write_bytes((HEAD + " " * (size - len(HEAD) - len(TAIL)) + TAIL).encode("ascii"))
    assert path.stat().st_size == size
    return path


def test_a_file_over_the_limit_is_refused_fast_with_its_size(tmp_path: Path) -> None:
    big = padded(tmp_path / "big.thrift", MAX_FILE_BYTES + 1)
    t0 = time.perf_counter()
    with pytest.raises(IdlError) as info:
        load_catalog([tmp_path])
    assert time.perf_counter() - t0 < 0.5
    err = info.value
    assert err.message == "too large for an IDL file: 8,388,609 bytes (at most 8,388,608: 8 MiB)"
    assert err.location is not None
    assert err.location.path == big.resolve()
    assert err.hint is not None
    assert "include" in err.hint


def test_an_included_file_over_the_limit_is_refused_too(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    padded(tmp_path / "lib" / "big.thrift", MAX_FILE_BYTES + 1)
    main = tmp_path / "main.thrift"
    main.write_text('include "lib/big.thrift"\n', encoding="ascii")
    with pytest.raises(IdlError, match="too large for an IDL file"):
        load_catalog([main])


def test_a_file_at_the_limit_loads(tmp_path: Path) -> None:
    padded(tmp_path / "edge.thrift", MAX_FILE_BYTES)
    assert "edge.A" in load_catalog([tmp_path]).structs
