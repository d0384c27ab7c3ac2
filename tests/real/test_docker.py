"""A real service in a container beside the mock containers: from an image, and built from a Dockerfile folder;
it reaches a mock by its DNS name through {users.Users}, answers its published port, shows in status and logs,
and Ctrl-C leaves no container or network."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import docker

from tests.docker_support import leftovers, mock_image, wait_until
from tests.real.support import ENVIRONMENT, ask, serve_here, thriftbox, write_app
from tests.serve_support import free_base_port
from thriftbox.project.layout import project_name
from thriftbox.runtime.docker.image import base_image
from thriftbox.runtime.docker.plan import real_image_tag


def test_real_containers_reach_the_mocks_by_dns_name_and_go_with_ctrl_c(demo_project: Path) -> None:
    mock_image()  # skips without an engine (fails under THRIFTBOX_REQUIRE_DOCKER=1)
    image = base_image()  # the CI's stdlib-only image: python3, nothing else
    base = free_base_port()
    web, built = base + 45, base + 46
    write_app(demo_project / "frontend")
    (demo_project / "frontend" / "Dockerfile").write_text(
        f'FROM {image}\nCOPY app.py /srv/app.py\nCMD ["python3", "/srv/app.py", "--built"]\n'
    )
    (demo_project / "thriftbox.toml").write_text(
        f'[serve]\npaths = ["idl"]\nruntime = "docker"\nwatch = false\nport = {base}\nbase_image = "{image}"\n\n'
        f"[real.frontend]\n"
        f'image = "{image}"\n'
        f'command = ["python3", "/app/app.py", "--users={{users.Users}}"]\n'
        f'volumes = ["./frontend:/app:ro"]\n'
        f'environment = {{ {ENVIRONMENT}, LISTEN_PORT = "8080" }}\n'
        f'ports = ["{web}:8080"]\n\n'
        f"[real.built]\n"
        f'build = "./frontend"\n'
        f'environment = {{ {ENVIRONMENT}, LISTEN_PORT = "8080" }}\n'
        f'ports = ["{built}:8080"]\n\n'
        f'[real.crashy]\nimage = "{image}"\ncommand = ["python3", "-c", "print(\'bye\'); raise SystemExit(4)"]\n'
    )
    label = f"thriftbox.project={project_name(demo_project)}"
    client = docker.from_env()
    try:
        with serve_here(demo_project) as served:
            users = served.port("users.Users")
            answer = ask(web)
            assert answer["addr"] == f"users-users:{users}"  # the mock's DNS name on the project network
            assert (answer["host"], answer["port"]) == ("users-users", str(users))
            assert answer["argv"] == [f"--users=users-users:{users}"]
            assert answer["reply"] == {"type": 2, "name": "getUser", "seqid": 7}
            from_build = ask(built)
            assert from_build["argv"] == ["--built"]
            assert from_build["reply"]["name"] == "getUser"

            out = served.wait_for_output("real service crashy exited (exited, exit code 4); not restarted")
            assert "  bye" in out.split("real service crashy exited", 1)[1]
            rows = json.loads(thriftbox(demo_project, "status", "--json").stdout)
            real = {r["service"]: r for r in rows if r["kind"] == "real"}
            assert set(real) == {"frontend", "built", "crashy"}
            assert real["crashy"]["state"] == "exited (4)"
            assert real["frontend"]["state"] == "running"
            assert real["frontend"]["extra"]["image"] == image
            logs = thriftbox(demo_project, "logs", "frontend").stdout
            assert f"calling users at users-users:{users}" in logs
            assert any(name.endswith("-real-frontend") for name in leftovers(client, label))
            assert served.interrupt(timeout=60) in (0, 130)
        assert leftovers(client, label) == []
    finally:
        thriftbox(demo_project, "down")
        with contextlib.suppress(docker.errors.DockerException):
            client.images.remove(real_image_tag(project_name(demo_project), "built"), force=True)
        client.close()


def test_the_reaper_removes_a_real_container_when_serve_is_killed(demo_project: Path) -> None:
    mock_image()
    image = base_image()
    (demo_project / "thriftbox.toml").write_text(
        f'[serve]\npaths = ["idl"]\nruntime = "docker"\nwatch = false\nport = {free_base_port()}\n'
        f'base_image = "{image}"\n\n[real.sleeper]\nimage = "{image}"\ncommand = ["sleep", "600"]\n'
    )
    label = f"thriftbox.project={project_name(demo_project)}"
    client = docker.from_env()
    try:
        with serve_here(demo_project) as served:
            assert any(name.endswith("-real-sleeper") for name in leftovers(client, label))
            served.proc.kill()  # SIGKILL: no cleanup of its own runs
            served.proc.wait(timeout=10)
            wait_until(lambda: leftovers(client, label) == [], 60, "the reaper removed everything")
    finally:
        thriftbox(demo_project, "down")
        client.close()


def test_a_save_adds_and_removes_real_containers(demo_project: Path) -> None:
    mock_image()
    image = base_image()
    web = free_base_port() + 45
    write_app(demo_project / "frontend")
    head = (
        f'[serve]\npaths = ["idl"]\nruntime = "docker"\nport = {web - 45}\nbase_image = "{image}"\n\n'
        f'[services."ads.Ads"]\nenabled = false\n\n'
    )
    toml = demo_project / "thriftbox.toml"
    toml.write_text(head)
    label = f"thriftbox.project={project_name(demo_project)}"
    client = docker.from_env()
    try:
        with serve_here(demo_project) as served:
            toml.write_text(
                head + f'[real.frontend]\nimage = "{image}"\ncommand = ["python3", "/app/app.py"]\n'
                f'volumes = ["./frontend:/app:ro"]\nports = ["{web}:8080"]\n'
                f'environment = {{ {ENVIRONMENT}, LISTEN_PORT = "8080" }}\n'
            )
            served.wait_for_output("real service frontend started (added to thriftbox.toml)", timeout=60)
            assert ask(web)["addr"] == f"users-users:{served.port('users.Users')}"
            toml.write_text(head)
            served.wait_for_output("real service frontend stopped (removed from thriftbox.toml)", timeout=60)
            assert not any(name.endswith("-real-frontend") for name in leftovers(client, label))
            assert served.interrupt(timeout=60) in (0, 130)
        assert leftovers(client, label) == []
    finally:
        thriftbox(demo_project, "down")
        client.close()
