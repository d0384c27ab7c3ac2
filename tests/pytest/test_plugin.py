"""The pytest plugin as consumers use it: the sample project of docs/examples/consumer and small test files,
each run by pytest itself in a subprocess (pytester), against mocks served on real ports."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from thriftbox.contract import verify
from thriftbox.contract.interactions import interaction, journal_violations, merge_interactions
from thriftbox.idl.classes import Classes
from thriftbox.pytest.fixture import free_base_port
from thriftbox.supervisor.config import ServeConfig
from thriftbox.supervisor.session import Session

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "docs" / "examples" / "consumer"
INSTALLED = any(
    ep.value == "thriftbox.pytest.plugin" for ep in importlib.metadata.entry_points(group="pytest11")
)
PLUGIN = [] if INSTALLED else ["-p", "thriftbox.pytest.plugin"]  # a plain checkout has no entry point

# A consumer's IDL that drifted from the served one: Users.getUser takes a string id here, an i64 there.
OLD_IDL = """
namespace py old
struct User { 1: required i64 id, 2: required string handle }
exception NotFound { 1: string message }
service Users { User getUser(1: string id) throws (1: NotFound notFound) }
"""


@pytest.fixture(autouse=True)
def _importable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Subprocesses import thriftbox from this checkout, whatever their working directory."""
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join([str(REPO / "sandbox"), os.environ.get("PYTHONPATH", "")])
    )


@pytest.fixture
def sample(pytester: pytest.Pytester) -> Path:
    """A copy of the sample consumer project, as its developers have it."""
    shutil.copytree(SAMPLE, pytester.path, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
    return pytester.path


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess(*PLUGIN, "-p", "no:cacheprovider", "-W", "error", *args, timeout=90)


def project(pytester: pytest.Pytester, **ini: str) -> None:
    """A consumer project serving the sample's IDL and stubs, with consumer code and tests written inline."""
    settings = {"thriftbox_idl": str(SAMPLE / "idl"), "thriftbox_runtime": "process", **ini}
    pytester.makeini("[pytest]\n" + "".join(f"{k} = {v}\n" for k, v in settings.items() if v))
    pytester.makefile(".thrift", old=OLD_IDL)


def contract_calls(path: Path) -> set[tuple[str, str, str]]:
    """(method, args, outcome) of every interaction of a contract file."""
    return {
        (i["method"], json.dumps(i["args"], sort_keys=True), i["expect"].get("exception", "result"))
        for i in json.loads(path.read_text())
    }


# -- the sample project ------------------------------------------------------------------------------------


def test_the_sample_project_passes_and_exports_what_it_relied_on(
    sample: Path, pytester: pytest.Pytester
) -> None:
    result = run(pytester, "-v", "--thriftbox-contract", "contracts/users.json")

    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(["thriftbox: wrote 4 interaction(s) to the contract */contracts/users.json"])
    result.stdout.fnmatch_lines(["thriftbox dashboard: http://127.0.0.1:*/"])  # open while the tests run
    assert contract_calls(sample / "contracts" / "users.json") == {
        ("getUser", '{"id": 1}', "result"),  # generated data
        ("getUser", '{"id": 42}', "result"),  # the shared stubs
        ("getUser", '{"id": 901}', "NotFound"),
        ("searchUsers", '{"limit": 10, "query": "ada"}', "result"),
    }  # not the answers the tests stubbed themselves (user 7, the refused search)


def test_the_exported_contract_verifies_against_the_providers_mock(
    sample: Path, pytester: pytest.Pytester, tmp_path: Path
) -> None:
    run(pytester, "--thriftbox-contract", "users.json").assert_outcomes(passed=6)
    contract = sample / "users.json"

    with_stubs = replay(contract, sample / "idl", sample / "mocks", tmp_path / "a")
    without_stubs = replay(contract, sample / "idl", None, tmp_path / "b")

    assert with_stubs.ok, with_stubs.lines()
    assert with_stubs.cases_run == len(json.loads(contract.read_text()))
    # a provider that does not throw NotFound for deleted users breaks what the consumer relies on
    assert [(v.method, v.case) for v in without_stubs.violations] == [("getUser", "users.json #3")]


def replay(contract: Path, idl: Path, mocks: Path | None, root: Path) -> Any:
    """``thriftbox verify --contract`` against a freshly served mock of ``idl``."""
    options = ServeConfig(
        paths=(idl,), runtime="process", port=free_base_port(10), mocks_dir=mocks, watch=False, root=root
    )
    session = Session(options)
    session.start()
    try:
        assert session.catalog is not None
        target = ("127.0.0.1", session.ports["users.Users"])
        return verify(session.catalog, Classes(session.catalog), "users.Users", target, contract=contract)
    finally:
        session.stop()


def test_a_consumer_whose_idl_drifted_fails_naming_the_field(sample: Path, pytester: pytest.Pytester) -> None:
    served = (
        sample / "idl" / "users.thrift"
    )  # the provider widened searchUsers' limit; Profiles still sends an i32
    served.write_text(served.read_text().replace("2: i32 limit", "2: i64 limit"))

    result = run(pytester)

    result.assert_outcomes(passed=4, failed=2)
    result.stdout.fnmatch_lines(
        [
            "FAILED tests/test_profiles.py::test_a_refused_search_finds_nobody - *",
            "FAILED tests/test_profiles.py::test_search_asks_for_ten_users - *",
        ],
        consecutive=False,
    )
    result.stdout.fnmatch_lines(["*searchUsers: argument 'limit' (field 2) must be i64, got i32*"])


# -- violations, stubs, the journal ----------------------------------------------------------------------


def test_a_violation_the_consumer_swallows_still_fails_its_test(pytester: pytest.Pytester) -> None:
    project(pytester)
    pytester.makepyfile(
        test_old="""
        import pytest, thriftpy2
        from thriftpy2.thrift import TApplicationException

        old = thriftpy2.load("old.thrift", module_name="old_thrift")

        def lookup(client, user_id):  # a consumer that hides every failure
            try:
                return client.getUser(user_id)
            except Exception:
                return None

        def test_swallowed(thriftbox):
            assert lookup(thriftbox.client("Users", service=old.Users), "42") is None

        @pytest.mark.thriftbox_allow_violations
        def test_meant(thriftbox):
            with pytest.raises(TApplicationException) as err:
                thriftbox.client("Users", service=old.Users).getUser("42")
            assert err.value.type == TApplicationException.PROTOCOL_ERROR

        def test_the_next_test_is_clean(thriftbox):
            assert thriftbox.client("Users").getUser(42).id == 42
        """
    )

    result = run(pytester, "-v")

    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*test_swallowed FAILED*",
            "*thriftbox: the mock rejected call(s) that break the IDL:",
            "*users.Users: getUser: argument 'id' (field 1) must be i64, got string",
        ]
    )


