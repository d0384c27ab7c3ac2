"""The demo stubs in mocks/ load against the demo IDL in idl/ and do what their comments say."""

from __future__ import annotations

from typing import Any

import pytest

from tests.stubs.harness import REPO_MOCKS, Sandbox, catalog_for
from thriftbox.stubs import StubEngine, load_stubs
from thriftbox.values import ValueGenerator
from thriftbox.wire.app import AppError, Fault, NoReply, Raise, Success

IDL = REPO_MOCKS.parent / "idl"
pytestmark = pytest.mark.skipif(not (IDL / "users.thrift").is_file(), reason="the demo IDL is not there")


@pytest.fixture
def box() -> Sandbox:
    catalog, classes = catalog_for(IDL)
    generator = ValueGenerator(catalog, classes, seed=3)
    book = load_stubs(REPO_MOCKS, catalog, classes)
    return Sandbox(
        catalog, classes, generator, book, StubEngine(book, catalog, classes, generator), REPO_MOCKS
    )


def test_every_demo_file_names_a_demo_service(box: Sandbox) -> None:
    touched = {sid for sids in box.book.files.values() for sid in sids}
    assert touched == {"users.Users", "catalog.Catalog", "feed.Feed", "ads.Ads", "common.BaseService"}
    assert box.book.services_in(REPO_MOCKS / "thrifttest.yaml") == set()  # optional: ThriftTest not loaded


def test_users_are_stored_and_fixed_users_win(box: Sandbox) -> None:
    new_user = box.struct("NewUser", email="ada@example.com", firstName="Ada", lastName="Lovelace")
    created = box.call("Users", "createUser", user=new_user).reply
    assert isinstance(created, Success)
    assert (created.value.id, created.value.firstName) == (1, "Ada")
    assert created.value.handle  # what NewUser does not have is generated, once
    again = box.call("Users", "getUser", id=1).reply
    assert isinstance(again, Success)
    assert again.value.handle == created.value.handle
    page = box.call("Users", "listUsers", query=box.struct("UserQuery")).reply
    assert isinstance(page, Success)
    assert [u.email for u in page.value.users] == ["ada@example.com"]
    grace = box.call("Users", "getUser", id=42).reply
    assert isinstance(grace, Success)
    assert grace.value.lastName == "Hopper"
    missing = box.call("Users", "getUser", id=950).reply
    assert isinstance(missing, Raise)
    assert missing.exc.message == "no user 950"
    blocked = box.struct("NewUser", email="x@blocked.example", firstName="X", lastName="Y")
    refused = box.call("Users", "createUser", user=blocked).reply
    assert isinstance(refused, Raise)
    assert refused.exc.message == "x@blocked.example is blocked"


def test_catalog_feed_and_ads_rules(box: Sandbox) -> None:
    lamp = box.call("Catalog", "getItem", id="lamp-1").reply
    assert isinstance(lamp, Success)
    assert (lamp.value.price.amount, lamp.value.price.currency) == (49.5, "EUR")
    assert box.call("Feed", "getHomeFeed", userId=500, limit=5).reply == Fault("close", 0.0)
    feed = box.call("Feed", "getHomeFeed", userId=7, limit=5, cursor="c1").reply
    assert isinstance(feed, Success)
    assert (feed.value.userId, feed.value.nextCursor) == (7, "c1+1")
    request = box.struct("AdRequest", userId=9, placement="sidebar", count=1)
    ads = box.call("Ads", "getAds", request=request).reply
    assert isinstance(ads, Success)
    assert ads.value[0].headline == "A deal for user 9"
    assert (
        box.call("Ads", "recordImpression", impression=box.struct("Impression", adId="a")).reply == NoReply()
    )
    warming = box.call("Catalog", "getReviews", itemId="flaky-1", limit=3).reply
    assert warming == AppError(6, "review index warming up")
    assert box.call("BaseService", "getVersion").reply == Success("1.4.0")


def answered(box: Sandbox, service: str, method: str, **kwargs: object) -> Any:
    """What the mock answers: the decision's value, or generated data when the decision leaves it open."""
    decision = box.call(service, method, **kwargs)
    if decision.reply is None:
        return box.generator.answer(box.sid(service), method, box.args(service, method, **kwargs))
    assert isinstance(decision.reply, Success), decision
    return decision.reply.value


def test_get_users_maps_exactly_the_requested_ids_before_and_after_other_calls(box: Sandbox) -> None:
    """Reads always answer: a batch read of ids nothing stored generates them, as a single get does."""
    assert sorted(answered(box, "Users", "getUsers", ids=[5, 6])) == [5, 6]
    assert answered(box, "Users", "getUser", id=1).id == 1  # a read must not make the store look written
    after_get = answered(box, "Users", "getUsers", ids=[5, 6])
    assert sorted(after_get) == [5, 6]
    assert all(after_get[k].id == k for k in (5, 6))
    new_user = box.struct("NewUser", email="ada@example.com", firstName="Ada", lastName="Lovelace")
    created = answered(box, "Users", "createUser", user=new_user)
    mixed = answered(box, "Users", "getUsers", ids=[created.id, 6])
    assert sorted(mixed) == sorted([created.id, 6])
    assert mixed[created.id].firstName == "Ada"  # the stored one, as stored
    assert mixed[6].id == 6
    assert answered(box, "Users", "getUsers", ids=[created.id, 6]) == mixed  # the same answer again
    box.call("Users", "deleteUser", id=created.id)
    gone = answered(box, "Users", "getUsers", ids=[created.id, 6])
    assert sorted(gone) == [6]  # a deleted user stays gone


def test_a_stub_files_default_latency_applies_to_calls_answered_from_state(box: Sandbox) -> None:
    """mocks/users.yaml: ``default: latency_ms: {min: 1, max: 5}``; the state answers getUser and createUser."""
    new_user = box.struct("NewUser", email="ada@example.com", firstName="Ada", lastName="Lovelace")
    created = box.call("Users", "createUser", user=new_user)
    assert created.source == "state"
    assert 0.001 <= created.latency_s <= 0.005
    read = box.call("Users", "getUser", id=created.reply.value.id)  # type: ignore[union-attr]
    assert read.source == "state"
    assert 0.001 <= read.latency_s <= 0.005
    generated = box.call("Users", "getUser", id=7)  # not stored: generated, through the state rule
    assert 0.001 <= generated.latency_s <= 0.005
