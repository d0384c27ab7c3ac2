"""``thriftbox.testcontainers.ThriftboxContainer``: a Testcontainers suite starts the mocks like a database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.docker_support import mock_image
from tests.export.support import EXAMPLE
from tests.serve_support import fresh_module
from thriftbox.errors import ConfigError


@pytest.fixture
def no_reaper() -> Iterator[None]:
    """Testcontainers' reaper (Ryuk) is an image from Docker Hub, which CI cannot reach; the test removes its own
    container (``with``). Users with a registry keep the reaper."""
    from testcontainers.core.config import testcontainers_config

    before = testcontainers_config.ryuk_disabled
    testcontainers_config.ryuk_disabled = True
    yield
    testcontainers_config.ryuk_disabled = before


@pytest.mark.docker
def test_a_thriftpy2_client_calls_a_mock_through_the_container(no_reaper: None) -> None:
    mock_image()  # skips (or fails under THRIFTBOX_REQUIRE_DOCKER=1) without an engine
    from thriftpy2.rpc import make_client

    from thriftbox.testcontainers import ThriftboxContainer

    users = fresh_module(EXAMPLE / "idl" / "users.thrift")
    posts = fresh_module(EXAMPLE / "idl" / "posts.thrift")
    with ThriftboxContainer().with_idl(EXAMPLE / "idl").with_stubs(EXAMPLE / "mocks") as mocks:
        host, port = mocks.get_address("users.Users")
        client = make_client(users.Users, host, port, timeout=10_000)
        try:
            assert client.getUser(42).firstName == "Grace"  # the stub answers
            with pytest.raises(users.common.NotFound):
                client.getUser(404)
        finally:
            client.close()
        client = make_client(posts.Posts, *mocks.get_address("Posts"), timeout=10_000)  # a name works too
        try:
            assert len(client.recentPosts(42, 3)) <= 3
        finally:
            client.close()
        name = mocks.get_wrapped_container().name
    import docker

    engine = docker.from_env()
    try:
        assert not engine.containers.list(all=True, filters={"name": name})  # gone after the with block
    finally:
        engine.close()


def test_unknown_service_and_missing_idl_are_clear_errors(tmp_path: Path, no_reaper: None) -> None:
    from thriftbox.testcontainers import ThriftboxContainer

    with pytest.raises(ConfigError, match="not a folder"):
        ThriftboxContainer("unused:1").with_idl(tmp_path / "nope")
    with pytest.raises(ConfigError, match="no IDL given"):
        ThriftboxContainer("unused:1").start()
