"""serve --record --workers N: every call is recorded (each worker process would write the file with only the
calls it served, the last writer winning), so recording hosts run one process and say so."""

from __future__ import annotations

import time
from pathlib import Path

import yaml

from tests.proxy.support import SID, apache, client, project, provider
from tests.serve_support import serve


def test_recording_with_workers_keeps_every_call(tmp_path: Path) -> None:
    gen = apache(tmp_path)
    root = project(tmp_path / "p")
    recorded = root / "mocks" / "recorded" / f"{SID}.yaml"
    with (
        provider(tmp_path) as backend,
        serve(
            root,
            ["idl"],
            "--mocks",
            "mocks",
            "--workers",
            "2",
            "--proxy",
            f"{SID}=127.0.0.1:{backend}",
            "--record",
        ) as served,
    ):
        for pid in range(1, 7):  # one connection each: dealt to the processes in turn
            with client(gen, served.port(SID)) as people:
                assert people.getPerson(pid).name == f"person-{pid}"
        assert "--record: one process per mock" in served.output()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            doc = yaml.safe_load(recorded.read_text()) if recorded.exists() else None
            if doc and len(doc["methods"]["getPerson"]) == 6:
                break
            time.sleep(0.2)
    doc = yaml.safe_load(recorded.read_text())
    assert sorted(r["when"]["id"] for r in doc["methods"]["getPerson"]) == [1, 2, 3, 4, 5, 6]
