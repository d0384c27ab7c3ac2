"""The journal is bounded in bytes, not only in entries (issue 16, item 8: it kept full argument objects, and RSS
went from 42 to 270 MB in a fuzz run): large arguments are summarised, and the oldest entries go once the
arguments kept pass the budget."""

from __future__ import annotations

import tracemalloc

from tests.stubs.harness import USERS_IDL, catalog_for
from thriftbox.host.journal import ARGS_KEPT, Journal
from thriftbox.wire.app import Call, NoReply

CATALOG, CLASSES = catalog_for(USERS_IDL)
METHOD = CATALOG.services["users.Users"].methods["notify"]


def record(journal: Journal, query: str) -> None:
    args = CLASSES.args("users.Users", "notify")(message=query)
    call = Call(None, "notify", 1, args, "binary", "buffered", ("127.0.0.1", 1), 0.0, None, len(query) + 20)
    journal.record(
        service="users.Users",
        method="notify",
        args=args,
        reply=NoReply(),
        source="generated",
        rule=None,
        latency_ms=0.1,
        call=call,
        method_def=METHOD,
    )


def test_arguments_over_the_limit_are_summarised_not_kept() -> None:
    journal = Journal(CATALOG)
    record(journal, "small")
    record(journal, "x" * (ARGS_KEPT + 1))
    small, big = journal.entries()
    assert small["args"] == {"message": "small"}
    assert set(big["args"]) == {"_omitted"}
    assert f"{ARGS_KEPT + 21:,} bytes of arguments" in big["args"]["_omitted"]
    assert journal.bytes_kept == len("small") + 20


def test_the_oldest_entries_go_once_the_byte_budget_is_spent() -> None:
    journal = Journal(CATALOG, max_bytes=100_000)
    for i in range(50):
        record(journal, f"{i:05d}" + "q" * 10_000)
    entries = journal.entries()
    assert 5 <= len(entries) <= 10
    assert journal.bytes_kept <= 100_000
    assert entries[-1]["args"]["message"].startswith("00049")  # the newest stay
    assert entries[-1]["id"] == 50  # ids go on


def test_memory_stays_bounded_under_many_large_calls() -> None:
    journal = Journal(CATALOG, max_bytes=2_000_000)
    tracemalloc.start()
    try:
        for i in range(300):
            record(journal, str(i) * 20_000)  # up to 60 KB each: kept, until the budget says no
        current, _peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert current < 6_000_000, f"{current / 1e6:.1f} MB held for a 2 MB budget"
    assert journal.bytes_kept <= 2_000_000


def test_clearing_gives_the_budget_back() -> None:
    journal = Journal(CATALOG)
    record(journal, "y" * 1000)
    journal.clear("users.Users")
    assert journal.bytes_kept == 0
    record(journal, "z")
    journal.clear()
    assert journal.bytes_kept == 0


def test_settling_after_a_reload_keeps_the_json_and_lets_the_old_catalog_go() -> None:
    import asyncio
    import gc
    import weakref

    old_catalog, old_classes = catalog_for(USERS_IDL)
    journal = Journal(old_catalog)
    method = old_catalog.services["users.Users"].methods["notify"]
    args = old_classes.args("users.Users", "notify")(message="before the reload")
    call = Call(None, "notify", 1, args, "binary", "buffered", ("127.0.0.1", 9), 0.0, None, 30)
    journal.record(
        service="users.Users",
        method="notify",
        args=args,
        reply=NoReply(),
        source="generated",
        rule=None,
        latency_ms=0.1,
        call=call,
        method_def=method,
    )
    before = journal.entries()
    gone = weakref.ref(old_catalog)
    journal.catalog = CATALOG  # a reload swapped the definitions
    del old_catalog, old_classes, method, args, call
    assert asyncio.run(journal.settle()) == 1
    gc.collect()
    assert gone() is None  # nothing in the journal holds the old definitions any more
    assert journal.entries() == before
    assert journal.entries(client="127.0.0.1") == before
    assert journal.bytes_kept == 30