def test_stubs_calls_and_state_belong_to_one_test(pytester: pytest.Pytester) -> None:
    project(pytester)
    pytester.makepyfile(
        test_isolation="""
        import pytest
        from thriftbox.errors import StubError

        def test_stubbed(thriftbox):
            thriftbox.stub("Users", "getUser", returns={"handle": "stubbed"})
            assert thriftbox.client("Users").getUser(1).handle == "stubbed"

        def test_not_stubbed_any_more(thriftbox):
            users = thriftbox.client("Users")
            assert users.getUser(1).handle != "stubbed"
            users.searchUsers("ada", 3)
            assert [c.method for c in thriftbox.calls("Users")] == ["getUser", "searchUsers"]
            [call] = thriftbox.calls("users.Users", "searchUsers")
            assert call.args == {"query": "ada", "limit": 3}
            assert len(call.reply["value"]) == len(users.searchUsers("ada", 3))

        def test_a_stub_removed_early(thriftbox):
            stub = thriftbox.stub("Users", "getUser", when={"id": 5}, returns={"handle": "early"})
            stub.remove()
            assert thriftbox.client("Users").getUser(5).handle != "early"

        def test_a_stub_that_does_not_fit_the_idl(thriftbox):
            with pytest.raises(StubError, match="did you mean 'handle'"):
                thriftbox.stub("Users", "getUser", returns={"handel": "x"})
        """
    )

    run(pytester, "-v").assert_outcomes(passed=4)


def test_the_plugin_is_inert_until_a_test_asks_for_the_fixture(pytester: pytest.Pytester) -> None:
    project(pytester)
    pytester.makepyfile(
        test_plain="""
        import sys

        def test_nothing_served():
            assert "thriftbox.supervisor.session" not in sys.modules
            assert not [m for m in sys.modules if m.startswith("thriftpy2")]
        """
    )

    result = run(pytester, "--strict-config", "--strict-markers")

    result.assert_outcomes(passed=1)
    assert "warning" not in result.stdout.str().lower()
    assert not list(pytester.path.rglob(".thriftbox"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "*thriftbox: no IDL to serve; set thriftbox_idl in your pytest configuration*"),
        (
            ("--thriftbox-idl", "nowhere"),
            "*thriftbox could not serve the mocks: *nowhere: no such file or folder*",
        ),
    ],
)
def test_a_misconfigured_fixture_says_what_to_fix(
    pytester: pytest.Pytester, args: tuple[str, ...], message: str
) -> None:
    project(pytester, thriftbox_idl="")
    pytester.makepyfile(test_one="def test_one(thriftbox):\n    pass\n")

    result = run(pytester, *args)

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([message])


# -- pytest-xdist ------------------------------------------------------------------------------------------


