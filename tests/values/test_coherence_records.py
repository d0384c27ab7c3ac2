"""One struct is one coherent record: names drive email and handle (also when a stub or the request sets
them), age agrees with birthday, one place, one file type, replies after their comment, ids follow the request."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

from tests.stubs.harness import REPO_MOCKS, catalog_for, sandbox
from tests.values.test_models import I32, I64, STRING, Model, f
from thriftbox.idl.model import Kind
from thriftbox.stubs import StubEngine, load_stubs
from thriftbox.values import ValueGenerator
from thriftbox.values.coherence import read_date
from thriftbox.values.files import TYPES
from thriftbox.values.places import PLACES
from thriftbox.wire.app import Success

DEMO = Path(__file__).resolve().parents[2] / "idl"


def from_name(text: str, first: str, last: str) -> bool:
    """Every email local part and handle pattern contains the first or the last name (lower case)."""
    local = text.split("@")[0]
    return first.lower() in local or last.lower() in local


# -- names drive email and handle -------------------------------------------------------------------------


def test_create_user_takes_the_name_from_the_request() -> None:
    catalog, classes = catalog_for(DEMO)
    gen = ValueGenerator(catalog, classes)
    for i in range(200):
        new = classes.struct("users.NewUser")(
            email=f"ada{i}@example.com", firstName="Ada", lastName="Lovelace"
        )
        user = gen.answer("users.Users", "createUser", classes.args("users.Users", "createUser")(user=new))
        assert (user.firstName, user.lastName, user.email) == ("Ada", "Lovelace", f"ada{i}@example.com")
        assert from_name(user.handle, "ada", "lovelace"), user.handle


def test_create_user_through_the_demo_state_takes_the_name_from_the_request() -> None:
    catalog, classes = catalog_for(DEMO)
    gen = ValueGenerator(catalog, classes)
    engine = StubEngine(load_stubs(REPO_MOCKS, catalog, classes), catalog, classes, gen)
    new = classes.struct("users.NewUser")(email="ada@example.com", firstName="Ada", lastName="Lovelace")
    decision = engine.decide("users.Users", "createUser", classes.args("users.Users", "createUser")(user=new))
    assert isinstance(decision.reply, Success)
    assert from_name(decision.reply.value.handle, "ada", "lovelace"), decision.reply.value.handle


def test_a_stub_that_sets_only_the_name_drives_email_and_handle(tmp_path: Path) -> None:
    box = sandbox(
        tmp_path,
        """
        service: Users
        methods:
          getUser:
            - return: {firstName: Grace, lastName: Hopper}
        """,
        idl=DEMO,
    )
    for i in range(50):
        decision = box.call("Users", "getUser", id=i)
        if decision.reply is None:
            continue
        assert isinstance(decision.reply, Success)
        user = decision.reply.value
        assert (user.id, user.firstName, user.lastName) == (i, "Grace", "Hopper")
        assert from_name(user.email, "grace", "hopper"), user.email
        assert from_name(user.handle, "grace", "hopper"), user.handle


def test_a_stub_that_sets_the_email_keeps_it_and_leaves_other_fields_as_generated(tmp_path: Path) -> None:
    box = sandbox(tmp_path, "service: Users\nmethods:\n  getUser: {return: {email: x@y.example}}\n", idl=DEMO)
    decision = box.call("Users", "getUser", id=3)
    assert isinstance(decision.reply, Success)
    plain = box.generator.answer(box.sid("Users"), "getUser", box.args("Users", "getUser", id=3))
    assert decision.reply.value.email == "x@y.example"
    assert (decision.reply.value.handle, decision.reply.value.firstName) == (plain.handle, plain.firstName)


# -- one record ----------------------------------------------------------------------------------------------


def records(t_fields: list[Any], name: str, n: int = 1000) -> list[Any]:
    m = Model()
    t = m.struct(name, *t_fields)
    gen = ValueGenerator(m.catalog, m.classes())
    return [gen.value(t, random.Random(i)) for i in range(n)]


def test_birthday_and_age_agree() -> None:
    today = dt.datetime.now(dt.UTC).date()
    for v in records([f(1, "birthday", STRING), f(2, "age", I32), f(3, "dateOfBirth", I64)], "Person"):
        born = dt.date.fromisoformat(v.birthday)
        assert v.age == today.year - born.year - ((born.month, born.day) > (today.month, today.day))
        assert 17 <= v.age <= 91


def test_name_full_name_and_display_name_are_one_person() -> None:
    fields = [
        f(1, "name", STRING),
        f(2, "fullName", STRING),
        f(3, "displayName", STRING),
        f(4, "email", STRING),
    ]
    for v in records(fields, "Member"):
        assert v.name == v.fullName == v.displayName
        first, last = v.name.split(" ", 1)
        assert from_name(v.email, _ascii(first), _ascii(last)), (v.name, v.email)


def _ascii(text: str) -> str:
    import unicodedata

    return "".join(
        c
        for c in unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
        if c.isalnum()
    )


def test_a_files_name_extension_mime_type_path_and_size_agree() -> None:
    fields = [
        f(1, "name", STRING),
        f(2, "extension", STRING),
        f(3, "mimeType", STRING),
        f(4, "path", STRING),
        f(5, "sizeBytes", I64),
    ]
    by_ext = {t.ext: t for t in TYPES}
    for v in records(fields, "File"):
        t = by_ext[v.extension]
        assert v.name.endswith("." + v.extension)
        assert v.mimeType == t.mime
        assert v.path.endswith("/" + v.name)
        assert t.min_bytes <= v.sizeBytes <= t.max_bytes


def test_city_region_postcode_country_timezone_locale_and_currency_agree() -> None:
    fields = [
        f(1, "city", STRING),
        f(2, "state", STRING),
        f(3, "zipCode", STRING),
        f(4, "country", STRING),
        f(5, "countryCode", STRING),
        f(6, "timezone", STRING),
        f(7, "locale", STRING),
        f(8, "currency", STRING),
    ]
    for v in records(fields, "Address"):
        place = next(p for p in PLACES if p.city == v.city)
        assert (v.state, v.country, v.countryCode) == (place.region, place.country, place.country_code)
        assert (v.timezone, v.locale, v.currency) == (place.timezone, place.locale, place.currency)
        assert len(v.zipCode) == len(place.postcode)


def test_a_users_time_zone_and_locale_are_those_of_their_address() -> None:
    catalog, classes = catalog_for(DEMO)
    gen = ValueGenerator(catalog, classes)
    seen = 0
    for i in range(1000):
        user = gen.answer("users.Users", "getUser", classes.args("users.Users", "getUser")(id=i))
        if user.address is None:
            continue
        seen += 1
        place = next(p for p in PLACES if p.city == user.address.city)
        assert (user.address.state, user.address.countryCode) == (place.region, place.country_code)
        assert (user.timezone, user.locale) == (place.timezone, place.locale)
    assert seen > 100


def test_replies_come_after_the_comment_they_answer() -> None:
    catalog, classes = catalog_for(DEMO)
    gen = ValueGenerator(catalog, classes)

    def check(comment: Any) -> int:
        n = 0
        for reply in comment.replies or []:
            assert reply.createdAt >= comment.createdAt
            n += 1 + check(reply)
        return n

    replies = 0
    for i in range(1000):
        args = classes.args("feed.Feed", "getComments")(postId=f"post_{i}", limit=None)
        for c in gen.answer("feed.Feed", "getComments", args):
            replies += check(c)
    assert replies > 100


def test_string_ids_and_foreign_keys_follow_the_request() -> None:
    catalog, classes = catalog_for(DEMO)
    gen = ValueGenerator(catalog, classes)
    for i in range(300):
        item_id = f"item_{i}"
        reviews = gen.answer(
            "catalog.Catalog",
            "getReviews",
            classes.args("catalog.Catalog", "getReviews")(itemId=item_id, limit=None),
        )
        assert reviews
        assert {r.itemId for r in reviews} == {item_id}
        item = gen.answer(
            "catalog.Catalog", "getItem", classes.args("catalog.Catalog", "getItem")(id=item_id)
        )
        assert item.id == item_id


def test_read_date_reads_every_birthday_form() -> None:
    assert read_date("1990-05-17", Kind.STRING) == dt.date(1990, 5, 17)
    assert read_date(0, Kind.I64) == dt.date(1970, 1, 1)
    assert read_date(86_400, Kind.I32) == dt.date(1970, 1, 2)
