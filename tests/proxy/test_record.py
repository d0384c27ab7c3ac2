"""serve --proxy --record writes stub files; serve without --proxy replays them, latency included."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import yaml

from tests.proxy.support import SID, apache, client, journal, project, provider
from tests.serve_support import serve


def quantile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    pos = (len(ordered) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def reloads(text: str) -> int:
    return len(re.findall(r"reloaded", text))


def test_record_then_replay_without_the_provider(tmp_path: Path) -> None:
    gen = apache(tmp_path)
    root = project(tmp_path / "p")
    recorded = root / "mocks" / "recorded" / f"{SID}.yaml"
    answers: dict[int, object] = {}
    with (
        provider(tmp_path) as backend,
        serve(
            root, ["idl"], "--mocks", "mocks", "--watch", "--proxy", f"{SID}=127.0.0.1:{backend}", "--record"
        ) as served,
    ):
        with client(gen, served.port(SID), "compact", "framed") as people:
            for i in range(120):
                pid = 1 + i % 6
                answers[pid] = people.getPerson(pid)
            with pytest.raises(gen.ttypes.NotFound):
                people.getPerson(7)
            assert people.add(2, 3) == 5
            assert people.greet("ana", 2) == ["hello ana #0", "hello ana #1"]
            assert [people.counter("a") for _ in range(3)] + [people.counter("b")] == [1, 2, 3, 1]
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and "counter" not in (
            recorded.read_text() if recorded.exists() else ""
        ):
            time.sleep(0.1)
        time.sleep(2.0)  # the reload the write caused is over
        settled = reloads(served.output())
        time.sleep(3.0)
        assert reloads(served.output()) == settled, "writing the recording must not cause a reload loop"
    doc = yaml.safe_load(recorded.read_text())
    assert doc["service"] == SID
    rules = doc["methods"]["getPerson"]
    assert len(rules) == 7  # identical calls once: ids 1..6 and 7
    by_id = {r["when"]["id"]: r for r in rules}
    assert by_id[3]["return"]["name"] == "person-3"
    assert by_id[3]["return"]["apiToken"] == "<redacted>"  # a secret-looking field
    assert by_id[7]["throw"] == {"NotFound": {"message": "no person 7", "id": 7}}
    counters = {r["when"]["name"]: r for r in doc["methods"]["counter"]}
    assert counters["a"]["sequence"] == [{"return": 1}, {"return": 2}, {"return": 3}]
    assert counters["b"]["return"] == 1
    latency = by_id[3]["latency_ms"]
    assert 5 < latency["p50"] < latency["p90"]

    # the provider is gone: serve replays the recording
    with serve(root, ["idl"], "--mocks", "mocks") as served, client(gen, served.port(SID)) as people:
        for pid in range(1, 7):
            got = people.getPerson(pid)
            assert (got.id, got.name, got.email) == (answers[pid].id, answers[pid].name, answers[pid].email)
            assert got.apiToken == "<redacted>"
        with pytest.raises(gen.ttypes.NotFound) as missing:
            people.getPerson(7)
        assert missing.value.message == "no person 7"
        assert people.add(2, 3) == 5
        # the same call answered differently: replayed in the order the provider answered, the last one repeated
        assert [people.counter("a") for _ in range(4)] == [1, 2, 3, 3]
        assert people.counter("b") == 1
        assert people.getPerson(1000).name != "person-1000"  # never recorded: generated
        since = journal(served)[-1]["id"]
        for i in range(200):
            people.getPerson(1 + i % 6)
        # the mock's own latency of each call, as the journal measured it (the recording measured the backend's
        # the same way: without this test's client in it, which a busy machine slows down)
        replayed = [e["latency_ms"] for e in journal(served) if e["id"] > since]
    assert len(replayed) == 200
    for q, key in ((0.5, "p50"), (0.9, "p90")):
        assert quantile(replayed, q) == pytest.approx(latency[key], rel=0.2), (key, quantile(replayed, q))
