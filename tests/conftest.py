"""Shared fixtures: the IDL corpus, the demo project, and a served project on real ports."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import settings

from tests.corpus import CORPUS, MISSING

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The real-world IDL corpus (../shared/idl-corpus); tests that need it skip without it."""
    if not CORPUS.is_dir():
        pytest.skip(MISSING)
    return CORPUS


@pytest.fixture
def demo_project(tmp_path: Path) -> Path:
    """A copy of the demo project (idl/ and mocks/) in a fresh folder, as a user would have it."""
    shutil.copytree(REPO / "idl", tmp_path / "idl")
    if (REPO / "mocks").is_dir():
        shutil.copytree(REPO / "mocks", tmp_path / "mocks")
    return tmp_path


# Hypothesis explores new examples on every developer run; CI (CI=true) replays a fixed sequence, so a landing
# never depends on luck. A failure found locally is kept in .hypothesis/ and replayed first next time.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