def test_xdist_workers_share_one_set_of_mocks_but_not_their_stubs_or_calls(pytester: pytest.Pytester) -> None:
    if importlib.util.find_spec("xdist") is None:
        pytest.skip("pytest-xdist is not installed")
    project(pytester)
    sync = pytester.mkdir("sync")
    # Two files run at the same time on two workers, against the same mocks: each one's stubs answer only its
    # own calls (a's getUser stub, b's catch-all), and each one's calls() shows only its own calls.
    pytester.makepyfile(
        test_a=f"""
        import pathlib, time
        SYNC = pathlib.Path({str(sync)!r})

        def wait_for(name):
            deadline = time.monotonic() + 30
            while not (SYNC / name).exists():
                assert time.monotonic() < deadline, f"the other worker never wrote {{name}}"
                time.sleep(0.02)

        def test_a(thriftbox):
            thriftbox.stub("Users", "getUser", returns={{"handle": "from-a"}})
            (SYNC / "a-port").write_text(str(thriftbox.ports["users.Users"]))
            wait_for("b-stubbed")
            users = thriftbox.client("Users")
            assert isinstance(users.searchUsers("a", 1), list)  # b's catch-all does not answer a
            assert users.getUser(2).handle == "from-a"
            assert [c.method for c in thriftbox.calls()] == ["searchUsers", "getUser"]
            (SYNC / "a-done").touch()
        """,
        test_b=f"""
        import pathlib, time
        import pytest
        from thriftpy2.thrift import TApplicationException
        SYNC = pathlib.Path({str(sync)!r})

        def wait_for(name):
            deadline = time.monotonic() + 30
            while not (SYNC / name).exists():
                assert time.monotonic() < deadline, f"the other worker never wrote {{name}}"
                time.sleep(0.02)

        def test_b(thriftbox):
            wait_for("a-port")
            assert thriftbox.ports["users.Users"] == int((SYNC / "a-port").read_text())  # served once
            users = thriftbox.client("Users")
            assert users.getUser(1).handle != "from-a"
            thriftbox.stub("Users", app_error="b is down")
            (SYNC / "b-stubbed").touch()
            with pytest.raises(TApplicationException, match="b is down"):
                users.searchUsers("b", 2)
            wait_for("a-done")
            assert [c.method for c in thriftbox.calls()] == ["getUser", "searchUsers"]
        """,
    )

    result = run(pytester, "-n", "2", "--dist", "loadfile", "--thriftbox-contract", "c.json")

    result.assert_outcomes(passed=2)
    # the controller merges what each worker recorded; stubbed answers are not part of the contract
    assert contract_calls(pytester.path / "c.json") == {
        ("getUser", '{"id": 1}', "result"),
        ("searchUsers", '{"limit": 1, "query": "a"}', "result"),
    }


# -- the contract file, unit by unit -----------------------------------------------------------------------


def entry(
    reply: dict[str, Any], source: str = "generated", rule: str | None = None, **args: Any
) -> dict[str, Any]:
    return {
        "service": "users.Users",
        "method": "getUser",
        "args": args,
        "reply": reply,
        "source": source,
        "rule": rule,
    }


def expectation(e: dict[str, Any]) -> dict[str, Any]:
    found = interaction(e)
    assert found is not None
    return dict(found["expect"])


def test_interactions_keep_what_a_provider_can_be_held_to() -> None:
    found = {"kind": "success", "value": {"id": 1}}
    missing = {"kind": "exception", "field": "notFound", "type": "NotFound", "value": {"message": "no"}}
    failed = {"kind": "app_error", "type": "INTERNAL_ERROR", "message": "boom"}

    assert expectation(entry(found, id=1)) == {"result": {"id": 1}}
    assert expectation(entry(missing, "stub", "mocks/users.yaml:8", id=901)) == {
        "exception": "NotFound",
        "value": {"message": "no"},
    }
    assert expectation(entry(failed, "stub", "mocks/users.yaml:9", id=13)) == {
        "exception": "TApplicationException",
        "type": "INTERNAL_ERROR",
    }
    assert interaction(entry(missing, "stub", "api:3", id=7)) is None  # arranged by a test
    assert interaction(entry({"kind": "fault", "fault": "close", "seconds": 0}, "stub", "x:1", id=1)) is None
    assert interaction(entry({"kind": "oneway"}, id=1)) is None


def test_a_protocol_error_is_a_violation_unless_a_stub_answered_it() -> None:
    rejected = {"kind": "app_error", "type": "PROTOCOL_ERROR", "message": "getUser: required argument 'id'"}

    assert journal_violations([entry(rejected, "wire")]) == ["users.Users: getUser: required argument 'id'"]
    assert journal_violations([entry(rejected, "stub", "mocks/users.yaml:3")]) == []
    assert interaction(entry(rejected, "wire")) is None


def test_merged_interactions_are_one_per_call_and_outcome_in_a_stable_order() -> None:
    a, b, c = (
        interaction(entry({"kind": "success", "value": {"handle": h}}, id=i))
        for h, i in (("a", 2), ("b", 2), ("c", 1))
    )

    assert merge_interactions([a, b, c]) == merge_interactions([c, a]) == [c, a]
