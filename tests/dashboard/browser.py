"""Support for the dashboard's browser tests (no tests here): Debian's Chromium driven by its chromedriver.

:func:`require_browser` is the one place that decides: without Chromium, its driver or Selenium the test skips,
saying why; under THRIFTBOX_REQUIRE_DOCKER=1 (CI, which installs them with the Docker engine) it fails instead.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.docker_support import REQUIRE_ENV, docker_required

CHROMIUM = "/usr/bin/chromium"
DRIVER = "/usr/bin/chromedriver"
FLAGS = (
    "--no-sandbox",
    "--headless=new",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1280,900",
)


def require_browser() -> None:
    """Skip the calling test without a browser to drive; fail it when the run requires one."""
    missing = [p for p in (CHROMIUM, DRIVER) if not Path(p).exists()]
    if importlib.util.find_spec("selenium") is None:
        missing.append("the selenium package (pip install -e '.[dev]')")
    if not missing:
        return
    message = f"no browser to drive: missing {', '.join(missing)}"
    if docker_required():
        pytest.fail(f"{message}, and {REQUIRE_ENV}=1 requires it (apt-get install chromium chromium-driver)")
    pytest.skip(
        f"{message}; install Debian's chromium and chromium-driver to run the dashboard's browser tests"
    )


def start_browser(profile: Path) -> Any:
    """A headless Chromium with a fresh profile in ``profile``, its console kept for ``get_log('browser')``."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=Service(executable_path=shutil.which(DRIVER) or DRIVER))
