"""JSON ↔ wire values: the forms users read and write, round trips, and errors that say where."""

from __future__ import annotations

import base64
import json
import random
import uuid
from typing import Any

import pytest

from tests.values.test_generator import kitchen_sink
from tests.values.test_models import (
    BINARY,
    BOOL,
    BYTE,
    DOUBLE,
    I32,
    I64,
    STRING,
    UUID,
    Model,
    f,
    list_of,
    map_of,
    set_of,
)
from thriftbox.idl.model import TypeRef
from thriftbox.values import (
    ValueConversionError,
    ValueGenerator,
    from_json,
    is_valid,
    override_from_json,
    to_json,
)


@pytest.fixture(scope="module")
def shop() -> tuple[Model, dict[str, TypeRef]]:
    m = Model("shop")
    status = m.enum("Status", ACTIVE=1, BANNED=2)
    address = m.struct("Address", f(1, "city", STRING), f(2, "zipCode", STRING))
    user = m.struct(
        "User",
        f(1, "id", I64, "required"),
        f(2, "email", STRING),
        f(3, "tags", list_of(STRING)),
        f(4, "status", status),
        f(5, "address", address, "optional"),
        f(6, "avatar", BINARY, "optional"),
        f(7, "token", UUID, "optional"),
        f(8, "scores", map_of(I32, DOUBLE), "optional"),
        f(9, "limit", I32, default=20),
        f(10, "roles", set_of(status), "optional"),
    )
    contact = m.struct("Contact", f(1, "email", STRING), f(2, "phone", STRING), kind="union")
    return m, {"status": status, "address": address, "user": user, "contact": contact}


def convert(shop: Any, name: str, obj: Any) -> Any:
    m, types = shop
    return from_json(m.catalog, m.classes(), types[name], obj)


def test_to_json_shows_enum_names_base64_uuids_and_only_set_fields(shop: Any) -> None:
    m, types = shop
    token = uuid.UUID("123e4567-e89b-12d3-a456-426614174000")
    user = convert(shop, "user", {"id": 1, "email": "a@b.co", "status": 2, "avatar": {"text": "hi"}})
    user.token = token.bytes
    user.scores = {3: 1.5}
    user.roles = [1, 2]
    shown = to_json(m.catalog, types["user"], user)
    assert shown == {
        "id": 1,
        "email": "a@b.co",
        "status": "BANNED",
        "avatar": base64.b64encode(b"hi").decode(),
        "token": str(token),
        "scores": {"3": 1.5},
        "limit": 20,
        "roles": ["ACTIVE", "BANNED"],
    }
    json.dumps(shown)  # really JSON-able


def test_maps_with_struct_keys_become_pairs() -> None:
    m, box = kitchen_sink()
    gen = ValueGenerator(m.catalog, m.classes())
    shown = to_json(m.catalog, box, gen.value(box, random.Random(1)))
    assert isinstance(shown["byInner"], list)
    assert all(isinstance(k, dict) and isinstance(v, int) for k, v in shown["byInner"])
    assert isinstance(shown["groups"], dict)


def test_from_json_accepts_the_friendly_spellings(shop: Any) -> None:
    user = convert(
        shop,
        "user",
        {
            "id": 7.0,
            "status": "ACTIVE",
            "roles": [2, "Status.ACTIVE"],
            "avatar": "plain text, not base64",
            "token": "123E4567E89B12D3A456426614174000",
            "scores": [[1, 2], [3, 4.5]],
        },
    )
    assert (user.id, user.status, user.roles) == (7, 1, [2, 1])
    assert user.avatar == b"plain text, not base64"
    assert user.token == uuid.UUID("123e4567-e89b-12d3-a456-426614174000").bytes
    assert user.scores == {1: 2.0, 3: 4.5}
    assert isinstance(user.scores[1], float)
    assert user.limit == 20  # omitted: the declared default
    assert convert(shop, "user", {"id": 1, "scores": {"10": 1}}).scores == {10: 1.0}
    assert (
        convert(shop, "user", {"id": 1, "avatar": base64.b64encode(b"\x00\xff").decode()}).avatar
        == b"\x00\xff"
    )


