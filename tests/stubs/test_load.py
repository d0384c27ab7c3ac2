"""Reading stub files: the shapes accepted, and every mistake reported with its file, line and a hint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.stubs.harness import USERS_IDL, catalog_for, sandbox, write_stubs
from thriftbox.errors import StubError
from thriftbox.stubs import load_stubs
from thriftbox.wire.app import Success


def load_error(tmp_path: Path, text: str, name: str = "bad.yaml", idl: Path = USERS_IDL) -> StubError:
    catalog, classes = catalog_for(idl)
    mocks = write_stubs(tmp_path / "mocks", {name: text})
    with pytest.raises(StubError) as info:
        load_stubs(mocks, catalog, classes)
    err = info.value
    assert err.location is not None
    assert err.location.path == mocks / name
    return err


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    err = load_error(
        tmp_path, "service: Users\nmethods:\n  getUser:\n    - when: {id: 42\n      return: {}\n"
    )
    assert err.message.startswith("YAML syntax error")
    assert err.location is not None
    assert err.location.line in (4, 5)
    assert err.hint


def test_unknown_service(tmp_path: Path) -> None:
    err = load_error(tmp_path, "# users\nservice: Userz\nmethods: {}\n")
    assert err.message == "unknown service 'Userz'"
    assert err.location is not None
    assert err.location.line == 2
    assert err.hint == "did you mean 'Users'?"


def test_ambiguous_service_name_lists_the_ids(tmp_path: Path) -> None:
    idl = tmp_path / "idl"
    idl.mkdir()
    (idl / "a.thrift").write_text("service Svc { void ping() }\n")
    (idl / "b.thrift").write_text("service Svc { void ping() }\n")
    err = load_error(tmp_path, "service: Svc\n", idl=idl)
    assert "ambiguous" in err.message
    assert err.hint is not None
    assert "a.Svc" in err.hint
    assert "b.Svc" in err.hint


def test_unknown_method(tmp_path: Path) -> None:
    err = load_error(tmp_path, "service: Users\nmethods:\n  getUsr:\n    - return: {}\n")
    assert err.message == "unknown method 'getUsr' of service Users"
    assert err.location is not None
    assert err.location.line == 3
    assert err.hint == "did you mean 'getUser'?"


def test_unknown_field_in_when(tmp_path: Path) -> None:
    err = load_error(tmp_path, "service: Users\nmethods:\n  getUser:\n    - when:\n        idd: 4\n")
    assert err.message == "unknown field 'idd' in when"
    assert err.location is not None
    assert err.location.line == 5
    assert err.hint == "did you mean 'id'?"


def test_unknown_nested_field_in_when(tmp_path: Path) -> None:
    text = "service: Users\nmethods:\n  findMatching:\n    - when: {query: {user: {emial: x}}}\n"
    err = load_error(tmp_path, text)
    assert err.message == "unknown field 'emial' in when.query.user"
    assert err.location is not None
    assert err.location.line == 4
    assert err.hint == "did you mean 'email'?"


def test_unknown_field_in_return(tmp_path: Path) -> None:
    text = "service: Users\nmethods:\n  getUser:\n    - return:\n        name: Ada\n        emali: a@b.c\n"
    err = load_error(tmp_path, text)
    assert err.message == "unknown field of User 'emali' in getUser.return"
    assert err.location is not None
    assert err.location.line == 6
    assert err.hint == "did you mean 'email'?"


def test_unknown_exception_type(tmp_path: Path) -> None:
    err = load_error(tmp_path, "service: Users\nmethods:\n  getUser:\n    - throw: {NotFund: {}}\n")
    assert err.message == "getUser: getUser does not declare exception 'NotFund'"
    assert err.location is not None
    assert err.location.line == 4
    assert err.hint == "did you mean 'NotFound'?"


def test_exception_of_another_method_is_refused_with_the_declared_list(tmp_path: Path) -> None:
    err = load_error(tmp_path, "service: Users\nmethods:\n  getUser:\n    - throw: Invalid\n")
    assert err.hint == "getUser declares: NotFound"
    err = load_error(tmp_path, "service: Users\nmethods:\n  ping:\n    - throw: Invalid\n")
    assert err.hint == "ping declares no exceptions; use app_error"


@pytest.mark.parametrize(
    ("rule", "message", "hint"),
    [
        (
            'when: {id: "42"}',
            'when.id: expected an integer (i64), got "42"',
            "write the number without quotes",
        ),
        ("return: {name: 5}", "getUser.return.name: expected a string, got 5", 'write it in quotes: "5"'),
        ("return: {active: yes please}", "getUser.return.active: expected a bool", "write true or false"),
        ("return: {name: no}", "getUser.return.name: expected a string", "YAML reads yes/no"),
        ("return: {role: ADMINS}", "'ADMINS' is not a value of enum Role", "did you mean 'ADMIN'?"),
        ("return: {tags: a}", "getUser.return.tags: expected a list", "brackets"),
        ("return: {id: {$arg: idd}}", "unknown argument 'idd'", "did you mean 'id'?"),
        ("return: {name: {$arg: id}}", "argument id is a i64, which does not fit a string", "same type"),
        ('return: {id: "{{ args.id }}"}', "expected an integer", "templates only make strings"),
        ('return: {name: "{{ id }}"}', "unknown template expression 'id'", "{{ args.NAME }}"),
    ],
)
def test_wrong_value_types(tmp_path: Path, rule: str, message: str, hint: str) -> None:
    err = load_error(tmp_path, f"service: Users\nmethods:\n  getUser:\n    - {rule}\n")
    assert message in err.message
    assert err.location is not None
    assert err.location.line == 4
    assert err.hint is not None
    assert hint in err.hint


@pytest.mark.parametrize(
    ("matcher", "message", "hint"),
    [
        ("{gtt: 4}", "unknown matcher 'gtt' in when.id", "did you mean 'gt'?"),
        ("{regex: a}", "regex matches strings, and this is a i64", None),
        ("{any: false}", "when.id.any takes only `true`", "leave the name out"),
        ("{in: 4}", "when.id.in takes a list of values", None),
        ("{gt: 1, eq: 2, x: 3}", "when.id mixes matchers (gt, eq) with other keys", "write operators alone"),
        ("{contains: 1}", "contains works on strings, binary and containers", None),
    ],
)
def test_bad_matchers(tmp_path: Path, matcher: str, message: str, hint: str | None) -> None:
    err = load_error(tmp_path, f"service: Users\nmethods:\n  getUser:\n    - when: {{id: {matcher}}}\n")
    assert message in err.message
    assert err.location is not None
    assert err.location.line == 4
    if hint is not None:
        assert err.hint is not None
        assert hint in err.hint


def test_bad_regex_and_mixed_matchers(tmp_path: Path) -> None:
    err = load_error(tmp_path, "service: Users\nmethods:\n  greet:\n    - when: {name: {regex: '(a'}}\n")
    assert "bad regular expression" in err.message
    text = "service: Users\nmethods:\n  findMatching:\n    - when: {query: {limit: 3, eq: {}}}\n"
    err = load_error(tmp_path, text)
    assert "mixes matchers" in err.message


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("service: Users\nmethod: {}\n", "unknown key 'method' in a stub document", 2),
        ("service: Users\nmethods:\n  ping:\n    - retrun: null\n", "unknown rule key 'retrun' in ping", 4),
        (
            "service: Users\nmethods:\n  ping:\n    - {return: null, throw: X}\n",
            "has both 'return' and 'throw'",
            4,
        ),
        (
            "service: Users\nmethods:\n  ping:\n    - return: null\n    - return: null\n  ping: []\n",
            "duplicate key",
            6,
        ),
        (
            "service: Users\nmethods:\n  ping:\n    - probability: 2\n",
            "probability must be a number from 0 to 1",
            4,
        ),
        ("service: Users\nmethods:\n  ping:\n    - latency_ms: {p50: 10}\n", "a percentile latency needs", 4),
        (
            "service: Users\nmethods:\n  ping:\n    - latency_ms: {p50: 10, p98: 4}\n",
            "unknown latency key",
            4,
        ),
        ("service: Users\nmethods:\n  ping:\n    - latency_ms: {min: 10, max: 4}\n", "min <= max", 4),
        ("service: Users\nmethods:\n  ping:\n    - fault: explode\n", "unknown fault 'explode'", 4),
        (
            "service: Users\nmethods:\n  ping:\n    - app_error: {type: OOPS}\n",
            "unknown TApplicationException type",
            4,
        ),
        ("service: Users\nmethods:\n  ping:\n    - return: 3\n", "ping returns void", 4),
        ("service: Users\nmethods:\n  getUser:\n    - return: null\n", "cannot be null on the wire", 4),
        ("service: Users\nmethods:\n  ping:\n    - sequence: []\n", "sequence takes a list of answers", 4),
        ("service: Users\nmethods:\n  ping:\n    - repeat: cycle\n", "repeat only goes with sequence", 4),
        ("service: Users\nmethods:\n  ping:\n    - sequence: [{when: {}}]\n", "unknown step key 'when'", 4),
        ("service: Users\ndefault:\n  when: {id: 1}\n", "a default rule cannot use 'when'", 3),
        (
            "service: Users\nmethods:\n  getUser:\n    - state: {op: fetch}\n",
            "state takes {op: OP, key: ARG}",
            4,
        ),
        ("- service: Users\n- 3\n", "a stub document must be a mapping", 2),
        ("methods: {}\n", "a stub document needs `service: NAME`", 1),
    ],
)
def test_malformed_rules(tmp_path: Path, text: str, message: str, line: int) -> None:
    err = load_error(tmp_path, text)
    assert message in err.message
    assert err.location is not None
    assert err.location.line == line


def test_json_files_report_lines_too(tmp_path: Path) -> None:
    doc = {"service": "Users", "methods": {"getUser": [{"when": {"id": 1}, "return": {"nmae": "x"}}]}}
    err = load_error(tmp_path, json.dumps(doc, indent=2), name="bad.json")
    assert err.message == "unknown field of User 'nmae' in getUser.return"
    assert err.location is not None
    assert err.location.line == 10
    err = load_error(tmp_path, '{"service": "Users",\n "methods": {,}}', name="broken.json")
    assert err.message.startswith("JSON syntax error")
    assert err.location is not None
    assert err.location.line == 2


def test_json_and_yaml_files_in_subfolders_all_load(tmp_path: Path) -> None:
    files = {
        "users.json": json.dumps({"service": "Users", "methods": {"greet": {"return": "json"}}}, indent=1),
        "deep/orders.yml": "service: Orders\nmethods:\n  status: {return: shipped}\n",
        "multi.yaml": "service: Users\nmethods:\n  ping: {return: null}\n---\nservice: Orders\n",
        "list.yaml": "- service: Users\n  methods:\n    small: {return: 2}\n",
        ".hidden/skip.yaml": "not: [valid",
        "notes.txt": "not a stub",
    }
    box = sandbox(tmp_path, files)
    assert box.call("Users", "greet", name="x").reply == Success("json")
    assert box.call("Orders", "status", orderId=1).reply == Success("shipped")
    assert box.call("Users", "small").reply == Success(2)
    assert box.book.services_in(box.mocks / "users.json") == {"users.Users"}
    assert box.book.services_in(box.mocks / "deep/orders.yml") == {"users.Orders"}
    assert box.book.services_in(box.mocks / "multi.yaml") == {"users.Users", "users.Orders"}
    assert box.book.services_in(box.mocks / "notes.txt") == set()


def test_no_folder_or_an_empty_folder_gives_an_empty_book(tmp_path: Path) -> None:
    catalog, classes = catalog_for(USERS_IDL)
    assert load_stubs(None, catalog, classes).services == {}
    (tmp_path / "empty").mkdir()
    assert load_stubs(tmp_path / "empty", catalog, classes).services == {}
    with pytest.raises(StubError, match="does not exist"):
        load_stubs(tmp_path / "missing", catalog, classes)


def test_yaml_anchors_and_dates_read_as_written(tmp_path: Path) -> None:
    text = """\
    service: Users
    methods:
      greet:
        - when: {name: 2024-01-01}
          return: &answer "dated"
        - return: *answer
    """
    box = sandbox(tmp_path, text)
    assert box.call("Users", "greet", name="2024-01-01").reply == Success("dated")


def test_optional_documents_are_skipped_when_their_service_is_not_loaded(tmp_path: Path) -> None:
    text = "service: Elsewhere\noptional: true\nmethods: {nothing: {return: 1}}\n---\nservice: Users\n"
    box = sandbox(tmp_path, {"shared.yaml": text})
    assert box.book.services_in(box.mocks / "shared.yaml") == {"users.Users"}
    err = load_error(tmp_path, "service: Elsewhere\nmethods: {}\n")
    assert err.hint is not None
    assert "optional: true" in err.hint
    err = load_error(tmp_path, "service: Users\noptional: true\nmethods: {gtUser: []}\n")
    assert err.message == "unknown method 'gtUser' of service Users"  # a loaded service is still checked


def test_a_single_stub_file_can_be_loaded(tmp_path: Path) -> None:
    catalog, classes = catalog_for(USERS_IDL)
    mocks = write_stubs(tmp_path / "mocks", {"a.yaml": "service: Users\n", "b.yaml": "service: Orders\n"})
    book = load_stubs(mocks / "b.yaml", catalog, classes)
    assert set(book.services) == {"users.Orders"}


def test_services_in_accepts_relative_and_absolute_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    catalog, classes = catalog_for(USERS_IDL)
    write_stubs(tmp_path / "mocks", {"orders.yaml": "service: Orders\n"})
    book = load_stubs(Path("mocks"), catalog, classes)
    assert book.services_in(Path("mocks/orders.yaml")) == {"users.Orders"}
    assert book.services_in(tmp_path / "mocks" / "orders.yaml") == {"users.Orders"}
