"""The pytest plugin reads the team's thriftbox.toml (from pytest's rootdir or a parent): the same IDL, stubs
and disabled services as `thriftbox serve`; its ini keys and flags override the file."""

from __future__ import annotations

import importlib.metadata
import os
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "docs" / "examples" / "consumer"
INSTALLED = any(
    ep.value == "thriftbox.pytest.plugin" for ep in importlib.metadata.entry_points(group="pytest11")
)
PLUGIN = [] if INSTALLED else ["-p", "thriftbox.pytest.plugin"]
EXTRA = "service Extra {\n  i32 ping()\n}\n"
SERVED = """
def test_served(thriftbox):
    print("SERVED", sorted(thriftbox.ports))
    user = thriftbox.client("Users").getUser(42)
    print("USER", user.handle)
"""


@pytest.fixture(autouse=True)
def _importable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join([str(REPO / "sandbox"), os.environ.get("PYTHONPATH", "")])
    )


@pytest.fixture
def team(pytester: pytest.Pytester) -> pytest.Pytester:
    """A repository with a thriftbox.toml at its root (the sample's IDL and stubs, and a disabled service),
    an empty pytest configuration, and one test that prints what is served."""
    pytester.makefile(".thrift", extra=EXTRA)
    pytester.makefile(
        ".toml",
        thriftbox=f"[serve]\npaths = ['{SAMPLE / 'idl'}', 'extra.thrift']\nmocks = '{SAMPLE / 'mocks'}'\n"
        "runtime = 'process'\nport = 9090\n\n[services.'extra.Extra']\nenabled = false\nport = 9090\n",
    )
    pytester.makeini("[pytest]\n")
    (pytester.path / "tests").mkdir()
    (pytester.path / "tests" / "test_served.py").write_text(SERVED)
    return pytester


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess(
        *PLUGIN, "-p", "no:cacheprovider", "-W", "error", "-s", *args, timeout=90
    )


def test_the_plugin_serves_what_thriftbox_toml_says(team: pytest.Pytester) -> None:
    result = run(team, "tests")  # started in a subfolder: the file is found in the rootdir
    result.assert_outcomes(passed=1)
    assert "SERVED ['users.Users']" in result.stdout.str()  # extra.Extra is disabled
    assert "USER grace" in result.stdout.str()  # the sample's shared stub for user 42


def test_ini_keys_and_flags_override_the_file(team: pytest.Pytester) -> None:
    (team.path / "tests" / "test_served.py").write_text(
        "def test_served(thriftbox):\n    print('SERVED', sorted(thriftbox.ports))\n"
    )
    team.makeini(f"[pytest]\nthriftbox_idl = {SAMPLE / 'idl'}\n")
    assert "SERVED ['users.Users']" in run(team).stdout.str()
    other = team.path / "other.thrift"
    other.write_text("service Other {\n  i32 ping()\n}\n")
    flags = ("--thriftbox-idl", str(SAMPLE / "idl"), "--thriftbox-idl", str(other))
    assert "SERVED ['other.Other', 'users.Users']" in run(team, *flags).stdout.str()


def test_a_bad_file_fails_the_fixture_with_its_line(team: pytest.Pytester) -> None:
    (team.path / "thriftbox.toml").write_text("[serve]\nidl = ['idl']\n")
    result = run(team)
    result.assert_outcomes(errors=1)
    assert (
        "thriftbox: thriftbox.toml:2:1: unknown key in [serve] 'idl' (hint: known: paths"
        in result.stdout.str()
    )
    assert "Traceback" not in result.stdout.str()
