"""The journal of a host with workers: the main process's entries and its workers', as one journal."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace

from thriftbox.control.client import HostClient
from thriftbox.control.messages import Cursor, JournalEntry, JournalPage, JournalQuery
from thriftbox.host.workers.pool import WorkerPool

log = logging.getLogger("thriftbox.host.workers")


async def merged_journal(
    own: Callable[[int], Awaitable[list[JournalEntry]]], pool: WorkerPool, query: JournalQuery
) -> JournalPage:
    """The journal of a host with workers: ``await own(since)`` gives the main process's entries.

    ``query.since`` is the ``cursor`` a previous answer gave: this host's part of a :class:`Cursor`, one
    position per process. Entry ids are made unique across the processes (``local id * processes + process
    index``); a worker started in place of one that died numbers its entries from a higher generation (see
    ``pool.JOURNAL_GENERATION``), so a cursor taken before still sees them."""
    sources = 1 + len(pool.workers)
    cursor = Cursor.decode(query.since).positions(0, sources)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + query.wait
    while True:
        found: list[tuple[int, list[JournalEntry]]] = [(0, await own(cursor[0]))]
        asked = [(i, url) for i, url in enumerate(pool.urls, start=1) if url is not None]
        answers = await asyncio.gather(
            *(_entries(url, replace(query, since=str(cursor[i]), wait=0.0)) for i, url in asked),
            return_exceptions=True,
        )
        for (i, _), answer in zip(asked, answers, strict=True):
            if isinstance(answer, BaseException):
                log.warning("worker %d's journal is not available: %s", i, answer)
            else:
                found.append((i, answer))
        entries: list[JournalEntry] = []
        for i, got in found:
            for e in got:
                cursor[i] = max(cursor[i], int(e["id"]))
                entries.append({**e, "id": int(e["id"]) * sources + i})
        if entries or loop.time() >= deadline:
            entries.sort(key=lambda e: (e["time"], e["id"]))
            return JournalPage(entries, Cursor.of_host(*cursor).encode())
        await asyncio.sleep(min(0.05, max(deadline - loop.time(), 0.0)))


async def _entries(url: str, query: JournalQuery) -> list[JournalEntry]:
    page = await asyncio.to_thread(HostClient(url).journal, query, timeout=10.0)
    return page.entries
