"""What a user sees: values that look like what their field names say."""

from __future__ import annotations

import datetime as dt
import ipaddress
import random
import re
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

import pytest

from tests.values.test_models import BOOL, DOUBLE, I32, I64, STRING, Model, alias, f, list_of, map_of
from thriftbox.idl.model import TypeRef
from thriftbox.values import ValueGenerator
from thriftbox.values.places import PLACES
from thriftbox.values.pools import Pools

NOW_MS = dt.datetime.now(dt.UTC).timestamp() * 1000
YEAR_MS = 365.25 * 86_400_000
EMAIL = re.compile(r"^[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}$")


def recent_ms(v: int) -> bool:
    return NOW_MS - 3 * YEAR_MS <= v <= NOW_MS


def is_url(v: str) -> bool:
    parts = urlparse(v)
    return parts.scheme in ("http", "https") and "." in parts.netloc


def is_ip(version: int) -> Callable[[str], bool]:
    return lambda v: ipaddress.ip_address(v).version == version


def is_uuid(v: str) -> bool:
    return str(uuid.UUID(v)) == v


def is_iso_datetime(v: str) -> bool:
    return recent_ms(dt.datetime.fromisoformat(v.replace("Z", "+00:00")).timestamp() * 1000)


def two_decimals(v: float) -> bool:
    return v > 0 and round(v, 2) == v


def words(v: str) -> bool:
    return bool(v) and "lorem" not in v.lower() and all(w.isalpha() for w in v.split())


CASES: list[tuple[str, TypeRef, Callable[[Any], bool]]] = [
    ("email", STRING, lambda v: bool(EMAIL.match(v))),
    ("contactEmail", STRING, lambda v: bool(EMAIL.match(v))),
    ("firstName", STRING, lambda v: v.isalpha() and v[0].isupper()),
    ("first_name", STRING, lambda v: v.isalpha() and v[0].isupper()),
    ("FIRST_NAME", STRING, lambda v: v.isalpha() and v[0].isupper()),
    ("userName", STRING, lambda v: " " not in v and v == v.lower()),
    ("phoneNumber", STRING, lambda v: sum(c.isdigit() for c in v) >= 7),
    ("city", STRING, words),
    ("countryCode", STRING, lambda v: len(v) == 2 and v.isupper()),
    ("zipCode", STRING, lambda v: v.isdigit() and len(v) == 5),
    ("websiteUrl", STRING, is_url),
    ("imageUrl", STRING, is_url),
    ("avatar", STRING, is_url),
    ("profile_photo_url", STRING, is_url),
    ("uuid", STRING, is_uuid),
    ("guid", STRING, is_uuid),
    ("id", STRING, lambda v: re.fullmatch(r"thing_[A-Za-z0-9]{12}", v) is not None),
    ("orderId", STRING, lambda v: re.fullmatch(r"order_[A-Za-z0-9]{12}", v) is not None),
    ("id", I64, lambda v: v > 0),
    ("userId", I32, lambda v: v > 0),
    ("owner_id", I64, lambda v: v > 0),
    ("ipAddress", STRING, is_ip(4)),
    ("IPv6Address", STRING, is_ip(6)),
    ("companyName", STRING, lambda v: len(v) > 2),
    ("createdAt", I64, recent_ms),
    ("updated_at", I64, recent_ms),
    ("timestamp", I64, recent_ms),
    ("lastLoginTime", I64, recent_ms),
    ("createdAt", I32, lambda v: recent_ms(v * 1000)),
    ("createdAt", STRING, is_iso_datetime),
    ("createdAt", DOUBLE, lambda v: recent_ms(v * 1000)),
    ("expiresAt", I64, lambda v: NOW_MS - YEAR_MS <= v <= NOW_MS + 2 * YEAR_MS),
    ("birthDate", STRING, lambda v: 18 <= dt.date.today().year - dt.date.fromisoformat(v).year <= 92),
    ("price", DOUBLE, two_decimals),
    ("totalAmount", DOUBLE, two_decimals),
    ("priceCents", I64, lambda v: 99 <= v <= 49_999),
    ("rating", DOUBLE, lambda v: 0 <= v <= 5),
    ("rating", I32, lambda v: 1 <= v <= 5),
    ("score", DOUBLE, lambda v: 0 <= v <= 1),
    ("age", I32, lambda v: 18 <= v <= 90),
    ("latitude", DOUBLE, lambda v: -90 <= v <= 90),
    ("lng", DOUBLE, lambda v: -180 <= v <= 180),
    ("percent", DOUBLE, lambda v: 0 <= v <= 100),
    ("commentCount", I32, lambda v: 0 <= v <= 100),
    ("numItems", I64, lambda v: 0 <= v <= 100),
    ("quantity", I32, lambda v: 1 <= v <= 10),
    ("version", STRING, lambda v: re.fullmatch(r"\d+\.\d+\.\d+", v) is not None),
    ("apiKey", STRING, lambda v: re.fullmatch(r"[0-9a-f]{32}", v) is not None),
    ("passwordHash", STRING, lambda v: re.fullmatch(r"[0-9a-f]{64}", v) is not None),
    ("tags", list_of(STRING), lambda v: all(t == t.lower() and " " not in t for t in v)),
    ("sku", STRING, lambda v: re.fullmatch(r"[A-Z]{3}-\d{5}", v) is not None),
    ("isbn", STRING, lambda v: v.startswith("978")),
    ("slug", STRING, lambda v: re.fullmatch(r"[a-z]+(-[a-z]+)+", v) is not None),
    ("description", STRING, lambda v: " " in v and v.endswith(".")),
    ("bio", STRING, lambda v: " " in v and v.endswith(".")),
    ("comment", STRING, lambda v: " " in v and v.endswith(".")),
    ("currency", STRING, lambda v: len(v) == 3 and v.isupper()),
    ("locale", STRING, lambda v: re.fullmatch(r"[a-z]{2}-[A-Z]{2}", v) is not None),
    ("timezone", STRING, lambda v: "/" in v),
    ("contentType", STRING, lambda v: re.fullmatch(r"[a-z]+/[a-z0-9.+-]+", v) is not None),
    ("hostname", STRING, lambda v: "." in v and " " not in v),
    ("color", STRING, words),
    ("whatever", STRING, words),
    ("whatever", I32, lambda v: 0 <= v <= 10_000),
    ("countsByCountry", map_of(STRING, I32), lambda v: all(len(k) > 2 for k in v)),
    ("createdAt", alias(I64, "Timestamp"), recent_ms),
    ("value", alias(I64, "Timestamp"), recent_ms),
    ("owner", alias(I64, "UserId"), lambda v: v > 0),
    ("followers", list_of(alias(I64, "UserId")), lambda v: all(x > 1000 for x in v) or len(v) < 3),
]


