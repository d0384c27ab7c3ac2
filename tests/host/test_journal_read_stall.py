"""Reading a large journal does not hold up the calls a host serves (issue 16, item 5: reading 10,000 entries,
30 MiB, stalled a call to another service for 5.9 s). Entries are rendered and encoded off the event loop."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from thriftpy2.rpc import make_client

from tests.serve_support import Served, fresh_module, serve
from thriftbox.control.auth import TOKEN_HEADER

IDL = """
struct Note { 1: string title, 2: i64 at, 3: list<string> tags }
service Notes { i32 put(1: list<Note> notes) }
service Clock { i64 now() }
"""
ENTRIES = 10_000
NOTES = 25  # about 3 KB of JSON per entry: 30 MB of journal, as in the issue


def admin_get(served: Served, path: str, timeout: float = 120.0) -> bytes:
    """The raw answer: parsing 30 MB of JSON here would hold this process's GIL and stall the timed calls."""
    state = served.state()
    request = urllib.request.Request(state["admin_url"] + path, headers={TOKEN_HEADER: state["admin_token"]})
    with urllib.request.urlopen(request, timeout=timeout) as answer:
        return bytes(answer.read())


def test_a_journal_read_of_ten_thousand_entries_does_not_stall_other_calls(tmp_path: Path) -> None:
    (tmp_path / "idl").mkdir()
    (tmp_path / "idl" / "notes.thrift").write_text(IDL)
    module = fresh_module(tmp_path / "idl" / "notes.thrift")
    with serve(tmp_path, ["idl"]) as served:
        notes = make_client(module.Notes, "127.0.0.1", served.port("notes.Notes"), timeout=30_000)
        clock = make_client(module.Clock, "127.0.0.1", served.port("notes.Clock"), timeout=30_000)
        try:
            batch = [
                module.Note(title=f"note {i}", at=1_700_000_000_000 + i, tags=["a", "bb"])
                for i in range(NOTES)
            ]
            for _ in range(ENTRIES):
                notes.put(batch)
            clock.now()
            read: dict[str, Any] = {}

            def read_journal() -> None:
                t0 = time.perf_counter()
                read["page"] = admin_get(served, "/journal?service=notes.Notes")
                read["seconds"] = time.perf_counter() - t0

            reader = threading.Thread(target=read_journal)
            worst = 0.0
            reader.start()
            while reader.is_alive():
                t0 = time.perf_counter()
                clock.now()
                worst = max(worst, time.perf_counter() - t0)
            reader.join()
        finally:
            notes.close()
            clock.close()
    page = json.loads(read["page"])
    assert len(page["entries"]) > ENTRIES * 0.9  # the ring keeps 10,000: the clock's calls count too
    last = page["entries"][-1]["args"]["notes"]
    assert len(last) == NOTES
    assert last[-1] == {
        "title": f"note {NOTES - 1}",
        "at": 1_700_000_000_000 + NOTES - 1,
        "tags": ["a", "bb"],
    }
    took = f"{read['seconds']:.2f} s"
    print(f"\njournal read of {ENTRIES} entries: {took}; slowest other call meanwhile {worst * 1000:.0f} ms")
    assert worst < 0.5, f"a call waited {worst:.2f} s while the journal was read (target: 100 ms, see bench)"
