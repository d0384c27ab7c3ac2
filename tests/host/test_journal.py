"""The call journal: JSON-ready entries in a bounded ring, filtered reads, and waiting for new calls."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from tests.stubs.harness import USERS_IDL, catalog_for
from thriftbox.host.journal import Journal
from thriftbox.idl.classes import Classes
from thriftbox.idl.model import Catalog
from thriftbox.wire.app import AppError, Call, Fault, NoReply, Raise, Reply, Success

CATALOG, CLASSES = catalog_for(USERS_IDL)


def record(
    journal: Journal,
    method: str,
    reply: Reply,
    *,
    service: str = "users.Users",
    catalog: Catalog = CATALOG,
    classes: Classes = CLASSES,
    peer: tuple[str, int] = ("127.0.0.1", 50123),
    **args: Any,
) -> dict[str, Any]:
    payload = classes.args(service, method)(**args)
    call = Call(None, method, 9, payload, "compact", "framed", peer, 0.0)
    journal.record(
        service=service,
        method=method,
        args=payload,
        reply=reply,
        source="stub",
        rule="mocks/users.yaml:4",
        latency_ms=1.23456,
        call=call,
        method_def=catalog.services[service].methods[method],
    )
    return journal.entries()[-1]


def user(**fields: Any) -> Any:
    return CLASSES.struct("users.User")(**fields)


def test_an_entry_has_everything_about_the_call_in_json_form() -> None:
    journal = Journal(CATALOG)
    entry = record(journal, "getUser", Success(user(id=42, name="Ada", role=1, avatar=b"\x00\x01")), id=42)
    assert json.loads(json.dumps(entry)) == entry  # JSON-ready as it is
    assert entry["id"] == 1
    assert entry["time"] > 0
    assert (entry["service"], entry["method"], entry["args"]) == ("users.Users", "getUser", {"id": 42})
    assert entry["reply"] == {
        "kind": "success",
        "value": {"id": 42, "name": "Ada", "role": "ADMIN", "avatar": "AAE="},
    }
    assert (entry["source"], entry["rule"], entry["latency_ms"]) == ("stub", "mocks/users.yaml:4", 1.235)
    assert (entry["client"], entry["protocol"], entry["framing"], entry["seqid"]) == (
        "127.0.0.1:50123",
        "compact",
        "framed",
        9,
    )


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (
            Raise("notFound", CLASSES.struct("users.NotFound")(message="gone", id=4)),
            {
                "kind": "exception",
                "field": "notFound",
                "type": "NotFound",
                "value": {"message": "gone", "id": 4},
            },
        ),
        (AppError(6, "boom"), {"kind": "app_error", "type": "INTERNAL_ERROR", "message": "boom"}),
        (Fault("stall", 2.0), {"kind": "fault", "fault": "stall", "seconds": 2.0}),
        (NoReply(), {"kind": "oneway"}),
    ],
)
def test_every_kind_of_reply_is_recorded(reply: Reply, expected: dict[str, Any]) -> None:
    assert record(Journal(CATALOG), "getUser", reply, id=4)["reply"] == expected


def test_a_value_that_does_not_fit_its_type_is_still_recorded() -> None:
    entry = record(Journal(CATALOG), "count", Success(object()), tags=["a"])
    assert entry["reply"]["value"].startswith("<object")
    assert entry["args"] == {"tags": ["a"]}


def test_entries_filter_by_service_method_and_since_id() -> None:
    journal = Journal(CATALOG)
    record(journal, "getUser", Success(user()), id=1)
    record(journal, "ping", Success(None))
    record(journal, "status", Success("ok"), service="users.Orders", orderId=3)
    record(journal, "getUser", Success(user()), id=2)
    assert [e["id"] for e in journal.entries()] == [1, 2, 3, 4]
    assert [e["id"] for e in journal.entries(method="getUser")] == [1, 4]
    assert [e["id"] for e in journal.entries(service="Orders")] == [3]  # by name or by id
    assert [e["id"] for e in journal.entries(service="users.Users", since_id=2)] == [4]
    assert journal.entries(since_id=4) == []


def test_the_ring_keeps_the_newest_entries_and_ids_never_repeat() -> None:
    journal = Journal(CATALOG, capacity=3)
    for i in range(5):
        record(journal, "getUser", Success(user()), id=i)
    assert [e["id"] for e in journal.entries()] == [3, 4, 5]
    assert [e["id"] for e in journal.entries(since_id=1)] == [3, 4, 5]
    journal.clear()
    assert journal.entries() == []
    assert journal.last_id == 5
    assert record(journal, "ping", Success(None))["id"] == 6


def test_wait_returns_new_entries_as_they_come_and_times_out() -> None:
    journal = Journal(CATALOG)

    async def scenario() -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
        waiter = asyncio.ensure_future(journal.wait(0, timeout=5))
        await asyncio.sleep(0.01)
        assert not waiter.done()
        record(journal, "ping", Success(None))
        first = await waiter
        filtered = asyncio.ensure_future(journal.wait(first[-1]["id"], timeout=5, method="getUser"))
        await asyncio.sleep(0)
        record(journal, "ping", Success(None))  # does not match the filter: keep waiting
        await asyncio.sleep(0.01)
        assert not filtered.done()
        record(journal, "getUser", Success(user()), id=1)
        second = await filtered
        nothing = await journal.wait(journal.last_id, timeout=0.05)
        return first, second, nothing

    first, second, nothing = asyncio.run(scenario())
    assert [e["method"] for e in first] == ["ping"]
    assert [(e["id"], e["method"]) for e in second] == [(3, "getUser")]
    assert nothing == []


def test_follow_yields_entries_from_now_on() -> None:
    journal = Journal(CATALOG)
    record(journal, "ping", Success(None))

    async def scenario() -> list[int]:
        seen: list[int] = []

        async def consume() -> None:
            async for entry in journal.follow():
                seen.append(entry["id"])
                if len(seen) == 2:
                    return

        task = asyncio.ensure_future(consume())
        await asyncio.sleep(0)
        for _ in range(2):
            record(journal, "ping", Success(None))
            await asyncio.sleep(0)
        await asyncio.wait_for(task, 5)
        return seen

    assert asyncio.run(scenario()) == [2, 3]


def test_entries_filtered_by_client_keep_one_ip_or_one_connection() -> None:
    journal = Journal(CATALOG)
    for ip, port in (("127.0.0.3", 4000), ("127.0.0.30", 4001), ("127.0.0.3", 4002), ("127.0.0.4", 4003)):
        record(journal, "getUser", Success(user(id=port)), peer=(ip, port), id=port)

    assert [e["client"] for e in journal.entries(client="127.0.0.3")] == ["127.0.0.3:4000", "127.0.0.3:4002"]
    assert [e["id"] for e in journal.entries(client="127.0.0.3", since_id=1)] == [3]
    assert [e["client"] for e in journal.entries(client="127.0.0.3:4002")] == ["127.0.0.3:4002"]
    assert journal.entries(client="127.0.0.5") == []
    assert len(journal.entries()) == 4


def test_waiting_for_one_clients_calls_ignores_the_others() -> None:
    async def scenario() -> list[dict[str, Any]]:
        journal = Journal(CATALOG)
        waiter = asyncio.ensure_future(journal.wait(0, 5.0, client="127.0.0.3"))
        await asyncio.sleep(0.01)
        record(journal, "getUser", Success(user(id=1)), peer=("127.0.0.4", 1), id=1)
        await asyncio.sleep(0.01)
        assert not waiter.done()
        record(journal, "getUser", Success(user(id=2)), peer=("127.0.0.3", 2), id=2)
        return await waiter

    assert [e["args"] for e in asyncio.run(scenario())] == [{"id": 2}]