@pytest.mark.parametrize(("name", "t", "looks_right"), CASES, ids=[f"{c[0]}:{c[1]}" for c in CASES])
def test_fields_look_like_their_names(name: str, t: TypeRef, looks_right: Callable[[Any], bool]) -> None:
    m = Model()
    s = m.struct("Thing", f(1, name, t, "required"))
    gen = ValueGenerator(m.catalog, m.classes(), seed=5)
    for i in range(25):
        v = getattr(gen.value(s, random.Random(i)), name)
        assert looks_right(v), f"{name}: {v!r}"


def test_bool_names_bias_the_odds() -> None:
    m = Model()
    s = m.struct("Flags", f(1, "isDeleted", BOOL), f(2, "isActive", BOOL), f(3, "hasPets", BOOL))
    gen = ValueGenerator(m.catalog, m.classes())
    values = [gen.value(s, random.Random(i)) for i in range(400)]
    assert sum(v.isDeleted for v in values) < 80
    assert sum(v.isActive for v in values) > 300
    assert 150 < sum(v.hasPets for v in values) < 250


def test_name_and_title_depend_on_the_struct() -> None:
    m = Model()
    person = m.struct("Employee", f(1, "name", STRING), f(2, "title", STRING))
    company = m.struct("Company", f(1, "name", STRING))
    product = m.struct("Product", f(1, "title", STRING))
    table = m.struct("Table", f(1, "name", STRING))
    gen = ValueGenerator(m.catalog, m.classes(), seed=2)
    pools = Pools(seed=2)
    for i in range(20):
        rng = random.Random(i)
        employee = gen.value(person, rng)
        assert employee.name in pools.get("name")
        assert employee.title in pools.get("job")
        assert gen.value(company, rng).name in pools.get("company")
        assert gen.value(product, rng).title in pools.get("product")
        assert re.fullmatch(r"[a-z]+_[a-z]+", gen.value(table, rng).name)


def test_people_are_consistent_within_a_struct() -> None:
    m = Model()
    s = m.struct(
        "User",
        f(1, "firstName", STRING),
        f(2, "lastName", STRING),
        f(3, "fullName", STRING),
        f(4, "email", STRING),
        f(5, "handle", STRING),
        f(6, "createdAt", I64),
        f(7, "updatedAt", I64),
        f(8, "lastSeenAt", I64, "optional"),
    )
    gen = ValueGenerator(m.catalog, m.classes(), seed=9)
    for i in range(100):
        u = gen.value(s, random.Random(i))
        first, last = u.firstName.lower(), u.lastName.lower()
        assert u.fullName == f"{u.firstName} {u.lastName}"
        local = u.email.split("@")[0]
        assert first in local or last in local
        assert first in u.handle or last in u.handle or u.handle.startswith(first[0])
        assert u.createdAt <= u.updatedAt
        assert u.lastSeenAt is None or u.createdAt <= u.lastSeenAt


def test_an_address_with_a_us_state_is_in_the_us() -> None:
    m = Model()
    s = m.struct(
        "Address",
        f(1, "street", STRING),
        f(2, "state", STRING),
        f(3, "countryCode", STRING),
        f(4, "country", STRING),
    )
    gen = ValueGenerator(m.catalog, m.classes())
    us_states = set(Pools().get("state")) | {p.region for p in PLACES if p.country_code == "US"}
    in_us = 0
    for i in range(200):
        a = gen.value(s, random.Random(i))
        if a.state in us_states:
            assert (a.countryCode, a.country) == ("US", "United States")
            in_us += 1
        assert any(
            (p.region, p.country_code, p.country) == (a.state, a.countryCode, a.country) for p in PLACES
        )
    assert in_us > 120  # the Faker locale (en_US) is home three times out of four


def test_ids_of_an_entity_look_alike_wherever_they_appear() -> None:
    m = Model()
    item = m.struct("Item", f(1, "id", STRING))
    review = m.struct("Review", f(1, "itemId", STRING))
    gen = ValueGenerator(m.catalog, m.classes())
    assert gen.value(item, random.Random(1)).id.startswith("item_")
    assert gen.value(review, random.Random(1)).itemId.startswith("item_")


def test_timestamps_are_relative_to_the_given_now() -> None:
    m = Model()
    s = m.struct("Event", f(1, "createdAt", I64))
    then = dt.datetime(2020, 6, 1, tzinfo=dt.UTC)
    gen = ValueGenerator(m.catalog, m.classes(), now=then)
    for i in range(30):
        v = gen.value(s, random.Random(i)).createdAt
        assert then.timestamp() * 1000 - 2 * YEAR_MS <= v <= then.timestamp() * 1000
