"""Stateful services: what create/put/update store, get/list read back and delete removes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.stubs.harness import Sandbox, sandbox
from thriftbox.errors import StubError
from thriftbox.wire.app import Raise, Success


def value(box: Sandbox, method: str, **kwargs: object) -> object:
    reply = box.call("Users", method, **kwargs).reply
    assert isinstance(reply, Success), reply
    return reply.value


def test_create_then_get_list_update_and_delete(tmp_path: Path) -> None:
    box = sandbox(tmp_path, "service: Users\nstateful: true\n")
    ada = value(box, "createUser", user=box.struct("User", name="Ada", role=1, tags=["x"]))
    assert ada.id == 1
    assert ada.name == "Ada"
    bob = value(box, "createUser", user=box.struct("User", name="Bob", role=2))
    assert bob.id == 2

    got = box.call("Users", "getUser", id=1)
    assert got.source == "state"
    assert got.rule == "state"
    assert isinstance(got.reply, Success)
    assert (got.reply.value.name, got.reply.value.tags) == ("Ada", ["x"])
    assert [u.name for u in value(box, "listUsers")] == ["Ada", "Bob"]

    updated = value(box, "updateUser", user=box.struct("User", id=1, email="ada@example.com"))
    assert (updated.name, updated.email) == ("Ada", "ada@example.com")  # update merges the fields given

    assert value(box, "deleteUser", id=1) is True
    assert value(box, "deleteUser", id=1) is False
    gone = box.call("Users", "getUser", id=1).reply
    assert isinstance(gone, Raise)
    assert gone.field_name == "notFound"
    assert gone.exc.message == "User 1 not found"
    assert [u.name for u in value(box, "listUsers")] == ["Bob"]


def test_what_was_never_stored_is_generated(tmp_path: Path) -> None:
    box = sandbox(tmp_path, "service: Users\nstateful: true\n")
    assert box.call("Users", "listUsers").reply is None  # nothing written yet: generated list
    decision = box.call("Users", "getUser", id=77)
    assert decision.source == "generated"
    assert isinstance(decision.reply, Success)
    assert decision.reply.value.id == 77


def test_missing_throw_makes_unknown_keys_not_found(tmp_path: Path) -> None:
    box = sandbox(tmp_path, "service: Users\nstate: {missing: throw}\n")
    reply = box.call("Users", "getUser", id=77).reply
    assert isinstance(reply, Raise)
    assert reply.exc.message == "User 77 not found"


def test_a_create_keeps_the_id_it_is_given(tmp_path: Path) -> None:
    box = sandbox(tmp_path, "service: Users\nstateful: true\n")
    assert value(box, "createUser", user=box.struct("User", id=500, name="Given")).id == 500
    assert value(box, "createUser", user=box.struct("User", name="Next")).id == 501
    assert value(box, "getUser", id=500).name == "Given"


def test_list_filters_by_arguments_named_like_fields_and_limits(tmp_path: Path) -> None:
    box = sandbox(tmp_path, "service: Users\nstateful: true\n")
    for name, role in [("a", 1), ("b", 2), ("c", 1), ("d", 1)]:
        value(box, "createUser", user=box.struct("User", name=name, role=role))
    assert [u.name for u in value(box, "listUsers", role=1)] == ["a", "c", "d"]
    assert [u.name for u in value(box, "listUsers", role=1, limit=2)] == ["a", "c"]


def test_a_list_wrapped_in_a_struct_gets_the_entities_and_the_total(tmp_path: Path) -> None:
    box = sandbox(tmp_path, "service: Users\nstateful: true\n")
    value(box, "createUser", user=box.struct("User", name="only"))
    page = value(box, "searchUsers", text="anything")
    assert [u.name for u in page.users] == ["only"]
    assert page.total == 1


def test_stub_rules_answer_before_the_state(tmp_path: Path) -> None:
    box = sandbox(
        tmp_path,
        """\
        service: Users
        stateful: true
        methods:
          getUser:
            - when: {id: 1}
              return: {name: from the stub}
        """,
    )
    value(box, "createUser", user=box.struct("User", name="stored"))
    decision = box.call("Users", "getUser", id=1)
    assert decision.source == "stub"
    assert isinstance(decision.reply, Success)
    assert decision.reply.value.name == "from the stub"


def test_per_method_state_overrides_the_naming_convention(tmp_path: Path) -> None:
    box = sandbox(
        tmp_path,
        """\
        service: Users
        stateful: true
        methods:
          profileOf:
            - state: {op: get, key: who}
              latency_ms: 15
          getUser:
            - state: none
        """,
    )
    value(box, "createUser", user=box.struct("User", name="Ada"))
    decision = box.call("Users", "profileOf", who=1, verbose=True)
    assert isinstance(decision.reply, Success)
    assert decision.reply.value.name == "Ada"
    assert decision.latency_s == pytest.approx(0.015)
    assert box.call("Users", "getUser", id=1).reply is None  # opted out: generated


def test_the_state_key_can_be_another_field(tmp_path: Path) -> None:
    box = sandbox(tmp_path, "service: Users\nstate: {key: email}\n")
    value(box, "createUser", user=box.struct("User", name="Ada", email="ada@example.com"))
    assert value(box, "lookupByEmail", email="ada@example.com").name == "Ada"


def test_string_keys_are_generated_for_creates(tmp_path: Path) -> None:
    box = sandbox(tmp_path, "service: Users\nstate: {key: email}\n")
    made = value(box, "createUser", user=box.struct("User", name="Anon"))
    assert isinstance(made.email, str)
    assert len(made.email) == 36
    assert value(box, "lookupByEmail", email=made.email).name == "Anon"


def test_reset_state_forgets_everything(tmp_path: Path) -> None:
    box = sandbox(tmp_path, "service: Users\nstateful: true\n")
    value(box, "createUser", user=box.struct("User", name="Ada"))
    assert box.engine.store.snapshot()["users.Users"]["users.User"]["1"]["name"] == "Ada"
    box.engine.reset_state("users.Users")
    assert box.engine.store.snapshot() == {}
    assert box.call("Users", "listUsers").reply is None


def test_services_without_state_do_not_store(tmp_path: Path) -> None:
    box = sandbox(tmp_path, "service: Orders\nstateful: true\n")
    box.call("Users", "createUser", user=box.struct("User", name="Ada"))
    assert box.engine.store.snapshot() == {}


def test_a_state_rule_that_cannot_work_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StubError, match="cannot work out how small does 'get'") as info:
        sandbox(tmp_path, "service: Users\nmethods:\n  small:\n    - state: {op: get}\n")
    assert info.value.location is not None
    assert info.value.location.line == 4
