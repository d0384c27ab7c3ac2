"""Shared fixtures: the IDL corpus, the demo project, and a client of the real Docker engine."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from tests.corpus import CORPUS, MISSING
from tests.docker_support import mock_image

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


@pytest.fixture(scope="module")
def engine() -> Iterator[Any]:
    """A Docker SDK client of the engine that has the mock image (built once per session)."""
    import docker

    mock_image()  # skips (or fails under THRIFTBOX_REQUIRE_DOCKER=1) without an engine; builds the image once
    client = docker.from_env()
    yield client
    client.close()


# Hypothesis explores new examples on every developer run; CI (CI=true) replays a fixed sequence, so a landing
# never depends on luck. A failure found locally is kept in .hypothesis/ and replayed first next time.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
