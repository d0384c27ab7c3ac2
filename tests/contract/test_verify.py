"""verify(): a real thriftpy2 provider on a loopback socket, checked call by call against the IDL."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from thriftpy2.thrift import TApplicationException

from tests.contract.providers import DRIFTED_IDL, USERS_IDL, UserHandler, serve
from thriftbox.contract import VerifyReport, verify
from thriftbox.errors import CallError, ConfigError
from thriftbox.idl import load_catalog
from thriftbox.idl.classes import Classes
from thriftbox.idl.model import Catalog

SERVICE = "users.UserService"
# Edge cases per method for users.thrift: 4 profiles; listUsers adds 1 so that all 3 Status values are sent;
# ping has no arguments, so one case.
EDGE_CASES = {"getUser": 4, "listUsers": 5, "find": 4, "ping": 1, "touch": 4}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog([USERS_IDL])


@pytest.fixture(scope="module")
def classes(catalog: Catalog) -> Classes:
    return Classes(catalog)


def run(catalog: Catalog, classes: Classes, handler: Any, **options: Any) -> VerifyReport:
    """Verify ``handler`` served on a fresh port; edge cases only unless ``cases_per_method`` is given."""
    protocol, framing = options.get("protocol", "binary"), options.get("framing", "buffered")
    options.setdefault("cases_per_method", 0)
    with serve(handler, protocol=protocol, framing=framing) as port:
        return verify(catalog, classes, SERVICE, ("127.0.0.1", port), **options)


@pytest.mark.parametrize("protocol", ["binary", "compact"])
@pytest.mark.parametrize("framing", ["buffered", "framed"])
def test_a_correct_provider_passes(catalog: Catalog, classes: Classes, protocol: str, framing: str) -> None:
    handler = UserHandler()
    report = run(catalog, classes, handler, protocol=protocol, framing=framing, cases_per_method=3)
    assert report.ok, report.lines()
    assert report.methods == {m: n + 3 for m, n in EDGE_CASES.items()}
    assert report.cases_run == sum(EDGE_CASES.values()) + 3 * len(EDGE_CASES)
    deadline = time.monotonic() + 5  # oneway calls get no reply: wait until the provider has seen them all
    while len(handler.touched) < EDGE_CASES["touch"] + 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(handler.touched) == EDGE_CASES["touch"] + 3
    assert {-(2**63), -1, 0, 2**63 - 1} <= set(handler.touched)


def test_a_missing_required_field_is_named_by_its_path(catalog: Catalog, classes: Classes) -> None:
    class NoCity(UserHandler):
        def getUser(self, id: int) -> Any:
            user = self.user(id)
            user.address.city = None
            return user

    report = run(catalog, classes, NoCity(), methods=["getUser"])
    assert not report.ok
    assert report.lines() == [
        "getUser.success.address.city: required field 1: city (string) is missing "
        "[minimal, maximal, negative, +1 more]"
    ]


def test_an_undeclared_enum_value_is_named_by_its_path(catalog: Catalog, classes: Classes) -> None:
    class Archived(UserHandler):
        def listUsers(self, limit: int, status: int) -> list[Any]:
            users = [self.user(1), self.user(2)]
            users[1].status = 9
            return users

    report = run(catalog, classes, Archived(), methods=["listUsers"])
    assert {v.path for v in report.violations} == {"listUsers.success[1].status"}
    assert "undeclared value 9 of enum Status" in report.violations[0].message
    assert len(report.violations) == EDGE_CASES["listUsers"]


def test_application_errors_and_dropped_connections_are_violations_and_verification_goes_on(
    catalog: Catalog, classes: Classes
) -> None:
    class Fragile(UserHandler):
        def getUser(self, id: int) -> Any:
            if id == 0:
                raise TApplicationException(TApplicationException.INTERNAL_ERROR, "id 0 not supported")
            if id < -1:
                raise RuntimeError("crash")  # undeclared: thriftpy2 drops the connection
            return super().getUser(id)

    report = run(catalog, classes, Fragile())
    assert report.lines() == [
        "getUser: TApplicationException INTERNAL_ERROR: id 0 not supported [minimal]",
        "getUser: the provider closed the connection without replying [lowest]",
    ]
    assert report.methods == EDGE_CASES  # every later case still ran, on a new connection


def test_a_declared_exception_is_a_valid_answer(catalog: Catalog, classes: Classes) -> None:
    class Empty(UserHandler):
        def getUser(self, id: int) -> Any:
            raise self.mod.NotFound(message="nobody here")

    assert run(catalog, classes, Empty(), methods=["getUser"]).ok


def test_a_union_answer_and_a_missing_result_are_checked(catalog: Catalog, classes: Classes) -> None:
    class Nothing(UserHandler):
        def find(self, by: Any) -> Any:
            return None  # neither success nor notFound: clients get MISSING_RESULT

    report = run(catalog, classes, Nothing(), methods=["find"])
    assert report.lines() == [
        "find.success: no result: none of success or notFound is set [minimal, maximal, negative, +1 more]"
    ]


def test_a_drifted_provider_shows_wire_type_changes_and_extra_fields(
    catalog: Catalog, classes: Classes
) -> None:
    class Drifted(UserHandler):
        def user(self, uid: int) -> Any:
            return self.mod.User(id=f"u-{uid}", name="Ada", nickname="ada")

    report = run(catalog, classes, Drifted(DRIFTED_IDL), methods=["getUser"])
    assert report.lines() == [
        "getUser.success.id: sent as string/binary, but the IDL says i64 [minimal, maximal]"
    ]
    notes = {(n.path, n.message) for n in report.notes}
    assert notes == {
        (
            "getUser.success.<field 9>",
            "undeclared field id 9 (string/binary); the provider's IDL has more fields",
        )
    }


def test_an_undeclared_exception_is_a_violation(catalog: Catalog, classes: Classes) -> None:
    class Forbidding(UserHandler):
        def getUser(self, id: int) -> Any:
            raise self.mod.Forbidden(reason="no")

    report = run(catalog, classes, Forbidding(DRIFTED_IDL), methods=["getUser"])
    assert report.lines() == [
        "getUser.<field 2>: field id 2 (struct) is not a declared outcome (undeclared exception?) "
        "[minimal, maximal, negative, +1 more]"
    ]


def test_a_silent_provider_times_out_and_the_run_continues(catalog: Catalog, classes: Classes) -> None:
    class Slow(UserHandler):
        def getUser(self, id: int) -> Any:
            if id == 0:
                time.sleep(1)
            return super().getUser(id)

    report = run(catalog, classes, Slow(), methods=["getUser"], timeout=0.2)
    assert report.lines() == ["getUser: no reply within 0.2 s [minimal]"]
    assert report.cases_run == EDGE_CASES["getUser"]


def test_a_provider_that_goes_away_ends_the_run_and_skips_the_rest(
    catalog: Catalog, classes: Classes, tmp_path: Path
) -> None:
    class Dying(UserHandler):
        def listUsers(self, limit: int, status: int) -> list[Any]:
            self.stop_listening()
            raise RuntimeError("out of memory")

    report = run(catalog, classes, Dying())
    assert report.lines()[0] == "listUsers: the provider closed the connection without replying [minimal]"
    assert report.lines()[1].startswith("listUsers: provider stopped accepting connections: cannot connect")
    assert report.methods == {"getUser": 4, "listUsers": 1, "find": 0, "ping": 0, "touch": 0}
    report.to_junit(tmp_path / "verify.xml")
    suite = ET.parse(tmp_path / "verify.xml").getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("failures"), suite.get("skipped")) == ("1", "3")


def test_a_provider_that_is_not_running_is_a_call_error(catalog: Catalog, classes: Classes) -> None:
    with serve(UserHandler()) as port:
        pass  # now closed: nothing listens on the port
    with pytest.raises(CallError, match=f"cannot connect to 127.0.0.1:{port}"):
        verify(catalog, classes, SERVICE, ("127.0.0.1", port), cases_per_method=0, timeout=1)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"service_id": "Nope"}, "no service 'Nope'"),
        ({"methods": ["getUser", "deleteUser"]}, "UserService has no method deleteUser"),
        ({"protocol": "json"}, "unknown protocol 'json'"),
        ({"framing": "http"}, "unknown framing 'http'"),
    ],
)
def test_bad_options_are_config_errors(
    catalog: Catalog, classes: Classes, options: dict[str, Any], message: str
) -> None:
    service = options.pop("service_id", SERVICE)
    with pytest.raises(ConfigError, match=message):
        verify(catalog, classes, service, ("127.0.0.1", 9), cases_per_method=0, **options)


def test_junit_has_one_testcase_per_method_with_its_violations(
    catalog: Catalog, classes: Classes, tmp_path: Path
) -> None:
    class NoName(UserHandler):
        def getUser(self, id: int) -> Any:
            return self.mod.User(id=id)

    report = run(catalog, classes, NoName())
    target = tmp_path / "reports" / "verify.xml"
    report.to_junit(target)
    suite = ET.parse(target).getroot().find("testsuite")
    assert suite is not None
    assert suite.get("name") == SERVICE
    assert (suite.get("tests"), suite.get("failures")) == ("5", "1")
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert list(cases) == list(EDGE_CASES)
    failure = cases["getUser"].find("failure")
    assert failure is not None
    assert failure.text is not None
    assert failure.text.startswith("getUser.success.name: required field 2: name (string) is missing")
    assert all(cases[m].find("failure") is None for m in EDGE_CASES if m != "getUser")


def test_thriftbox_mocks_honour_their_own_contract(tmp_path: Path) -> None:
    """The point of verification in reverse: what thriftbox serves must pass it, over both protocols."""
    from tests.serve_support import serve as thriftbox_serve

    idl = tmp_path / "idl"
    idl.mkdir()
    for name in ("users.thrift", "kinds.thrift"):
        (idl / name).write_bytes((USERS_IDL.parent / name).read_bytes())
    catalog = load_catalog([idl])
    classes = Classes(catalog)
    with thriftbox_serve(tmp_path, ["idl"]) as served:
        for service_id in ("users.UserService", "kinds.Echo"):
            for protocol, framing in (("binary", "buffered"), ("compact", "framed")):
                target = ("127.0.0.1", served.port(service_id))
                report = verify(catalog, classes, service_id, target, protocol=protocol, framing=framing)
                assert report.ok, report.lines()
                assert report.cases_run > 3 * len(catalog.services[service_id].methods)
