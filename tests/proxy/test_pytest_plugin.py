"""The pytest plugin proxies as thriftbox.toml says, and its recorded calls carry `proxied` and `violations`."""

from __future__ import annotations

import importlib.metadata
import os
from pathlib import Path

import pytest

from tests.proxy.support import IDL, SID, provider
from tests.serve_support import free_base_port

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[2]
INSTALLED = any(
    ep.value == "thriftbox.pytest.plugin" for ep in importlib.metadata.entry_points(group="pytest11")
)
PLUGIN = [] if INSTALLED else ["-p", "thriftbox.pytest.plugin"]
TEST = """
def test_proxied(thriftbox):
    people = thriftbox.client("People")
    assert people.getPerson(4).name == "person-4"
    assert people.broken(5).name is None
    [got, broken] = thriftbox.calls("People")
    assert got.source == "proxy" and got.violations == ()
    assert got.proxied["backend"] == "127.0.0.1:%d" and got.proxied["latency_ms"] > 0
    assert any("broken.success.name" in v for v in broken.violations), broken.violations
    print("PROXIED OK")
"""


def test_the_fixture_proxies_and_shows_what_the_backend_did(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    os.environ.setdefault("PYTHONPATH", "")
    pytester.makefile(".thrift", people=IDL.read_text())
    pytester.makeini("[pytest]\n")
    with provider(tmp_path) as backend:
        pytester.makefile(
            ".toml",
            thriftbox=f"[serve]\npaths = ['people.thrift']\nruntime = 'process'\nport = {free_base_port()}\n\n"
            f'[services."{SID}"]\nproxy = "127.0.0.1:{backend}"\n',
        )
        pytester.makepyfile(test_proxied=TEST % backend)
        result = pytester.runpytest_subprocess(
            *PLUGIN, "-p", "no:cacheprovider", "-W", "error", "-s", timeout=90
        )
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*PROXIED OK*"])
