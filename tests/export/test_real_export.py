"""Real services (`[real.NAME]`) in exports: the Compose file runs them beside the mocks with `{users.Users}`
resolved to the mocks' DNS names, and Kubernetes gets a Deployment and a Service for each (issue 12)."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from tests.docker_support import mock_image
from tests.export.support import copy_example, thriftbox
from tests.export.test_compose import compose_cli
from tests.real.support import ENVIRONMENT, ask, write_app
from tests.serve_support import free_base_port
from thriftbox.runtime.docker.image import base_image


def with_frontend(root: Path, image: str, web: int) -> None:
    write_app(root / "frontend")
    with (root / "thriftbox.toml").open("a") as toml:
        toml.write(
            "\n[real.frontend]\n"
            f'image = "{image}"\n'
            'command = ["python3", "/app/app.py", "--users={users.Users}"]\n'
            'volumes = ["./frontend:/app:ro"]\n'
            f'environment = {{ {ENVIRONMENT}, LISTEN_PORT = "8080" }}\n'
            f'ports = ["{web}:8080"]\n'
        )


def test_the_compose_file_and_manifests_name_the_mocks_by_dns(tmp_path: Path) -> None:
    port = 19190
    root = copy_example(tmp_path, port)
    with_frontend(root, "python:3.11-slim", 18080)
    thriftbox(root, "export", "compose", "-o", "deploy/compose.yaml")
    doc = yaml.safe_load((root / "deploy" / "compose.yaml").read_text())
    frontend = doc["services"]["frontend"]
    assert frontend["image"] == "python:3.11-slim"
    assert frontend["environment"]["USERS_ADDR"] == f"users-users:{port}"
    assert frontend["environment"]["USERS_HOST"] == "users-users"
    assert frontend["command"] == ["python3", "/app/app.py", f"--users=users-users:{port}"]
    assert frontend["volumes"] == ["../frontend:/app:ro"]  # relative to the file, as the mocks' folders
    assert frontend["ports"] == [{"target": 8080, "published": 18080, "protocol": "tcp", "mode": "host"}]
    assert frontend["networks"] == ["thriftbox"]
    assert set(frontend["depends_on"]) == {"users-users", "posts-posts", "ads-ads"}

    thriftbox(root, "export", "kubernetes", "-o", "k8s")
    docs = list(yaml.safe_load_all((root / "k8s" / "frontend.yaml").read_text()))
    deployment, service = docs
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["USERS_ADDR"] == f"users-users:{port}"  # the mock's Service name
    assert service["spec"]["ports"] == [
        {"name": "port-8080", "port": 8080, "targetPort": "port-8080", "protocol": "TCP"}
    ]
    kustomization = yaml.safe_load((root / "k8s" / "kustomization.yaml").read_text())
    assert "frontend.yaml" in kustomization["resources"]
    version = kubernetes_validate.latest_version()
    for doc in docs:
        kubernetes_validate.validate(doc, version, strict=True)  # raises on any unknown or wrong field


@pytest.mark.docker
def test_docker_compose_runs_a_real_service_that_reaches_a_mock(tmp_path: Path) -> None:
    compose = compose_cli()
    mock_image()
    image = base_image()  # the CI's stdlib-only image
    port = free_base_port()
    web = port + 40
    root = copy_example(tmp_path, port)
    with_frontend(root, image, web)
    thriftbox(root, "export", "compose", "-o", "compose.yaml")
    thriftbox(root, "image", "build")
    project = f"tbreal{uuid.uuid4().hex[:8]}"
    run = [compose, "-p", project, "-f", str(root / "compose.yaml")]
    try:
        up = subprocess.run([*run, "up", "-d"], capture_output=True, text=True, timeout=180)
        assert up.returncode == 0, up.stderr
        answer = ask(web, timeout=90)
        assert answer["addr"] == f"users-users:{port}"
        assert answer["reply"] == {"type": 2, "name": "getUser", "seqid": 7}  # a REPLY from the mock
    finally:
        down = subprocess.run([*run, "down", "-v", "-t", "2"], capture_output=True, text=True, timeout=120)
        assert down.returncode == 0, down.stderr
