"""``thriftbox probe HOST:PORT``, the health check of exported mocks: 0 when a real Thrift call is answered."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

from tests.export.support import EXAMPLE
from tests.serve_support import cli_env, serve, thriftbox_cmd


def probe(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        thriftbox_cmd("probe", *args), env=cli_env(), capture_output=True, text=True, timeout=30
    )


def test_probe_answers_zero_for_a_mock_and_one_for_anything_else(tmp_path: Path) -> None:
    with serve(tmp_path, [str(EXAMPLE / "idl")]) as served:
        assert probe(f"127.0.0.1:{served.port('users.Users')}").returncode == 0
    with socket.socket() as listener:  # accepts, never answers: not a Thrift server
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        assert probe(f"127.0.0.1:{listener.getsockname()[1]}", "--timeout", "0.5").returncode == 1
    assert probe("127.0.0.1:notaport").returncode == 2
