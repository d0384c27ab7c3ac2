"""breaking(): wire-incompatible changes between two versions of an IDL, one finding each, with file:line."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from thriftbox.contract import Finding, breaking, load_side
from thriftbox.contract.breaking import INFO_KINDS, KINDS
from thriftbox.errors import ConfigError
from thriftbox.idl import load_catalog

SHOP = """\
namespace py shop

enum Status { ACTIVE = 1, SUSPENDED = 2 }

struct Item {
  1: required i64 id
  2: optional string name
  3: i32 quantity
  4: optional list<string> tags
}

struct Page { 1: list<Item> items, 2: optional string next }

union Key { 1: i64 id, 2: string sku }

exception NotFound { 1: string message }

exception Forbidden { 1: string reason }

service Shop {
  Item getItem(1: i64 id, 2: Status status) throws (1: NotFound notFound, 2: Forbidden forbidden)
  Page list(1: Key from)
  void ping()
  oneway void log(1: string line)
}

service Admin {
  void reset()
}
"""


RESERVED_3 = '  4: optional list<string> tags\n} (thriftbox.reserved = "3")'


def diff(tmp_path: Path, old: str, new: str, *, info: bool = False) -> tuple[list[Finding], Path]:
    for side, text in (("old", old), ("new", new)):
        (tmp_path / side).mkdir(exist_ok=True)
        (tmp_path / side / "shop.thrift").write_text(text, encoding="utf-8")
    cats = [load_catalog([tmp_path / side]) for side in ("old", "new")]
    return breaking(*cats, info=info), tmp_path / "new" / "shop.thrift"


def line_of(text: str, fragment: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if fragment in line)


BREAKS = [
    # (kind, old fragment, new fragment, a line of the new file the finding points at)
    ("FIELD_TYPE_CHANGED", "3: i32 quantity", "3: i64 quantity", "3: i64 quantity"),
    (
        "FIELD_TYPE_CHANGED",
        "4: optional list<string> tags",
        "4: optional set<string> tags",
        "4: optional set",
    ),
    ("FIELD_ID_CHANGED", "3: i32 quantity", "5: i32 quantity", "5: i32 quantity"),
    ("FIELD_REMOVED", "  3: i32 quantity\n", "", "struct Item"),
    ("FIELD_REMOVED", "  1: required i64 id\n", "", "struct Item"),
    ("FIELD_REQUIREDNESS_TIGHTENED", "2: optional string name", "2: required string name", "2: required"),
    ("FIELD_REQUIREDNESS_TIGHTENED", "3: i32 quantity", "3: required i32 quantity", "3: required"),
    (
        "FIELD_REQUIRED_ADDED",
        "4: optional list<string> tags",
        "4: optional list<string> tags\n  5: required bool x",
        "5: required",
    ),
    ("SERVICE_REMOVED", "service Admin {\n  void reset()\n}\n", "", None),
    ("METHOD_REMOVED", "  void ping()\n", "", None),
    ("METHOD_ONEWAY_CHANGED", "oneway void log", "void log", "void log"),
    ("METHOD_ONEWAY_CHANGED", "  void ping()", "  oneway void ping()", "oneway void ping"),
    ("METHOD_RETURN_TYPE_CHANGED", "Item getItem(", "Page getItem(", "Page getItem("),
    ("METHOD_RETURN_TYPE_CHANGED", "  void ping()", "  bool ping()", "bool ping()"),
    ("ARG_TYPE_CHANGED", "getItem(1: i64 id", "getItem(1: string id", "getItem(1: string id"),
    ("ARG_ID_CHANGED", "2: Status status)", "3: Status status)", "3: Status status"),
    ("ARG_REMOVED", "(1: i64 id, 2: Status status)", "(1: i64 id)", "Item getItem"),
    ("ARG_REQUIREDNESS_TIGHTENED", "Page list(1: Key from)", "Page list(1: required Key from)", "Page list("),
    (
        "ARG_REQUIRED_ADDED",
        "Page list(1: Key from)",
        "Page list(1: Key from, 2: required i32 size)",
        "Page list(",
    ),
    ("EXCEPTION_REMOVED", ", 2: Forbidden forbidden)", ")", "Item getItem"),
    ("EXCEPTION_ID_CHANGED", "2: Forbidden forbidden", "3: Forbidden forbidden", "Item getItem"),
    ("EXCEPTION_TYPE_CHANGED", "2: Forbidden forbidden", "2: NotFound forbidden", "Item getItem"),
    ("ENUM_VALUE_REMOVED", "ACTIVE = 1, SUSPENDED = 2", "ACTIVE = 1", "enum Status"),
    ("ENUM_VALUE_RENUMBERED", "SUSPENDED = 2", "SUSPENDED = 3", "enum Status"),
    ("ENUM_REMOVED", "enum Status { ACTIVE = 1, SUSPENDED = 2 }", "", None),
    ("STRUCT_KIND_CHANGED", "union Key", "struct Key", "struct Key"),
    ("STRUCT_REMOVED", "union Key { 1: i64 id, 2: string sku }", "", None),
    ("STRUCT_REMOVED", "exception Forbidden { 1: string reason }", "", None),
]


@pytest.mark.parametrize(
    ("kind", "old", "new", "at"), BREAKS, ids=[f"{b[0]}-{i}" for i, b in enumerate(BREAKS)]
)
def test_each_break_is_found_once_where_it_happened(
    tmp_path: Path, kind: str, old: str, new: str, at: str | None
) -> None:
    changed = SHOP.replace(old, new)
    assert changed != SHOP
    if kind in ("STRUCT_REMOVED", "ENUM_REMOVED"):  # the references go too, or the IDL would not load
        changed = changed.replace("Page list(1: Key from)", "Page list(1: i64 from)")
        changed = changed.replace(", 2: Forbidden forbidden", "").replace("2: Status status", "2: i32 status")
    findings, new_file = diff(tmp_path, SHOP, changed)
    assert kind in {f.kind for f in findings}
    found = next(f for f in findings if f.kind == kind)
    if at is not None:
        assert found.location.path == new_file
        assert found.location.line == line_of(changed, at)
    else:  # gone from the new file: points at the old one
        assert found.location.path == tmp_path / "old" / "shop.thrift"
        assert found.location.line > 0
    assert str(found).startswith(f"{found.location}: {kind}: ")
    assert len(findings) == len({(f.kind, f.location) for f in findings})


COMPATIBLE = [
    (
        "new optional field",
        "4: optional list<string> tags",
        "4: optional list<string> tags\n  5: optional i64 x",
    ),
    ("new default field", "4: optional list<string> tags", "4: optional list<string> tags\n  5: i64 x"),
    ("new method", "  void ping()", "  void ping()\n  i32 count()"),
    ("new service", "service Admin {", "service Audit { void audit() }\n\nservice Admin {"),
    ("new enum value", "SUSPENDED = 2", "SUSPENDED = 2, CLOSED = 3"),
    ("renamed field", "2: optional string name", "2: optional string title"),
    ("renamed argument", "getItem(1: i64 id", "getItem(1: i64 itemId"),
    ("renamed enum value", "SUSPENDED = 2", "PAUSED = 2"),
    ("string to binary", "2: optional string name", "2: optional binary name"),
    ("i32 to an enum", "3: i32 quantity", "3: Status quantity"),
    ("typedef", "3: i32 quantity", "3: Count quantity"),
    ("new optional argument", "Page list(1: Key from)", "Page list(1: Key from, 2: i32 size)"),
    ("reserved removal", "  3: i32 quantity\n  4: optional list<string> tags\n}", RESERVED_3),
    ("new exception", "throws (1: NotFound notFound,", "throws (1: NotFound notFound, 3: NotFound gone,"),
    ("loosened requiredness", "1: required i64 id", "1: optional i64 id"),
]


@pytest.mark.parametrize(("what", "old", "new"), COMPATIBLE, ids=[c[0] for c in COMPATIBLE])
def test_compatible_changes_pass(tmp_path: Path, what: str, old: str, new: str) -> None:
    changed = SHOP.replace(old, new)
    if what == "typedef":
        changed = changed.replace("struct Item {", "typedef i32 Count\n\nstruct Item {")
    assert changed != SHOP
    findings, _ = diff(tmp_path, SHOP, changed)
    assert findings == []


@pytest.mark.parametrize(
    ("what", "old", "new", "kind"),
    [
        (
            "new exception",
            "throws (1: NotFound notFound,",
            "throws (1: NotFound notFound, 3: NotFound gone,",
            "EXCEPTION_ADDED",
        ),
        ("loosened requiredness", "1: required i64 id", "1: optional i64 id", "FIELD_REQUIREDNESS_LOOSENED"),
        (
            "reserved removal",
            "  3: i32 quantity\n  4: optional list<string> tags\n}",
            RESERVED_3,
            "FIELD_REMOVED_RESERVED",
        ),
    ],
)
def test_compatible_changes_worth_a_look_are_info(
    tmp_path: Path, what: str, old: str, new: str, kind: str
) -> None:
    findings, _ = diff(tmp_path, SHOP, SHOP.replace(old, new), info=True)
    assert [f.kind for f in findings] == [kind]
    assert not findings[0].is_breaking


def test_a_reserved_id_does_not_excuse_removing_a_required_field(tmp_path: Path) -> None:
    changed = SHOP.replace("  1: required i64 id\n", "").replace(
        "  4: optional list<string> tags\n}", '  4: optional list<string> tags\n} (thriftbox.reserved = "1")'
    )
    findings, _ = diff(tmp_path, SHOP, changed)
    assert [f.kind for f in findings] == ["FIELD_REMOVED"]
    assert "required field Item.id (1) was removed" in findings[0].message


def test_a_moved_file_matches_services_and_structs_by_name(tmp_path: Path) -> None:
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "shop.thrift").write_text(SHOP, encoding="utf-8")
    (tmp_path / "new" / "api").mkdir(parents=True)
    (tmp_path / "new" / "api" / "store.thrift").write_text(SHOP.replace("3: i32 quantity", "3: i16 quantity"))
    old, new = load_catalog([tmp_path / "old"]), load_catalog([tmp_path / "new"])
    assert set(old.services) != set(new.services)  # other file key, other service ids
    findings = breaking(old, new)
    assert [(f.kind, f.location.path.name) for f in findings] == [("FIELD_TYPE_CHANGED", "store.thrift")]
    assert findings[0].message == "field Item.quantity (3) is now i16, was i32"


def test_every_kind_is_documented() -> None:
    found_kinds = {b[0] for b in BREAKS}
    assert found_kinds <= set(KINDS)
    assert set(KINDS) - found_kinds == set()
    assert not set(KINDS) & set(INFO_KINDS)


# -- git revisions ------------------------------------------------------------------------------------------


def git(repo: Path, *args: str) -> None:
    ident = ["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", *ident, *args], cwd=repo, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "idl").mkdir()
    (tmp_path / "idl" / "shop.thrift").write_text(SHOP, encoding="utf-8")
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "idl")
    git(tmp_path, "commit", "-q", "-m", "v1")
    return tmp_path


def test_a_git_revision_against_the_working_tree(repo: Path) -> None:
    changed = SHOP.replace("3: i32 quantity", "3: string quantity").replace("  void ping()\n", "")
    (repo / "idl" / "shop.thrift").write_text(changed, encoding="utf-8")
    findings = breaking(load_side("HEAD:idl", [], repo=repo), load_side("idl", [], repo=repo))
    assert {f.render(repo) for f in findings} == {
        f"HEAD:idl/shop.thrift:{line_of(SHOP, 'void ping()')}: METHOD_REMOVED: Shop.ping was removed",
        f"idl/shop.thrift:{line_of(changed, 'quantity')}: FIELD_TYPE_CHANGED: "
        "field Item.quantity (3) is now string, was i32",
    }
    assert str(next(f for f in findings if f.kind == "FIELD_TYPE_CHANGED")).startswith(
        f"{repo}/idl/shop.thrift:"
    )


def test_two_revisions_and_includes_outside_the_folder(repo: Path) -> None:
    (repo / "common").mkdir()
    (repo / "common" / "base.thrift").write_text("struct Money { 1: i64 cents }\n", encoding="utf-8")
    (repo / "idl" / "shop.thrift").write_text('include "../common/base.thrift"\n' + SHOP, encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "v2")
    (repo / "common" / "base.thrift").write_text("struct Money { 1: double cents }\n", encoding="utf-8")
    git(repo, "commit", "-q", "-am", "v3")
    old, new = load_side("HEAD~1:idl", [], repo=repo), load_side("HEAD:idl", [], repo=repo)
    assert {str(p) for p in new.files} == {"HEAD:idl/shop.thrift", "HEAD:common/base.thrift"}
    assert [
        str(f) for f in breaking(old, new)
    ] == [  # structs are stored and queued too: used by a service or not
        "HEAD:common/base.thrift:1: FIELD_TYPE_CHANGED: field Money.cents (1) is now double, was i64"
    ]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("nope:idl", "unknown git revision 'nope'"),
        ("HEAD:missing", "missing holds no .thrift files at HEAD"),
        ("missing", "no such folder: missing"),
    ],
)
def test_bad_sides_are_config_errors(repo: Path, spec: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_side(spec, [], repo=repo)


def test_a_revision_outside_a_repository_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "idl").mkdir()
    with pytest.raises(ConfigError, match="not inside a git repository"):
        load_side("HEAD:idl", [], repo=tmp_path)


def test_include_dirs_inside_the_repository_are_read_at_the_revision_too(repo: Path) -> None:
    (repo / "third_party").mkdir()
    (repo / "third_party" / "money.thrift").write_text("struct Money { 1: i64 cents }\n", encoding="utf-8")
    shop = 'include "money.thrift"\n' + SHOP.replace("3: i32 quantity", "3: money.Money price")
    (repo / "idl" / "shop.thrift").write_text(shop, encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "v2")
    (repo / "third_party" / "money.thrift").write_text("struct Money { 1: string cents }\n", encoding="utf-8")
    old = load_side("HEAD:idl", ["third_party"], repo=repo)
    new = load_side("idl", ["third_party"], repo=repo)
    assert [f.render(repo) for f in breaking(old, new)] == [
        "third_party/money.thrift:1: FIELD_TYPE_CHANGED: field Money.cents (1) is now string, was i64"
    ]
