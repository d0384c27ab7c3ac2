"""Support for tests that need a Docker engine: skip without one, fail instead under THRIFTBOX_REQUIRE_DOCKER=1.

``require_engine()`` is the one place that decides; :func:`mock_image` builds the mock image once per test run
(CI's offline base image comes from ``THRIFTBOX_BASE_IMAGE``, see ``.ci/docker-setup.sh``).
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest

from thriftbox.errors import ThriftboxError
from thriftbox.runtime.docker.image import base_image
from thriftbox.runtime.docker.sdk import DockerRuntime, engine_available

REQUIRE_ENV = "THRIFTBOX_REQUIRE_DOCKER"


def docker_required() -> bool:
    return os.environ.get(REQUIRE_ENV) == "1"


def require_engine() -> None:
    """Skip the calling test when no engine answers; fail it when the run requires Docker."""
    ok, reason = engine_available()
    if ok:
        return
    message = f"no Docker engine answers ({reason})"
    if docker_required():
        pytest.fail(f"{message}, and {REQUIRE_ENV}=1 requires one (run .ci/docker-setup.sh)", pytrace=False)
    pytest.skip(f"{message}; start Docker or set DOCKER_HOST to run the Docker tests")


@dataclass(frozen=True)
class BuiltImage:
    tag: str
    base: str
    seconds: float
    built: bool  # False when the engine already had it
    progress: list[str] = field(default_factory=list)


def mock_image() -> BuiltImage:
    """The mock image for the code under test, built (or found) once per test run.

    Skips the calling test, with the reason, when the engine cannot get the base image (no registry, no
    offline image): Docker tests then skip rather than error; under THRIFTBOX_REQUIRE_DOCKER=1 they fail."""
    require_engine()
    built = _build_once()
    if isinstance(built, BuiltImage):
        return built
    message = (
        f"the mock image cannot be built: {built}. Build an offline base image with .ci/docker-setup.sh "
        "(debootstrap, no registry needed) and point THRIFTBOX_BASE_IMAGE at it"
    )
    if docker_required():
        pytest.fail(f"{message} ({REQUIRE_ENV}=1 requires the Docker tests to run)", pytrace=False)
    pytest.skip(message)


@functools.cache
def _build_once() -> BuiltImage | str:
    """The built image, or why it could not be built (remembered: later tests do not try again)."""
    lines: list[str] = []
    runtime = DockerRuntime(on_progress=lines.append)
    t0 = time.perf_counter()
    try:
        tag = runtime.ensure_image()
    except ThriftboxError as err:
        return str(err)
    finally:
        runtime.stop()
    return BuiltImage(tag, base_image(), time.perf_counter() - t0, built=bool(lines), progress=lines)


def leftovers(client: Any, label: str) -> list[str]:
    """Names of containers and networks that still carry ``label`` (``key=value``)."""
    # one request each: no race with a container removed while listed
    containers = client.api.containers(all=True, filters={"label": label})
    networks = client.api.networks(filters={"label": label})
    return sorted([c["Names"][0].lstrip("/") for c in containers] + [n["Name"] for n in networks])


def wait_until(predicate: Callable[[], bool], timeout: float, what: str, poll: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(poll)
    raise AssertionError(f"{what}: not within {timeout} s")


def lines_matching(lines: Iterable[str], needle: str) -> list[str]:
    return [line for line in lines if needle in line]
