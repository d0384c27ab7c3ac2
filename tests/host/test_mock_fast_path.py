"""The mock's synchronous fast path (``Binding.answer``) answers exactly as ``MockApp.handle`` would: the same
value and the same journal entry; any rule for the method sends calls back through ``handle``."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from thriftbox.host.config import HostConfig
from thriftbox.host.mock import MockApp
from thriftbox.host.process import MockHost
from thriftbox.wire.app import NOT_NOW, Call, Success

IDL = """
struct User {
  1: required i64 id
  2: string email
  3: list<string> tags
}
service Users {
  User getUser(1: i64 id, 2: i32 limit)
  oneway void poke(1: i64 id)
  void ping()
}
"""


def both_ways(
    tmp_path: Path, rule: dict[str, Any] | None = None
) -> tuple[object, object, list[dict[str, Any]]]:
    (tmp_path / "users.thrift").write_text(IDL)

    async def scenario() -> tuple[object, object, list[dict[str, Any]]]:
        host = MockHost(HostConfig(idl_dirs=(tmp_path,), services={"users.Users": 0}))
        await host.start()
        try:
            app = host.servers["users.Users"].app
            assert isinstance(app, MockApp)
            assert host.engine is not None
            if rule is not None:
                host.engine.add_rule("users.Users", "getUser", rule)
            binding = app.bind(None, "getUser")
            assert binding is not None
            assert binding.answer is not None
            assert app.bind(None, "poke").answer is None  # type: ignore[union-attr]  # oneway: never fast
            assert app.bind(None, "ping").answer is None  # type: ignore[union-attr]  # nor void

            def call() -> Call:
                args = binding.args_cls(id=7, limit=2)
                return Call(None, "getUser", 1, args, "binary", "buffered", ("127.0.0.9", 4000), 0.0)

            binding.answer(call())  # the first call of a variant generates it; the next one takes the pool's
            host.journal.clear()
            fast = binding.answer(call())
            slow = await app.handle(call())
            return fast, slow, host.journal.entries()
        finally:
            await host.close()

    return asyncio.run(scenario())


def test_the_fast_path_gives_the_answer_and_journal_entry_of_handle(tmp_path: Path) -> None:
    fast, slow, entries = both_ways(tmp_path)
    assert isinstance(slow, Success)
    assert fast == slow.value
    assert fast.id == 7  # type: ignore[attr-defined]  # shaped to the request: id echoed ...
    assert len(fast.tags or []) <= 2  # type: ignore[attr-defined]  # ... and lists cut to the limit
    assert len(entries) == 2
    ignore = ("id", "time", "latency_ms")
    first, second = ({k: v for k, v in e.items() if k not in ignore} for e in entries)
    assert first == second
    assert first["source"] == "generated"
    assert first["client"] == "127.0.0.9:4000"


def test_a_rule_for_the_method_takes_its_calls_off_the_fast_path(tmp_path: Path) -> None:
    fast, slow, entries = both_ways(tmp_path, {"return": {"email": "stub@example.com"}})
    assert fast is NOT_NOW
    assert isinstance(slow, Success)
    assert slow.value.email == "stub@example.com"  # type: ignore[attr-defined]
    assert len(entries) == 1  # only handle's call was journaled
