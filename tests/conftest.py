"""Shared fixtures: the IDL corpus, the demo project, and a served project on real ports."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "idl-corpus"


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The real-world IDL corpus (../shared/idl-corpus); tests that need it skip without it."""
    if not CORPUS.is_dir():
        pytest.skip(f"the IDL corpus is not at {CORPUS}")
    return CORPUS


@pytest.fixture
def demo_project(tmp_path: Path) -> Path:
    """A copy of the demo project (idl/ and mocks/) in a fresh folder, as a user would have it."""
    shutil.copytree(REPO / "idl", tmp_path / "idl")
    if (REPO / "mocks").is_dir():
        shutil.copytree(REPO / "mocks", tmp_path / "mocks")
    return tmp_path
