"""Seeded fuzzing of a real `thriftbox serve` in CI (issue 16): inputs of six families (random bytes; mutated
binary, compact, JSON, framed and HTTP messages), each on its own connection, while a well-behaved client calls
the same mock. Nothing crashes or restarts, no traceback reaches a log, no good call fails. The million-input
run is bench/fuzz.py."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tests.fuzzing import FAMILIES, FIXTURE_IDL, fuzz, rss_kb
from tests.serve_support import fresh_module, serve
from thriftbox.client.probe import probe

PER_FAMILY = int(os.environ.get("THRIFTBOX_FUZZ_PER_FAMILY", "5000"))
SEED = 16


def test_fuzzed_inputs_close_only_their_connection(tmp_path: Path) -> None:
    shutil.copytree(FIXTURE_IDL, tmp_path / "idl")
    module = fresh_module(tmp_path / "idl" / "users.thrift")
    with serve(tmp_path, ["idl"]) as served:
        port = served.port("users.Users")
        report = fuzz(module, port, PER_FAMILY, seed=SEED)
        assert probe("127.0.0.1", port, timeout=2)
        output = served.output()
        pid = int(served.state()["pid"])
        rss = rss_kb(pid)
    host_log = (tmp_path / ".thriftbox" / "logs" / "host.log").read_text(errors="replace")
    print(
        f"\n{report.inputs} inputs in {report.seconds:.1f} s ({report.per_second:.0f}/s), "
        f"{report.good_calls} good calls beside, serve + host RSS {rss / 1024:.0f} MB, host log {len(host_log)} bytes"
    )
    assert report.inputs == PER_FAMILY * len(FAMILIES)
    assert report.failed_good_calls == []
    assert report.good_calls > 0
    assert "mock host exited" not in output  # no crash, no restart
    assert "Traceback" not in output
    assert "Traceback" not in host_log
