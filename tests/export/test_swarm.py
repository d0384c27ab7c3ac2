"""The same Compose file on Docker Swarm: ``docker stack deploy`` on a single-node swarm (initialised here when
the engine is not in one, and left again), a client container on the stack's network gets answers from every
mock by its DNS name, a mock with ``replicas = 2`` runs two tasks, and a real service reaches a mock."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.docker_support import mock_image, wait_until
from tests.export.support import SERVICES, copy_example, docker, thriftbox
from tests.export.test_real_export import with_frontend
from tests.real.support import ask
from tests.serve_support import free_base_port
from thriftbox.runtime.docker.image import base_image

pytestmark = pytest.mark.docker

# Run in a container of the mock image on the stack's network: every mock answers by its DNS name.
CLIENT = """\
import json, sys, thriftpy2
from thriftpy2.rpc import make_client
answers = {}
for name, port, idl, service, method, args in json.loads(sys.argv[1]):
    module = thriftpy2.load(idl, module_name=name.replace("-", "_") + "_thrift")
    client = make_client(getattr(module, service), name, port, timeout=10000)
    answers[name] = repr(getattr(client, method)(*args))
    client.close()
print(json.dumps(answers))
"""


@pytest.fixture
def swarm() -> Iterator[None]:
    """A single-node swarm for the test: the engine's own when it is in one, else initialised and left after."""
    state = docker("info", "--format", "{{.Swarm.LocalNodeState}}").stdout.strip()
    created = state == "inactive"
    bridge = "docker_gwbridge"  # the swarm's bridge network: `swarm leave` keeps it
    had_bridge = bool(docker("network", "ls", "-q", "--filter", f"name=^{bridge}$").stdout.strip())
    if created:
        docker("swarm", "init", "--advertise-addr", "127.0.0.1")
    try:
        yield
    finally:
        if created:
            docker("swarm", "leave", "--force", check=False)
            if not had_bridge:
                docker("network", "rm", bridge, check=False)


def test_stack_deploy_runs_every_mock_reachable_by_dns_name(tmp_path: Path, swarm: None) -> None:
    built = mock_image()
    port = free_base_port()
    web = port + 40
    root = copy_example(tmp_path, port)
    with_frontend(root, base_image(), web)  # a real service of the team's, beside the mocks
    thriftbox(root, "export", "compose", "-o", "compose.yaml")
    tag = thriftbox(root, "image", "build").stdout.strip()  # as a user would, right before deploying
    assert tag == built.tag
    stack = f"tbtest{uuid.uuid4().hex[:8]}"
    try:
        # --resolve-image never: the image is on this node only (no registry to ask for its digest)
        docker("stack", "deploy", "--resolve-image", "never", "-c", str(root / "compose.yaml"), stack)

        def running() -> dict[str, int]:
            lines = docker(
                "stack",
                "ps",
                stack,
                "--filter",
                "desired-state=running",
                "--format",
                "{{.Name}} {{.CurrentState}}",
            ).stdout.splitlines()
            counts: dict[str, int] = {}
            for line in lines:
                name, state = line.split(" ", 1)
                if state.startswith("Running"):
                    service = name.removeprefix(f"{stack}_").rsplit(".", 1)[0]
                    counts[service] = counts.get(service, 0) + 1
            return counts

        wanted = {"users-users": 1, "posts-posts": 2, "ads-ads": 1, "frontend": 1}
        wait_until(lambda: running() == wanted, 90, f"tasks running as {wanted}", poll=1)
        calls = [
            ("users-users", port, "/project/idl/users.thrift", "Users", "getUser", [42]),
            ("posts-posts", port + 1, "/project/idl/posts.thrift", "Posts", "recentPosts", [42, 2]),
            ("ads-ads", port + 2, "/project/idl/ads.thrift", "Ads", "adsFor", [42, 1]),
        ]
        client = docker(
            "run", "--rm", "--network", f"{stack}_thriftbox", "-v", f"{root / 'idl'}:/project/idl:ro",
            "--entrypoint", "python3", tag, "-c", CLIENT, json.dumps(calls),
            timeout=120,
        )  # fmt: skip
        answers = json.loads(client.stdout)
        assert set(answers) == set(SERVICES.values())
        assert "Grace" in answers["users-users"]  # the stubs folder is mounted on the swarm too
        assert answers["posts-posts"].startswith("[Post(")
        assert answers["ads-ads"].startswith("[Ad(")
        answer = ask(web, timeout=90)  # the real service, on its host-mode port, reached a mock by DNS name
        assert answer["addr"] == f"users-users:{port}"
        assert answer["reply"] == {"type": 2, "name": "getUser", "seqid": 7}
        services = json.loads(docker("service", "inspect", f"{stack}_users-users").stdout)[0]
        assert services["Spec"]["EndpointSpec"]["Mode"] == "dnsrr"
        assert services["Endpoint"]["Spec"]["Ports"][0]["PublishMode"] == "host"
    finally:
        docker("stack", "rm", stack, check=False)
        wait_until(
            lambda: not docker("network", "ls", "-q", "--filter", f"name={stack}_").stdout.strip(),
            60,
            "the stack's network removed",
            poll=1,
        )