@pytest.mark.parametrize(
    ("obj", "path", "message", "hint"),
    [
        ({"id": 1, "tags": ["a", "b", 3]}, "tags[2]", "expected a string, got 3", '"3"'),
        ({"id": 1, "emial": "x"}, "emial", "no field 'emial'", "email"),
        ({"id": 1, "Email": "x"}, "Email", "no field 'Email'", "email"),
        ({"id": 1, "address": {"zip_code": "1"}}, "address.zip_code", "no field", "zipCode"),
        ({"id": 1, "status": "ACTIV"}, "status", "not a value of enum Status", "ACTIVE"),
        ({"id": 1, "status": 9}, "status", "not a value of enum Status", "ACTIVE (1)"),
        ({"id": 2**63}, "id", "out of range for i64", None),
        ({"id": "12"}, "id", "expected an integer", "without quotes"),
        ({"id": 1, "scores": {"ten": 1}}, 'scores["ten"]', "not a i32 key", "pairs"),
        ({"id": 1, "scores": [[1, 2, 3]]}, "scores[0]", "a [key, value] pair", None),
        ({"id": 1, "roles": ["ACTIVE", 1]}, "roles[1]", "duplicate member", None),
        ({"id": 1, "token": "not-a-uuid"}, "token", "expected a uuid", None),
        ({"id": True}, "id", "expected an integer", None),
    ],
)
def test_errors_name_the_path_and_suggest_a_fix(
    shop: Any, obj: Any, path: str, message: str, hint: str | None
) -> None:
    with pytest.raises(ValueConversionError) as err:
        convert(shop, "user", obj)
    assert err.value.path == path
    assert message in err.value.message
    if hint is not None:
        assert err.value.hint is not None
        assert hint in err.value.hint
    assert str(err.value).startswith(f"{path}: ")


def test_unions_take_exactly_one_field(shop: Any) -> None:
    assert convert(shop, "contact", {"phone": "555"}).phone == "555"
    for obj in ({}, {"email": "a@b.co", "phone": "555"}):
        with pytest.raises(ValueConversionError, match="exactly one"):
            convert(shop, "contact", obj)


def test_paths_start_where_the_caller_says(shop: Any) -> None:
    m, types = shop
    with pytest.raises(ValueConversionError) as err:
        from_json(m.catalog, m.classes(), types["user"], {"tags": [1]}, "getUser.user")
    assert err.value.path == "getUser.user.tags[0]"


def test_generated_values_round_trip_through_json() -> None:
    m, box = kitchen_sink()
    classes = m.classes()
    gen = ValueGenerator(m.catalog, classes, seed=3)
    for i in range(40):
        v = gen.value(box, random.Random(i))
        shown = json.loads(json.dumps(to_json(m.catalog, box, v)))
        back = from_json(m.catalog, classes, box, shown)
        assert is_valid(m.catalog, box, back)
        assert to_json(m.catalog, box, back) == shown


@pytest.mark.parametrize(
    ("t", "value"),
    [(BOOL, True), (BYTE, -128), (DOUBLE, 0.1), (STRING, "ü"), (BINARY, b""), (I64, 2**63 - 1)],
)
def test_scalars_round_trip(t: TypeRef, value: Any) -> None:
    m = Model()
    assert from_json(m.catalog, m.classes(), t, to_json(m.catalog, t, value)) == value


def test_override_from_json_keeps_structs_partial(shop: Any) -> None:
    m, types = shop
    partial = override_from_json(
        m.catalog, m.classes(), types["user"], {"status": "BANNED", "address": {"city": "Oslo"}}
    )
    assert partial == {"status": 2, "address": {"city": "Oslo"}}
    gen = ValueGenerator(m.catalog, m.classes())
    user = gen.value(types["user"], random.Random(1), override=partial)
    assert user.status == 2
    assert user.address.city == "Oslo"
    assert user.address.zipCode
    with pytest.raises(ValueConversionError) as err:
        override_from_json(m.catalog, m.classes(), types["user"], {"address": {"town": "Oslo"}})
    assert err.value.path == "address.town"


@pytest.mark.parametrize(("value", "text"), [(float("inf"), "Infinity"), (float("-inf"), "-Infinity")])
def test_special_doubles_are_strings_in_json_and_come_back(value: float, text: str) -> None:
    m = Model()
    assert to_json(m.catalog, DOUBLE, value) == text
    assert json.loads(json.dumps(to_json(m.catalog, DOUBLE, value), allow_nan=False)) == text
    assert from_json(m.catalog, m.classes(), DOUBLE, text) == value
    nan = from_json(m.catalog, m.classes(), DOUBLE, "NaN")
    assert isinstance(nan, float)
    assert nan != nan
    assert to_json(m.catalog, DOUBLE, nan) == "NaN"
