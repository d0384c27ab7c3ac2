"""The Docker test support itself: on an engine that cannot get the base image (no registry), Docker tests skip
with the reason and the way to build one offline; under THRIFTBOX_REQUIRE_DOCKER=1 they fail instead."""

from __future__ import annotations

import pytest

from tests import docker_support
from thriftbox.errors import ThriftboxError


@pytest.fixture
def no_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    def unreachable(self: object) -> str:
        raise ThriftboxError("python:3.11-slim is not on the engine and could not be pulled: no registry")

    monkeypatch.setattr(docker_support, "require_engine", lambda: None)  # an engine answers
    monkeypatch.setattr(docker_support.DockerRuntime, "ensure_image", unreachable)
    monkeypatch.setattr(docker_support.DockerRuntime, "stop", lambda self: None)
    docker_support._build_once.cache_clear()
    yield
    docker_support._build_once.cache_clear()


@pytest.mark.usefixtures("no_registry")
def test_docker_tests_skip_with_the_reason_when_the_base_image_cannot_be_had(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(docker_support.REQUIRE_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception) as skipped:
        docker_support.mock_image()
    reason = str(skipped.value)
    assert "could not be pulled" in reason
    assert "THRIFTBOX_BASE_IMAGE" in reason
    assert ".ci/docker-setup.sh" in reason
    with pytest.raises(pytest.skip.Exception):  # every later Docker test skips the same way, without retrying
        docker_support.mock_image()


@pytest.mark.usefixtures("no_registry")
def test_docker_tests_fail_when_docker_is_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(docker_support.REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match="could not be pulled"):
        docker_support.mock_image()
