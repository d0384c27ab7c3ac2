"""A misspelt ``faker`` annotation is reported the same way by ``check`` and by ``serve``: at the annotation,
with a did-you-mean, exit 2, before any mock starts."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.serve_support import cli_env, free_base_port, thriftbox_cmd

IDL = 'struct A {\n  1: string handle (faker = "user_nam"),\n}\nservice S { A get() }\n'


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        thriftbox_cmd(*args), cwd=cwd, env=cli_env(), capture_output=True, text=True, timeout=90
    )


def test_check_and_serve_report_a_misspelt_faker_provider_alike(tmp_path: Path) -> None:
    (tmp_path / "idl").mkdir()
    (tmp_path / "idl" / "a.thrift").write_text(IDL)
    checked = run(tmp_path, "check", "idl")
    served = run(
        tmp_path, "serve", "idl", "--runtime", "process", "--no-watch", "--port", str(free_base_port())
    )
    for result in (checked, served):
        assert result.returncode == 2, result.stderr
        assert "idl/a.thrift:2:3:" in result.stderr
        assert "did you mean user_name" in result.stderr
        assert "Traceback" not in result.stderr
    assert "mock host exited" not in served.stderr  # stopped before any host started
    assert not (tmp_path / ".thriftbox" / "state.json").exists()
