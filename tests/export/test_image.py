"""``thriftbox image build``: the image exports reference, usable on its own, and ``--bake`` for a registry."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.docker_support import mock_image
from tests.export.support import copy_example, docker, get_user, thriftbox
from tests.serve_support import free_base_port

pytestmark = pytest.mark.docker


def test_image_build_prints_the_runtime_s_image_and_it_serves_a_mounted_folder(tmp_path: Path) -> None:
    built = mock_image()  # skips (or fails under THRIFTBOX_REQUIRE_DOCKER=1) without an engine
    root = copy_example(tmp_path)
    assert thriftbox(root, "image", "build").stdout.strip() == built.tag
    extra = f"thriftbox-test-tag:{uuid.uuid4().hex[:8]}"
    assert thriftbox(root, "image", "build", "--tag", extra).stdout.strip() == extra
    ids = docker("image", "inspect", "--format", "{{.Id}}", built.tag, extra).stdout.split()
    docker("rmi", extra)
    assert ids[0] == ids[1]  # the same image under the name asked for
    port = free_base_port()
    name = f"thriftbox-test-{uuid.uuid4().hex[:8]}"
    # serve numbers services from 9090 in sorted order: ads.Ads 9090, posts.Posts 9091, users.Users 9092
    docker("run", "-d", "--name", name, "-p", f"127.0.0.1:{port}:9092", "-v", f"{root / 'idl'}:/idl:ro",
           built.tag, "serve", "/idl")  # fmt: skip
    try:
        user = get_user(root, port)
        assert user.id == 42  # generated: no stubs mounted
        assert user.email
        assert user.firstName != "Grace"
    finally:
        docker("rm", "-f", name, check=False)


def test_baked_image_serves_the_project_s_idl_and_stubs_on_its_ports(tmp_path: Path) -> None:
    mock_image()
    root = copy_example(tmp_path)
    tag = f"thriftbox-test-baked:{uuid.uuid4().hex[:8]}"
    assert thriftbox(root, "image", "build", "--bake", "--tag", tag).stdout.strip() == tag
    port = free_base_port()
    name = f"thriftbox-test-{uuid.uuid4().hex[:8]}"
    try:
        # no mount: the IDL, the stubs and the ports of thriftbox.toml are in the image (users.Users: 9190)
        docker("run", "-d", "--name", name, "-p", f"127.0.0.1:{port}:9190", tag)
        assert get_user(root, port).firstName == "Grace"  # mocks/users.yaml answers
        assert "warning: --host 0.0.0.0" in docker("logs", name).stderr + docker("logs", name).stdout
    finally:
        docker("rm", "-f", name, check=False)
        docker("rmi", tag, check=False)
