"""Generated time is relative to now: past is past, future is future, just-created is recent; stable all day."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

from tests.stubs.harness import REPO_MOCKS, catalog_for
from tests.values.test_models import I32, I64, STRING, Model, f
from thriftbox.idl.classes import Classes
from thriftbox.idl.model import Kind, TypeRef
from thriftbox.stubs import StubEngine, load_stubs
from thriftbox.values import ValueGenerator, to_json
from thriftbox.values.generator import today_utc
from thriftbox.wire.app import Success

DEMO = Path(__file__).resolve().parents[2] / "idl"
DAY_MS = 86_400_000


def now_ms() -> int:
    return int(dt.datetime.now(dt.UTC).timestamp() * 1000)


def model() -> tuple[Model, TypeRef]:
    m = Model()
    t = m.struct(
        "Invoice",
        f(1, "expiresAt", I64),
        f(2, "dueDate", STRING),
        f(3, "validUntil", I32),
        f(4, "deadline", STRING),
        f(5, "dueDate2", I64),
        f(6, "createdAt", I64),
        f(7, "issueDate", STRING),
    )
    return m, t


def test_future_fields_are_after_now_and_past_ones_before() -> None:
    m, t = model()
    gen = ValueGenerator(m.catalog, m.classes())
    now, today = now_ms(), dt.datetime.now(dt.UTC).date()
    for i in range(1000):
        v = gen.value(t, random.Random(i))
        assert v.expiresAt > now
        assert v.validUntil > now // 1000
        assert dt.datetime.fromisoformat(v.deadline.replace("Z", "+00:00")).timestamp() * 1000 > now
        assert dt.date.fromisoformat(v.dueDate) > today  # a date, as the doc shows it: YYYY-MM-DD
        assert v.dueDate2 > now
        assert v.dueDate2 % DAY_MS == 0  # an i64 date is that day's midnight
        assert now - 2 * 366 * DAY_MS <= v.createdAt <= now
        assert dt.date.fromisoformat(v.issueDate) <= today


def test_what_a_create_method_returns_was_created_just_now() -> None:
    catalog, classes = catalog_for(DEMO)
    gen = ValueGenerator(catalog, classes)
    now = now_ms()
    for i in range(200):
        args = classes.args("users.Users", "createUser")(
            user=classes.struct("users.NewUser")(
                email=f"u{i}@x.example", firstName="Ada", lastName="Lovelace"
            )
        )
        user = gen.answer("users.Users", "createUser", args)
        assert (
            now - DAY_MS - 3_600_000 <= user.createdAt <= now
        )  # in the hour before today's midnight at most
        if user.lastSeenAt is not None:
            assert user.createdAt <= user.lastSeenAt <= now


def test_a_user_created_through_the_demo_state_is_recent() -> None:
    catalog, classes = catalog_for(DEMO)
    gen = ValueGenerator(catalog, classes)
    engine = StubEngine(load_stubs(REPO_MOCKS, catalog, classes), catalog, classes, gen)
    new = classes.struct("users.NewUser")(email="ada@example.com", firstName="Ada", lastName="Lovelace")
    decision = engine.decide("users.Users", "createUser", classes.args("users.Users", "createUser")(user=new))
    assert isinstance(decision.reply, Success)
    assert now_ms() - DAY_MS - 3_600_000 <= decision.reply.value.createdAt <= now_ms()


def test_answers_are_stable_all_day_and_can_be_pinned() -> None:
    catalog, classes = catalog_for(DEMO)
    today = today_utc()
    assert (today.hour, today.minute, today.tzinfo) == (0, 0, dt.UTC)
    plain = ValueGenerator(catalog, classes)
    pinned_today = ValueGenerator(catalog, classes, now=today)
    assert plain.now == today
    returns = TypeRef(Kind.STRUCT, "users.User")
    for i in range(20):
        args = classes.args("users.Users", "getUser")(id=i)
        a = to_json(catalog, returns, plain.answer("users.Users", "getUser", args))
        assert a == to_json(catalog, returns, pinned_today.answer("users.Users", "getUser", args))
    pinned = ValueGenerator(catalog, Classes(catalog), now=dt.datetime(2030, 6, 1))  # naive: taken as UTC
    anchor = int(dt.datetime(2030, 6, 1, tzinfo=dt.UTC).timestamp() * 1000)
    for i in range(50):
        user = pinned.answer("users.Users", "getUser", classes.args("users.Users", "getUser")(id=i))
        assert anchor - 2 * 366 * DAY_MS <= user.createdAt <= anchor
