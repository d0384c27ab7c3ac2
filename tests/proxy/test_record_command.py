"""``thriftbox record --target --service --duration``: a recording proxy for a while, then a summary."""

from __future__ import annotations

import re
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from tests.proxy.support import SID, apache, client, project, provider, wait_port
from tests.serve_support import cli_env, free_base_port, thriftbox_cmd


@contextmanager
def recording(root: Path, target: str, duration: str) -> Iterator[tuple[int, list[str]]]:
    """``thriftbox record`` of People from ``target`` for ``duration``, run as a user runs it; yields the port it
    serves on (once it listens) and its output, complete once the block ends (the command must exit 0)."""
    cmd = ["record", "idl", "--target", target, "--service", SID, "--duration", duration]
    proc = subprocess.Popen(
        thriftbox_cmd(*cmd, "--port", str(free_base_port())),
        cwd=root,
        env=cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(proc.stdout or []), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any("recording" in line for line in output):
            time.sleep(0.1)
        port = int(next(line for line in output if "recording" in line).split(" on port ")[1].split()[0])
        wait_port(port)
        yield port, output
        assert proc.wait(timeout=60) == 0
        reader.join(5)
    finally:
        proc.kill()
        proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()


def test_record_serves_one_service_then_prints_a_summary(tmp_path: Path) -> None:
    gen = apache(tmp_path)
    root = project(tmp_path / "p")
    (root / "thriftbox.toml").write_text('[serve]\nredact = ["mail", "token"]\n')  # the words to redact
    with (
        provider(tmp_path) as backend,
        recording(root, f"127.0.0.1:{backend}", "6s") as (port, output),
        client(gen, port) as people,
    ):
        for pid in (1, 2, 2, 3):
            assert people.getPerson(pid).name == f"person-{pid}"
        assert people.add(1, 1) == 2
    text = "".join(output)

    assert re.search(r"^  \d+ s: 5 call\(s\) recorded$", text, re.M), text  # progress as the calls came
    assert f"recorded 5 call(s) of {SID}, 2 method(s)" in text, text
    assert "getPerson: 4 call(s), 3 distinct" in text
    written = root / "mocks" / "recorded" / f"{SID}.yaml"
    assert f"file written: {written.relative_to(root)}" in text or f"file written: {written}" in text
    doc = yaml.safe_load(written.read_text())
    assert sorted(doc["methods"]) == ["add", "getPerson"]
    person = doc["methods"]["getPerson"][0]["return"]
    assert person["name"] == "person-1"
    assert person["email"] == person["apiToken"] == "<redacted>"


def test_calls_the_backend_did_not_answer_are_counted_apart(tmp_path: Path) -> None:
    from thrift.Thrift import TApplicationException

    gen = apache(tmp_path)
    root = project(tmp_path / "p")
    with socket.socket() as s:  # a port nothing listens on: bound, never listened, closed
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    with (
        recording(root, f"127.0.0.1:{dead}", "4s") as (port, output),
        client(gen, port) as people,
        pytest.raises(TApplicationException, match="connection refused"),
    ):
        people.getPerson(1)
    text = "".join(output)
    assert f"recorded 0 call(s) of {SID}" in text, text
    assert "1 call(s) failed at the backend, not recorded (thriftbox journal)" in text
    assert "no file written" in text
