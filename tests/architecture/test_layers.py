"""The import rules of ARCHITECTURE.md hold, and ``lint-imports`` (run by ``make test``) would catch a break."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

pytestmark = pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter is not installed")


def lint_imports(sandbox: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(sandbox)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def copy_of_the_package(tmp_path: Path) -> Path:
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(REPO / "sandbox" / "thriftbox", tmp_path / "sandbox" / "thriftbox")
    return tmp_path / "sandbox"


def add_import(module: Path, statement: str) -> None:
    module.write_text(module.read_text(encoding="utf-8") + f"\n{statement}  # noqa\n", encoding="utf-8")


def verdicts(stdout: str) -> dict[str, str]:
    """Contract name -> KEPT or BROKEN, from lint-imports' summary (whose long names wrap over lines)."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Analyzed "))
    end = next(i for i, line in enumerate(lines) if line.startswith("Contracts: "))
    summary = "\n".join(line for line in lines[start + 1 : end] if line.strip("-").strip())
    text = " ".join(summary.split())
    found = re.findall(r"(.+?) (KEPT|BROKEN)(?: \(\d+ ignored imports?\))?", text)
    return {name.strip(): verdict for name, verdict in found}


def test_the_package_keeps_every_contract(tmp_path: Path) -> None:
    result = lint_imports(copy_of_the_package(tmp_path), tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert set(verdicts(result.stdout).values()) == {"KEPT"}
    assert len(verdicts(result.stdout)) >= 10


BREAKS = [
    # the mock host reaching up into the supervisor
    ("host/mock.py", "import thriftbox.supervisor.session", "Layers:"),
    ("host/mock.py", "import thriftbox.supervisor.session", "The host never imports the supervisor"),
    # a runtime reaching into the host past its config
    ("runtime/process.py", "import thriftbox.host.process", "Runtimes reach the host only through"),
    # the wire layer depending on the IDL model
    ("wire/codec.py", "import thriftbox.idl.model", "The wire layer imports only errors"),
    # the serve-host contract depending on the host's journal, and on the project folder
    ("control/__init__.py", "import thriftbox.host.journal", "control (the serve-host contract)"),
    ("control/__init__.py", "import thriftbox.project.layout", "control, client and project are independent"),
    # a second importer of the Docker SDK
    ("runtime/process.py", "import docker", "docker (the SDK) is imported only by"),
]


def test_imports_against_the_rules_fail_lint_imports(tmp_path: Path) -> None:
    sandbox = copy_of_the_package(tmp_path)
    for module, statement, _ in BREAKS:
        add_import(sandbox / "thriftbox" / module, statement)
    result = lint_imports(sandbox, tmp_path)
    assert result.returncode != 0
    found = verdicts(result.stdout)
    for _, statement, contract in BREAKS:
        matching = [verdict for name, verdict in found.items() if name.startswith(contract)]
        assert matching == ["BROKEN"], f"{statement}: {contract} -> {matching}\n{result.stdout}"
    assert "KEPT" in found.values()  # the others still hold: the verdicts are per rule
