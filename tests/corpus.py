"""The IDL corpus: 71 real-world .thrift files (Apache, Facebook, Twitter, Uber, Evernote, ...) in their upstream
layout, with INDEX.md naming sources, licences and parse status. It lives beside the checkout, in
``../shared/idl-corpus`` (docs/idl.md); the tests that need it skip without it, naming the folder."""

from __future__ import annotations

from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "idl-corpus"
FILES = sorted(CORPUS.rglob("*.thrift")) if CORPUS.is_dir() else []
MISSING = (
    f"the IDL corpus is not at {CORPUS}: put the shared/ folder (71 real-world .thrift files) beside the "
    "checkout to run these tests (docs/idl.md)"
)
needs_corpus = pytest.mark.skipif(not FILES, reason=MISSING)
