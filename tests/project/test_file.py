"""Reading thriftbox.toml: what a user writes, what serve gets, and every mistake at thriftbox.toml:LINE:COL."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from thriftbox.errors import ConfigError
from thriftbox.idl import load_catalog
from thriftbox.project.file import ServiceSettings, check_services, find_project_file, read_project_file
from thriftbox.project.layout import Layout
from thriftbox.project.ports import assign_ports
from thriftbox.supervisor.projectfile import config_from_project, template

GOOD = """\
[serve]
paths = ["idl", "more/x.thrift"]
mocks = "mocks"
include = "shared"      # one path is a list of one
seed = 7
watch = false

[services."users.Users"]
port = 9190
replicas = 2

[services."ads.Ads"]
enabled = false
latency = { p50 = 20, p99 = 400 }
"""


def write(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "thriftbox.toml"
    path.write_text(text)
    return path


def error_of(tmp_path: Path, text: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        read_project_file(write(tmp_path, text))
    return caught.value


def test_keys_become_serve_settings_with_paths_relative_to_the_file(tmp_path: Path) -> None:
    project = read_project_file(write(tmp_path, GOOD))
    for folder in ("idl", "more", "mocks", "shared"):
        (tmp_path / folder).mkdir()
    (tmp_path / "more" / "x.thrift").touch()
    config = config_from_project(project, tmp_path / "elsewhere", seed=9)
    assert tuple(config.paths) == (tmp_path / "idl", tmp_path / "more" / "x.thrift")
    assert config.mocks_dir == tmp_path / "mocks"
    assert tuple(config.include_dirs) == (tmp_path / "shared",)
    assert config.seed == 9  # given explicitly: wins over the file
    assert config.watch is False
    assert config.port == 9090  # not in the file: serve's default
    assert config.fixed_ports == {"users.Users": 9190}
    assert config.disabled == {"ads.Ads"}
    assert config.services["users.Users"].replicas == 2
    assert config.services["ads.Ads"].latency == {"p50": 20.0, "p99": 400.0}


def test_the_file_is_found_in_a_parent_folder(tmp_path: Path) -> None:
    path = write(tmp_path / "repo", GOOD)
    (tmp_path / "repo" / "src" / "deep").mkdir(parents=True)
    (tmp_path / "other").mkdir()
    assert find_project_file(tmp_path / "repo" / "src" / "deep") == path
    assert find_project_file(tmp_path / "other") is None


@pytest.mark.parametrize(
    ("text", "where", "message", "hint"),
    [
        ("[serve]\nseed = 1\nprot = 9100\n", "3:1", "unknown key in [serve] 'prot'", "did you mean 'port'?"),
        ("[serve]\n  mock = 'm'\n", "2:3", "unknown key in [serve] 'mock'", "did you mean 'mocks'?"),
        ('[serve]\nport = "9100"\n', "2:8", "serve.port must be an integer, not a string '9100'", None),
        ("[serve]\nwatch = 0\n", "2:9", "serve.watch must be true or false, not an integer 0", None),
        ("[serve]\npaths = [1]\n", "2:9", "serve.paths must be a list of paths", None),
        ("[serve]\nport = 70000\n", "2:8", "port must be from 1 to 65535, not 70000", None),
        ("[serv]\nport = 1\n", "1:2", "unknown table 'serv'", "did you mean 'serve'?"),
        (
            "[serve]\n[real.frontend]\nimage = 'x'\nimgae = 'y'\n",
            "4:1",
            "unknown key in [real.frontend]",
            "'image'",
        ),
        (
            '[serve]\n\n[services."users.Users"]\nenable = false\n',
            "4:1",
            "unknown service key 'enable'",
            "did you mean 'enabled'?",
        ),
        ('[services."a.B"]\nreplicas = 0\n', "2:12", "replicas must be from 1 up, not 0", None),
        ('[services."a.B"]\nlatency = "slow"\n', "2:11", "services.a.B.latency must be milliseconds", None),
        ('[services."a.B"]\nproxy = "staging"\n', "2:9", "services.a.B.proxy must be HOST:PORT", None),
        (
            '[services."a.B"]\nproxy_framing = "zlib"\n',
            "2:17",
            "proxy_framing must be one of buffered, framed",
            None,
        ),
        ('[serve]\nredact = "token"\n', "2:10", "serve.redact must be a list of strings", None),
        ("[serve]\nport = 9100\nseed = \n", "3:8", "not valid TOML: invalid value", "toml.io"),
        ("[serve]\nport = 9100\nport = 9101\n", "3:12", "not valid TOML: cannot overwrite a value", None),
    ],
)
def test_mistakes_are_reported_at_their_line_and_column(
    tmp_path: Path, text: str, where: str, message: str, hint: str | None
) -> None:
    error = error_of(tmp_path, text)
    assert str(error.location).endswith(f"thriftbox.toml:{where}"), str(error)
    assert error.message.startswith(message), str(error)
    assert error.exit_code == 2
    if hint is not None:
        assert hint in (error.hint or "")


def test_an_unknown_runtime_is_reported_at_its_value(tmp_path: Path) -> None:
    project = read_project_file(write(tmp_path, '[serve]\nruntime = "dokcer"\n'))
    with pytest.raises(ConfigError) as caught:
        config_from_project(project, tmp_path)
    assert str(caught.value.location).endswith("thriftbox.toml:2:11")
    assert "docker" in (caught.value.hint or "")


def test_a_service_the_idl_does_not_define_is_reported_with_the_closest_id(tmp_path: Path) -> None:
    catalog = load_catalog([Path(__file__).resolve().parents[2] / "idl"])
    project = read_project_file(write(tmp_path, '[serve]\n\n[services."users.User"]\nport = 9190\n'))
    with pytest.raises(ConfigError) as caught:
        check_services(project.services, catalog)
    assert str(caught.value).endswith("thriftbox.toml:3:2: no service 'users.User' in the served IDL")
    assert caught.value.hint == "did you mean 'users.Users'?"
    short = {"Users": ServiceSettings()}
    with pytest.raises(ConfigError, match="no service 'Users'") as caught:
        check_services(short, catalog)
    assert caught.value.hint == "did you mean 'users.Users'?"


def test_two_services_on_one_fixed_port_are_refused(tmp_path: Path) -> None:
    catalog = load_catalog([Path(__file__).resolve().parents[2] / "idl"])
    services = {"users.Users": ServiceSettings(port=9190), "feed.Feed": ServiceSettings(port=9190)}
    with pytest.raises(ConfigError, match="both ask for port 9190"):
        check_services(services, catalog)


def test_a_fixed_port_wins_and_a_service_that_remembered_it_moves(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    first = assign_ports(layout, ["a.A", "b.B"], 23100)
    assert first == {"a.A": 23100, "b.B": 23101}
    pinned = assign_ports(layout, ["a.A", "b.B"], 23100, fixed={"b.B": 23100})
    assert pinned["b.B"] == 23100
    assert pinned["a.A"] not in (23100, 23101)  # 23101 stays reserved for b.B's remembered number


def test_the_init_template_parses_and_lists_services_commented(tmp_path: Path) -> None:
    text = template(["idl"], "mocks", ["feed.Feed", "users.Users"])
    project = read_project_file(write(tmp_path, text))
    assert project.serve == {"paths": (tmp_path / "idl",), "mocks": tmp_path / "mocks"}
    assert project.services == {}
    assert '# [services."users.Users"]' in text
    examples = re.sub(r"^# (?=\[services|enabled =|latency =|replicas =|port = 919)", "", text, flags=re.M)
    every_example = read_project_file(write(tmp_path, examples))
    assert set(every_example.services) == {"feed.Feed", "users.Users"}
    assert every_example.services["feed.Feed"].enabled is False
    assert {s.port for s in every_example.services.values()} == {9190, 9191}


def test_paths_given_over_the_file_tolerate_its_settings_of_other_services(tmp_path: Path) -> None:
    catalog = load_catalog([Path(__file__).resolve().parents[2] / "idl"])
    project = read_project_file(write(tmp_path, '[services."billing.Billing"]\nenabled = false\n'))
    assert config_from_project(project, tmp_path).strict_services
    other = config_from_project(project, tmp_path, paths=("idl",))
    check_services(other.services, catalog, strict=other.strict_services)  # no error: not this IDL's
