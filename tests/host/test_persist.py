"""host.persist writes the journal to the state folder cheaply: new entries appended, the file cut to its newest
lines without rendering them again, everything rewritten after a clear, and calls served while it renders."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from tests.host.test_journal import record
from thriftbox.host import persist
from thriftbox.host.journal import Journal
from thriftbox.host.persist import Persistence
from thriftbox.wire.app import Success


def ids_on_disk(folder: Path) -> list[int]:
    lines = (folder / persist.JOURNAL).read_text().splitlines()
    return [json.loads(line)["id"] for line in lines]


def test_the_file_keeps_the_newest_entries_and_a_restart_reads_them_back(tmp_path: Path) -> None:
    journal = Journal(capacity=50)
    saver = Persistence(tmp_path, journal)

    async def run() -> None:
        for _ in range(7):  # 7 writes of 20 new entries: the file passes twice the journal twice
            for _ in range(20):
                record(journal, "ping", Success(None))
            await saver.write(None)
            assert len(ids_on_disk(tmp_path)) <= 2 * journal.capacity

    asyncio.run(run())
    ids = ids_on_disk(tmp_path)
    assert ids == list(range(141 - len(ids), 141))  # the newest, in order, none lost in between
    assert len(ids) >= journal.capacity

    again = Journal(capacity=50)
    restored = Persistence(tmp_path, again).restore(_NoEngine())  # type: ignore[arg-type]
    assert restored is not None
    assert [e["id"] for e in again.entries()] == list(range(91, 141))
    assert again.last_id == 140


def test_after_a_clear_the_file_holds_what_the_journal_holds(tmp_path: Path) -> None:
    journal = Journal(capacity=50)
    saver = Persistence(tmp_path, journal)

    async def run() -> None:
        for _ in range(10):
            record(journal, "ping", Success(None))
        await saver.write(None)
        journal.clear()
        record(journal, "ping", Success(None))
        await saver.write(None)

    asyncio.run(run())
    assert ids_on_disk(tmp_path) == [11]


def test_calls_are_served_while_a_write_renders_entries(tmp_path: Path) -> None:
    journal = Journal(capacity=1000)
    saver = Persistence(tmp_path, journal)
    turns = 0

    async def other_calls() -> None:
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    async def run() -> None:
        for _ in range(persist.JOURNAL_PER_WRITE):
            record(journal, "ping", Success(None))
        task = asyncio.get_running_loop().create_task(other_calls())
        await asyncio.sleep(0)
        before = turns
        await saver.write(None)
        task.cancel()
        # the event loop ran other work between slices of the rendering, not only before and after it
        assert turns - before >= persist.JOURNAL_PER_WRITE // persist.SLICE - 1

    asyncio.run(run())


class _NoEngine:
    def restore(self, rules: object, positions: object, state: object) -> int:
        return 0
