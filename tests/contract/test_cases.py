"""Argument cases: edge values that honour the IDL, every enum value covered, reproducible generated cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from thriftbox.contract.cases import LARGE, PROFILES, EdgeValues, edge_cases, generated_cases, method_cases
from thriftbox.contract.check import check_value
from thriftbox.idl import load_catalog
from thriftbox.idl.classes import Classes
from thriftbox.idl.model import Kind

CONTRACT = Path(__file__).parent


@pytest.fixture(scope="module")
def kinds() -> Classes:
    return Classes(load_catalog([CONTRACT / "kinds.thrift"]))


@pytest.fixture(scope="module")
def users() -> Classes:
    return Classes(load_catalog([CONTRACT / "users.thrift"]))


def test_every_edge_case_is_a_valid_request(kinds: Classes) -> None:
    svc = kinds.catalog.services["kinds.Echo"]
    for m in svc.methods.values():
        for case in edge_cases(kinds, m):
            for a in m.args:
                assert check_value(kinds.catalog, a.type, case.args[a.name], f"{m.name}.{a.name}") == [], (
                    case.label
                )


def test_profiles_hit_the_limits_of_each_width(kinds: Classes) -> None:
    everything = kinds.catalog.struct("kinds.Everything")
    edge = EdgeValues(kinds)
    values = {p: edge.value(everything_type(kinds), p) for p in PROFILES}
    assert (values["maximal"].tiny, values["maximal"].large) == (127, 2**63 - 1)
    assert (values["lowest"].small, values["lowest"].medium) == (-(2**15), -(2**31))
    assert (values["negative"].medium, values["minimal"].medium) == (-1, 0)
    assert (values["minimal"].text, values["minimal"].numbers, values["minimal"].flag) == ("", [], False)
    assert values["maximal"].blob == bytes(range(256))
    assert len(values["maximal"].numbers) == LARGE
    assert values["maximal"].choice is not None
    optional = [f.name for f in everything.fields if f.requiredness == "optional"]
    assert all(getattr(values["minimal"], name) is None for name in optional)


def everything_type(classes: Classes) -> object:
    return classes.catalog.services["kinds.Echo"].methods["echo"].args[0].type


@pytest.mark.parametrize("profile", PROFILES)
def test_recursive_structs_stop(kinds: Classes, profile: str) -> None:
    value = EdgeValues(kinds).value(everything_type(kinds), profile)
    depth, node = 0, value.node
    while node is not None:  # Node.parent has default requiredness: set by every profile until deep down
        depth, node = depth + 1, node.parent
    assert 1 < depth < 10


def test_every_enum_value_is_sent(users: Classes) -> None:
    m = users.catalog.services["users.UserService"].methods["listUsers"]
    sent = {case.args["status"] for case in edge_cases(users, m)}
    assert sent == set(users.catalog.enum("users.Status").values.values())


def test_every_union_member_is_sent_across_cases(kinds: Classes) -> None:
    m = kinds.catalog.services["kinds.Echo"].methods["pick"]
    chosen = {
        next(
            f.name
            for f in kinds.catalog.struct("kinds.Choice").fields
            if getattr(c.args["c"], f.name) is not None
        )
        for c in edge_cases(kinds, m)
    }
    assert chosen == {f.name for f in kinds.catalog.struct("kinds.Choice").fields}
    assert len(chosen) == 6


def test_a_method_without_arguments_gets_one_edge_case(users: Classes) -> None:
    m = users.catalog.services["users.UserService"].methods["ping"]
    assert [c.label for c in edge_cases(users, m)] == ["no arguments"]


def test_generated_cases_are_realistic_valid_and_reproducible(users: Classes) -> None:
    svc = users.catalog.services["users.UserService"]
    m = svc.methods["find"]
    first = generated_cases(users, svc.id, m, 5, seed=1)
    assert [c.args for c in first] == [c.args for c in generated_cases(users, svc.id, m, 5, seed=1)]
    assert [c.args for c in first] != [c.args for c in generated_cases(users, svc.id, m, 5, seed=2)]
    for case in first:
        assert check_value(users.catalog, m.args[0].type, case.args["by"], "find.by") == []


def test_method_cases_put_edges_first(users: Classes) -> None:
    svc = users.catalog.services["users.UserService"]
    labels = [c.label for c in method_cases(users, svc.id, svc.methods["getUser"], generated=2)]
    assert labels == [*PROFILES, "generated #1", "generated #2"]
    assert [
        c.label for c in method_cases(users, svc.id, svc.methods["getUser"], generated=1, edges=False)
    ] == ["generated #1"]


def test_sets_hold_distinct_elements(kinds: Classes) -> None:
    value = EdgeValues(kinds).value(everything_type(kinds), "maximal")
    assert len(value.names) == len(set(value.names)) == LARGE
    assert all(len(s) == len(set(s)) for lists in value.nested.values() for s in lists)
    assert kinds.catalog.struct("kinds.Everything").field_named("names").type.kind is Kind.SET
