"""The journal of a host with workers: the main process's entries and its workers', as one journal."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from thriftbox.control.http import request_json
from thriftbox.host.workers.pool import WorkerPool

log = logging.getLogger("thriftbox.host.workers")


async def merged_journal(
    own: Callable[[int], list[dict[str, Any]]], pool: WorkerPool, query: dict[str, str]
) -> dict[str, Any]:
    """The journal of a host with workers: ``own(since)`` gives the main process's entries.

    ``since`` is the ``cursor`` a previous answer gave: one position per process, joined by ``.``. Entry ids
    are made unique across the processes (``local id * processes + process index``); a worker started in place
    of one that died numbers its entries from a higher generation (see ``pool.JOURNAL_GENERATION``), so a
    cursor taken before still sees them."""
    sources = 1 + len(pool.workers)
    cursor = [int(x) for x in (query.get("since") or "").split(".") if x.isdigit()]
    cursor += [0] * (sources - len(cursor))
    params = {k: v for k, v in query.items() if k in ("service", "method", "client") and v}
    wait = min(float(query.get("wait") or 0), 60.0)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while True:
        found: list[tuple[int, list[dict[str, Any]]]] = [(0, own(cursor[0]))]
        asked = [(i, url) for i, url in enumerate(pool.urls, start=1) if url is not None]
        answers = await asyncio.gather(
            *(_entries(url, {**params, "since": cursor[i]}) for i, url in asked), return_exceptions=True
        )
        for (i, _), answer in zip(asked, answers, strict=True):
            if isinstance(answer, BaseException):
                log.warning("worker %d's journal is not available: %s", i, answer)
            else:
                found.append((i, answer))
        entries: list[dict[str, Any]] = []
        for i, got in found:
            for e in got:
                cursor[i] = max(cursor[i], int(e["id"]))
                entries.append({**e, "id": int(e["id"]) * sources + i})
        if entries or loop.time() >= deadline:
            entries.sort(key=lambda e: (e["time"], e["id"]))
            return {"entries": entries, "cursor": ".".join(map(str, cursor))}
        await asyncio.sleep(min(0.05, max(deadline - loop.time(), 0.0)))


async def _entries(url: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    answer = await asyncio.to_thread(request_json, f"{url}/journal?{urlencode(params)}", "GET", None, 10.0)
    return list(answer["entries"])
