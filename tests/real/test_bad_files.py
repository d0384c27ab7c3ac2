"""A bad [real.NAME] stops `thriftbox serve` at thriftbox.toml:LINE:COL with a hint, exit 2, nothing started."""

from __future__ import annotations

import sys
from pathlib import Path

import docker
import pytest

from tests.docker_support import leftovers, mock_image
from tests.real.support import thriftbox
from tests.serve_support import free_base_port
from thriftbox.project.layout import project_name
from thriftbox.project.ports import port_free

RUN = f'run = ["{sys.executable}", "-c", "pass"]'


@pytest.mark.parametrize(
    ("real", "where", "message", "hint"),
    [
        (
            f'{RUN}\nenviroment = {{ A = "b" }}',
            "10:1",
            "unknown key in [real.web] 'enviroment'",
            "'environment'",
        ),
        (f"{RUN}\nports = 8080", "10:9", "real.web.ports must be a list of strings", None),
        (
            f'{RUN}\nenvironment = {{ U = "{{users.User}}" }}',
            "10:15",
            "[real.web] environment: {users.User} names no served service",
            "did you mean {users.Users}?",
        ),
        (
            f'{RUN}\nports = ["{{fixed}}:8080"]',
            "10:9",
            "[real.web] publishes port {fixed}, which the mock of users.Users has",
            "another port",
        ),
        ('image = "x:1"', "8:2", "[real.web] has no run", "--runtime docker"),
        ('run = ["thriftbox-no-such-program"]', "9:7", "[real.web] run: no program", "PATH"),
    ],
)
def test_a_bad_real_service_stops_serve_before_anything_starts(
    demo_project: Path, real: str, where: str, message: str, hint: str | None
) -> None:
    base = free_base_port()
    fixed = base + 40
    (demo_project / "thriftbox.toml").write_text(
        f'[serve]\npaths = ["idl"]\nruntime = "process"\nport = {base}\n\n'
        f'[services."users.Users"]\nport = {fixed}\n[real.web]\n{real.replace("{fixed}", str(fixed))}\n'
    )
    done = thriftbox(demo_project, "serve")
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"thriftbox.toml:{where}: {message.replace('{fixed}', str(fixed))}" in done.stderr
    if hint is not None:
        assert hint in done.stderr
    assert "Traceback" not in done.stderr
    assert not (demo_project / ".thriftbox" / "state.json").exists()
    assert port_free("127.0.0.1", fixed)


def test_an_image_the_engine_lacks_is_named_and_nothing_starts(demo_project: Path) -> None:
    mock_image()
    (demo_project / "thriftbox.toml").write_text(
        f'[serve]\npaths = ["idl"]\nruntime = "docker"\nport = {free_base_port()}\n\n'
        '[real.web]\nimage = "thriftbox-test-no-such-image:never"\n'
    )
    done = thriftbox(demo_project, "serve")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "thriftbox.toml:7:9: [real.web] image 'thriftbox-test-no-such-image:never' does not exist" in (
        done.stderr
    )
    assert "docker pull" in done.stderr
    client = docker.from_env()
    try:
        assert leftovers(client, f"thriftbox.project={project_name(demo_project)}") == []
    finally:
        client.close()
