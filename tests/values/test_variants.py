"""Plain answers come from a per-method pool of generated variants, shaped to each request: varied,
reproducible and cheap, and shaping one answer never changes another."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from thriftbox.idl import load_catalog
from thriftbox.idl.classes import Classes
from thriftbox.values import ValueGenerator, to_json

DEMO = Path(__file__).resolve().parents[2] / "idl"


def demo(variants: int = 256) -> tuple[Any, Classes, ValueGenerator]:
    catalog = load_catalog([DEMO])
    classes = Classes(catalog)
    return catalog, classes, ValueGenerator(catalog, classes, seed=3, variants=variants)


def test_distinct_calls_get_varied_answers_that_follow_the_request() -> None:
    _, classes, gen = demo()
    users = [
        gen.answer("users.Users", "getUser", classes.args("users.Users", "getUser")(id=i)) for i in range(400)
    ]
    assert [u.id for u in users] == list(range(400))  # each answer is about the user asked for
    people = {(u.firstName, u.lastName, u.email) for u in users}
    assert len(people) > 150  # 400 draws from 256 variants: most of them seen
    assert len(gen._pool) <= 256  # the pool is bounded whatever the number of distinct calls


def test_the_same_call_gets_the_same_answer_in_a_new_generator() -> None:
    catalog, classes, gen = demo()
    args = classes.args("feed.Feed", "getHomeFeed")(userId=7, limit=2, cursor="abc")
    first = to_json(
        catalog,
        catalog.services["feed.Feed"].methods["getHomeFeed"].returns,
        gen.answer("feed.Feed", "getHomeFeed", args),
    )
    _, _, again = demo()
    second = to_json(
        catalog,
        catalog.services["feed.Feed"].methods["getHomeFeed"].returns,
        again.answer("feed.Feed", "getHomeFeed", args),
    )
    assert first == second


def test_shaping_an_answer_leaves_the_shared_variant_alone() -> None:
    _, classes, gen = demo(variants=1)  # every call shares one generated answer
    make = classes.args("feed.Feed", "getHomeFeed")
    long_page = gen.answer("feed.Feed", "getHomeFeed", make(userId=1, limit=100))
    short_page = gen.answer("feed.Feed", "getHomeFeed", make(userId=2, limit=1))
    again = gen.answer("feed.Feed", "getHomeFeed", make(userId=3, limit=100))
    assert len(short_page.entries) <= 1
    assert len(long_page.entries) > 1  # (seed 3 makes a page of several entries)
    assert len(again.entries) == len(long_page.entries)  # the cut did not shorten the shared lists
    assert (long_page.userId, short_page.userId, again.userId) == (1, 2, 3)


def test_a_stub_override_keeps_the_plain_answer_for_the_fields_it_leaves_out() -> None:
    catalog, classes, gen = demo()
    args = classes.args("users.Users", "getUser")(id=5)
    user_t = catalog.services["users.Users"].methods["getUser"].returns
    plain = to_json(catalog, user_t, gen.answer("users.Users", "getUser", args))
    fixed = to_json(catalog, user_t, gen.answer("users.Users", "getUser", args, {"handle": "ada"}))
    assert fixed["handle"] == "ada"
    assert {k: v for k, v in fixed.items() if k != "handle"} == {
        k: v for k, v in plain.items() if k != "handle"
    }


def test_the_specialized_answerer_gives_what_answer_gives_for_every_demo_method() -> None:
    catalog, classes, gen = demo()
    _, _, fresh = demo()  # answerer() first, from cold pools: its own first uses fill them the same way
    checked = 0
    for svc, m in catalog.iter_methods():
        args_cls = classes.args(svc.id, m.name)
        fast = fresh.answerer(svc.id, m.name)
        for i in range(40):
            args = args_cls()
            for a in m.args:  # scalars vary with i, lists take the general path; the rest stay None
                value = {"i64": i, "i32": i % 7, "i16": i, "string": f"s{i}", "bool": i % 2 == 0, "list": []}
                setattr(args, a.name, value.get(a.type.kind.value))
            want = to_json(catalog, m.returns, gen.answer(svc.id, m.name, args))
            assert to_json(catalog, m.returns, fast(args)) == want, f"{svc.id}.{m.name}({i})"
            assert to_json(catalog, m.returns, fast(args)) == want  # again: now from the pool, not answer()
            checked += 1
    assert checked > 400
