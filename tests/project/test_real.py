"""[real.NAME] tables of thriftbox.toml and their placeholders: what a user writes, what serve gets, and each
mistake at thriftbox.toml:LINE:COL with a hint."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.serve_support import free_base_port
from thriftbox.errors import ConfigError
from thriftbox.project.file import read_project_file
from thriftbox.project.layout import Layout
from thriftbox.project.placeholders import check, resolve, substitute
from thriftbox.project.ports import assign_ports
from thriftbox.project.real import RealService, check_runnable
from thriftbox.supervisor.projectfile import config_from_project
from thriftbox.supervisor.real import check_ports

GOOD = """\
[serve]
seed = 1

[real.frontend]
image = "python:3.11-slim"
command = ["python3", "/app/frontend.py", "--users={users.Users}"]
volumes = ["./frontend:/app:ro", "data:/data"]
environment = { USERS_ADDR = "{users.Users}", USERS_PORT = "{users.Users.port}", LOG = "{not a placeholder}" }
ports = ["18080:8080"]
working_dir = "/app"

[real.local]
run = ["python3", "-m", "local", "{ads.Ads.host}"]
"""


def write(folder: Path, text: str) -> Path:
    path = folder / "thriftbox.toml"
    path.write_text(text)
    return path


def error_of(folder: Path, text: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        read_project_file(write(folder, text))
    return caught.value


def test_a_real_service_table_is_read_with_paths_relative_to_the_file(tmp_path: Path) -> None:
    project = read_project_file(write(tmp_path, GOOD))
    front = project.real["frontend"]
    assert front.image == "python:3.11-slim"
    assert front.command[-1] == "--users={users.Users}"
    assert [(v.source, v.target, v.read_only) for v in front.volumes] == [
        (tmp_path / "frontend", "/app", True),
        (tmp_path / "data", "/data", False),
    ]
    assert front.ports == ((18080, 8080),)
    assert front.working_dir == "/app"
    assert project.real["local"].run == ("python3", "-m", "local", "{ads.Ads.host}")
    config = config_from_project(project, tmp_path)
    assert set(config.real) == {"frontend", "local"}


@pytest.mark.parametrize(
    ("table", "where", "message", "hint"),
    [
        ('imgae = "x"', "5:1", "unknown key in [real.web] 'imgae'", "did you mean 'image'?"),
        ("image = 3", "5:9", "real.web.image must be a string, not an integer 3", None),
        (
            'image = "x"\ncommand = "python3 app.py"',
            "6:11",
            "real.web.command must be a list of strings",
            None,
        ),
        (
            'image = "x"\nenvironment = { A = 1 }',
            "6:15",
            "real.web.environment must be a table of strings",
            None,
        ),
        ('image = "x"\nports = ["8080"]', "6:9", "port '8080' is not HOST:CONTAINER", "18080:8080"),
        ('image = "x"\nports = ["70000:1"]', "6:9", "port '70000:1' is not HOST:CONTAINER", None),
        (
            'image = "x"\nvolumes = ["./a"]',
            "6:11",
            "volume './a' is not SRC:DST",
            "relative to thriftbox.toml",
        ),
        ('image = "x"\nbuild = "./web"', "6:9", "[real.web] has both image and build", "give one"),
        ('environment = { A = "b" }', "4:2", "[real.web] says neither what image", "run = [...]"),
    ],
)
def test_mistakes_in_a_real_table_are_reported_at_their_line(
    tmp_path: Path, table: str, where: str, message: str, hint: str | None
) -> None:
    error = error_of(tmp_path, f"[serve]\nseed = 1\n\n[real.web]\n{table}\n")
    assert str(error.location).endswith(f"thriftbox.toml:{where}"), str(error)
    assert error.message.startswith(message), str(error)
    assert error.exit_code == 2
    if hint is not None:
        assert hint in (error.hint or ""), error.hint


def test_a_name_that_cannot_name_a_container_is_refused(tmp_path: Path) -> None:
    error = error_of(tmp_path, '[real."my app"]\nimage = "x"\n')
    assert "not usable as a container and DNS name" in error.message
    assert str(error.location).endswith("thriftbox.toml:1:2")


def test_each_runtime_wants_what_it_can_run(tmp_path: Path) -> None:
    project = read_project_file(write(tmp_path, GOOD))
    with pytest.raises(ConfigError, match=r"\[real.local\] has no image or build") as caught:
        check_runnable(project.real, "docker")
    assert str(caught.value.location).endswith("thriftbox.toml:12:2")
    assert "--runtime process" in (caught.value.hint or "")
    with pytest.raises(ConfigError, match=r"\[real.frontend\] has no run") as caught:
        check_runnable(project.real, "process")
    assert str(caught.value.location).endswith("thriftbox.toml:4:2")
    check_runnable({"local": project.real["local"]}, "process")


def test_placeholders_become_the_address_and_its_parts() -> None:
    addresses = {"users.Users": ("users-users", 9190), "ads.Ads": ("127.0.0.1", 9191)}
    assert substitute("{users.Users}", addresses) == "users-users:9190"
    assert (
        substitute("http://{users.Users.host}:{users.Users.port}/x", addresses) == "http://users-users:9190/x"
    )
    assert substitute("{{users.Users}} {x y} {other.Thing}", addresses) == "{users.Users} {x y} {other.Thing}"
    svc = RealService("w", run=("app", "--ads={ads.Ads}"), environment={"U": "{users.Users.port}"})
    resolved = resolve(svc, addresses)
    assert resolved.run == ("app", "--ads=127.0.0.1:9191")
    assert resolved.environment == {"U": "9190"}


def test_a_placeholder_naming_no_served_service_is_reported_at_its_key(tmp_path: Path) -> None:
    project = read_project_file(write(tmp_path, GOOD))
    check(project.real, {"users.Users", "ads.Ads"})
    with pytest.raises(ConfigError) as caught:
        check(project.real, {"users.User", "ads.Ads"})
    assert str(caught.value).endswith(
        "thriftbox.toml:8:15: [real.frontend] environment: {users.Users} names no served service"
    )
    assert "did you mean {users.User}?" in (caught.value.hint or "")
    with pytest.raises(ConfigError, match="names a disabled service"):
        check(project.real, {"ads.Ads"}, disabled={"users.Users"})


def test_no_mock_is_numbered_onto_a_port_a_real_service_publishes(tmp_path: Path) -> None:
    base = free_base_port()
    ports = assign_ports(Layout(tmp_path), ["a.A", "b.B"], base, reserved=[base])
    assert ports == {"a.A": base + 1, "b.B": base + 2}
    fixed = assign_ports(Layout(tmp_path), ["a.A"], base, fixed={"a.A": base}, reserved=[base])
    assert fixed == {"a.A": base}  # asked for explicitly: the clash is reported with both names (check_ports)
    with pytest.raises(ConfigError, match=r"publishes port \d+, which the mock of a.A has"):
        check_ports({"w": RealService("w", run=("x",), ports=((base, 80),))}, fixed, "127.0.0.1")
