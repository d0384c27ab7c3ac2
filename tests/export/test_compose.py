"""``thriftbox export compose``: the file runs unchanged with Debian's docker-compose 1.29 and on a swarm."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.docker_support import docker_required, mock_image, wait_until
from tests.export.support import EXAMPLE, copy_example, docker, get_user, thriftbox
from tests.serve_support import free_base_port

pytestmark = pytest.mark.docker


def compose_cli() -> str:
    path = shutil.which("docker-compose")
    if path is None:
        if docker_required():
            pytest.fail("docker-compose is not installed (.ci/run installs it)", pytrace=False)
        pytest.skip("docker-compose is not installed")
    return path


def test_compose_file_runs_with_docker_compose(tmp_path: Path) -> None:
    compose = compose_cli()
    built = mock_image()
    port = free_base_port()
    root = copy_example(tmp_path, port)
    thriftbox(root, "export", "compose", "-o", "deploy/compose.yaml")  # mounts ../idl, ../mocks
    # as a user would, right before `up` (another checkout's build on a shared engine may untag ours)
    tag = thriftbox(root, "image", "build").stdout.strip()
    assert tag == built.tag
    project = f"tbtest{uuid.uuid4().hex[:8]}"
    run = [compose, "-p", project, "-f", str(root / "deploy" / "compose.yaml")]
    try:
        up = subprocess.run([*run, "up", "-d"], capture_output=True, text=True, timeout=180)
        assert up.returncode == 0, up.stderr
        assert get_user(root, port).firstName == "Grace"  # the stub folder is mounted from ../mocks
        containers = docker(
            "ps", "-q", "--filter", f"label=com.docker.compose.project={project}"
        ).stdout.split()
        inspected = json.loads(docker("inspect", *containers).stdout)
        by_service: dict[str, list[dict[str, object]]] = {}
        for c in inspected:
            by_service.setdefault(c["Config"]["Labels"]["thriftbox.service"], []).append(c)
        assert {sid: len(cs) for sid, cs in by_service.items()} == {
            "users.Users": 1,
            "posts.Posts": 2,  # replicas = 2 in thriftbox.toml
            "ads.Ads": 1,
        }
        assert all(c["Config"]["Image"] == tag for c in inspected)

        def healthy() -> bool:
            states = json.loads(docker("inspect", *containers).stdout)
            return all(c["State"]["Health"]["Status"] == "healthy" for c in states)

        wait_until(healthy, 60, "every container healthy (the probe's real Thrift call)", poll=1)
        # on the project's network each mock answers by the Docker runtime's DNS name, replicas included
        for offset, name in enumerate(["users-users", "posts-posts", "ads-ads"]):
            docker(
                "run", "--rm", "--network", f"{project}_thriftbox", tag, "probe", f"{name}:{port + offset}"
            )
    finally:
        down = subprocess.run([*run, "down", "-v", "-t", "2"], capture_output=True, text=True, timeout=120)
        assert down.returncode == 0, down.stderr
    assert not docker("ps", "-aq", "--filter", f"label=com.docker.compose.project={project}").stdout.strip()


def test_compose_file_of_a_baked_image_mounts_nothing(tmp_path: Path) -> None:
    compose = compose_cli()
    mock_image()
    port = free_base_port()
    root = copy_example(tmp_path, port)
    tag = f"thriftbox-test-baked:{uuid.uuid4().hex[:8]}"
    thriftbox(root, "image", "build", "--bake", "--tag", tag)
    thriftbox(root, "export", "compose", "--baked", "--image", tag, "-o", "compose.yaml")
    shutil.rmtree(root / "idl")  # the IDL and stubs are in the image: the folders are not needed any more
    shutil.rmtree(root / "mocks")
    project = f"tbtest{uuid.uuid4().hex[:8]}"
    run = [compose, "-p", project, "-f", str(root / "compose.yaml")]
    try:
        up = subprocess.run([*run, "up", "-d"], capture_output=True, text=True, timeout=180)
        assert up.returncode == 0, up.stderr
        assert get_user(tmp_path, port, idl=EXAMPLE / "idl").firstName == "Grace"  # stubs baked in
    finally:
        subprocess.run([*run, "down", "-v", "-t", "2"], capture_output=True, text=True, timeout=120)
        docker("rmi", tag, check=False)
    assert not docker("ps", "-aq", "--filter", f"label=com.docker.compose.project={project}").stdout.strip()
