"""verify(contract=...): recorded interactions replayed against a real provider."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from thriftpy2.thrift import TApplicationException

from tests.contract.providers import USERS_IDL, UserHandler, serve
from thriftbox.contract import VerifyReport, verify
from thriftbox.errors import ConfigError
from thriftbox.idl import load_catalog
from thriftbox.idl.classes import Classes
from thriftbox.idl.model import Catalog

SERVICE = "users.UserService"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog([USERS_IDL])


@pytest.fixture(scope="module")
def classes(catalog: Catalog) -> Classes:
    return Classes(catalog)


def replay(
    catalog: Catalog,
    classes: Classes,
    tmp_path: Path,
    interactions: list[dict[str, Any]],
    handler: Any = None,
) -> VerifyReport:
    contract = tmp_path / "contract.json"
    contract.write_text(json.dumps(interactions), encoding="utf-8")
    with serve(handler or UserHandler()) as port:
        return verify(catalog, classes, SERVICE, ("127.0.0.1", port), contract=contract)


def interaction(method: str, args: dict[str, Any], expect: dict[str, Any]) -> dict[str, Any]:
    return {"service": SERVICE, "method": method, "args": args, "expect": expect}


def test_outcomes_that_match_pass(catalog: Catalog, classes: Classes, tmp_path: Path) -> None:
    report = replay(
        catalog,
        classes,
        tmp_path,
        [
            interaction("getUser", {"id": 42}, {"result": {"id": 1, "name": "recorded on a mock"}}),
            interaction("getUser", {"id": -1}, {"exception": "NotFound", "value": {"message": "x"}}),
            interaction("listUsers", {"limit": 2, "status": "SUSPENDED"}, {"result": []}),
            interaction("find", {"by": {"email": "ada@example.com"}}, {"result": {}}),
            {"method": "ping", "args": {}, "expect": {"result": None}},  # no service: the one verified
            {"service": "other.Service", "method": "gone", "args": {}, "expect": {"result": 1}},
        ],
    )
    assert report.ok, report.lines()
    assert report.methods == {"getUser": 2, "listUsers": 1, "find": 1, "ping": 1}


def test_a_different_outcome_is_a_violation(catalog: Catalog, classes: Classes, tmp_path: Path) -> None:
    report = replay(
        catalog,
        classes,
        tmp_path,
        [
            interaction("getUser", {"id": -5}, {"result": {"id": -5}}),
            interaction("getUser", {"id": 5}, {"exception": "notFound"}),
        ],
    )
    assert report.lines() == [
        "getUser: expected a result, got exception NotFound (notFound) [contract.json #1]",
        "getUser: expected exception NotFound (notFound), got a result [contract.json #2]",
    ]


def test_an_expected_application_error_is_not_a_violation(
    catalog: Catalog, classes: Classes, tmp_path: Path
) -> None:
    class Strict(UserHandler):
        def getUser(self, id: int) -> Any:
            if id == 0:
                raise TApplicationException(TApplicationException.INTERNAL_ERROR, "zero")
            return super().getUser(id)

    expect_error = {"exception": "TApplicationException"}
    report = replay(
        catalog,
        classes,
        tmp_path,
        [
            interaction("getUser", {"id": 0}, expect_error),
            interaction("getUser", {"id": 0}, {**expect_error, "type": "INTERNAL_ERROR"}),
            interaction("getUser", {"id": 0}, {**expect_error, "type": "UNKNOWN_METHOD"}),
            interaction("getUser", {"id": 3}, expect_error),
        ],
        Strict(),
    )
    assert report.lines() == [
        "getUser: expected a TApplicationException UNKNOWN_METHOD, got INTERNAL_ERROR: zero [contract.json #3]",
        "getUser: expected a TApplicationException, got a result [contract.json #4]",
    ]


def test_exact_expectations_compare_values_field_by_field(
    catalog: Catalog, classes: Classes, tmp_path: Path
) -> None:
    expected = {
        "id": 7,
        "name": "User 7",
        "email": "someone@else.org",
        "status": "ACTIVE",
        "address": {"city": "Lyon"},
        "tags": ["a", "b"],
        "scores": {"x": 1},
    }
    report = replay(
        catalog, classes, tmp_path, [interaction("getUser", {"id": 7}, {"result": expected, "exact": True})]
    )
    assert report.lines() == [
        'getUser.success.email: expected "someone@else.org", got "user7@example.com" [contract.json #1]'
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "cannot read contract file"),
        ('{"a": 1}', "a JSON list of interactions"),
        ('[{"method": "getUser"}]', "interaction #1 needs method, args and expect"),
        (json.dumps([interaction("deleteUser", {}, {"result": None})]), "has no method 'deleteUser'"),
        (json.dumps([interaction("getUser", {"id": "x"}, {"result": None})]), "interaction #1: getUser.id"),
        (json.dumps([interaction("getUser", {"id": 1}, {"exception": "Boom"})]), "does not throw Boom"),
        (
            json.dumps([interaction("getUser", {"id": 1}, {"value": 1})]),
            'expect holds "result" or "exception"',
        ),
        (json.dumps([interaction("getUser", [1], {"result": None})]), "args is an object of argument names"),
        (
            json.dumps([{**interaction("reset", {}, {"result": None}), "service": "Admin"}]),
            "no interaction in the contract file is for users.UserService",
        ),
    ],
)
def test_bad_contract_files_are_config_errors(
    catalog: Catalog, classes: Classes, tmp_path: Path, content: str, message: str
) -> None:
    contract = tmp_path / "contract.json"
    contract.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as info:
        verify(catalog, classes, SERVICE, ("127.0.0.1", 9), contract=contract)
    assert info.value.location is not None
    assert info.value.location.path == contract
