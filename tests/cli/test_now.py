"""``serve --now`` pins the instant generated time is relative to: "future" fields come after it, and the same
call gives the same answer on any day."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path

from tests.serve_support import cli_env, serve, thriftbox_cmd


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        thriftbox_cmd(*args), cwd=cwd, env=cli_env(), capture_output=True, text=True, timeout=60
    )


def expiries(root: Path) -> list[int]:
    called = run(root, "call", "Ads.getAds", '{"request": {"userId": 7, "placement": "feed"}}')
    assert called.returncode == 0, called.stderr
    return [ad["expiresAt"] for ad in json.loads(called.stdout)]


def test_now_pins_generated_time(demo_project: Path) -> None:
    pinned = dt.datetime(2020, 3, 1, tzinfo=dt.UTC)
    with serve(demo_project, ["idl/"], "--now", "2020-03-01"):
        first = expiries(demo_project)
    ms = pinned.timestamp() * 1000
    assert first
    assert all(ms < e <= ms + 366 * 86_400_000 for e in first)  # after the pinned now, within a year of it
    with serve(demo_project, ["idl/"], "--now", "2020-03-01"):
        assert expiries(demo_project) == first  # the same answer on another run


def test_a_bad_now_is_a_usage_error(demo_project: Path) -> None:
    bad = run(demo_project, "serve", "idl/", "--runtime", "process", "--now", "last tuesday")
    assert bad.returncode == 2
    assert "--now" in bad.stderr
    assert "2026-01-31" in bad.stderr  # the hint shows the form
