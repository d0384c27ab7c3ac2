"""Stub files that would exhaust the loader: values nested past any sane depth and YAML alias bombs are
refused with ``path:line: too deep`` / ``too many values``, quickly, and a running ``serve`` keeps serving."""

from __future__ import annotations

import re
import resource
import time
from pathlib import Path

import pytest

from tests.stubs.harness import USERS_IDL, catalog_for, sandbox, write_stubs
from tests.supervisor.test_reload_process import RecordingRuntime, make_project
from thriftbox.errors import StubError
from thriftbox.stubs import load_stubs
from thriftbox.stubs.limits import MAX_ALIAS_VALUES, MAX_DEPTH
from thriftbox.supervisor.config import ServeConfig
from thriftbox.supervisor.session import Session
from thriftbox.wire.app import Success


def load_error(tmp_path: Path, name: str, text: str, *, hinted: bool = True) -> StubError:
    catalog, classes = catalog_for(USERS_IDL)
    mocks = write_stubs(tmp_path / "mocks", {name: text})
    with pytest.raises(StubError) as info:
        load_stubs(mocks, catalog, classes)
    err = info.value
    assert err.location is not None
    assert err.location.path == mocks / name
    assert err.hint or not hinted
    return err


def deep_json(depth: int) -> str:
    return (
        '{"service": "Users", "methods": {"getUser": {"return": {"tags": '
        + "[" * depth
        + "]" * depth
        + "}}}}"
    )


def deep_yaml(depth: int) -> str:
    return (
        "service: Users\nmethods:\n  getUser:\n    return:\n      tags: " + "[" * depth + "]" * depth + "\n"
    )


def laughs(levels: int = 6, width: int = 9) -> str:
    """The "billion laughs": each anchor lists ``width`` aliases of the one before, ``width ** levels`` in all."""
    lines = ["lol: &l0 [" + ", ".join(["lol"] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]")
    lines.append(f"service: Users\nmethods:\n  getUser:\n    return:\n      tags: *l{levels - 1}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(("name", "text"), [("deep.json", deep_json(1000)), ("deep.yaml", deep_yaml(990))])
def test_a_deeply_nested_file_is_too_deep_not_a_crash(tmp_path: Path, name: str, text: str) -> None:
    err = load_error(tmp_path, name, text)
    assert err.message.startswith("too deep")
    assert str(MAX_DEPTH) in err.message
    assert err.location is not None
    assert err.location.line == (1 if name.endswith(".json") else 5)


def test_block_style_nesting_is_bounded_too(tmp_path: Path) -> None:
    head = "service: Users\nmethods:\n  getUser:\n    return:\n"
    nested = "".join("  " * (i + 3) + "scores:\n" for i in range(200)) + "  " * 203 + "x: 1\n"
    err = load_error(tmp_path, "block.yaml", head + nested)
    assert err.message.startswith("too deep")
    assert err.location is not None
    # line 5 starts the mapping of `return` (level 4), each line below one level deeper
    assert err.location.line == 5 + (MAX_DEPTH + 1 - 4)


@pytest.mark.parametrize("name", ["deep.json", "deep.yaml"])
def test_nesting_just_past_the_limit_is_refused_and_at_the_limit_checked_as_usual(
    tmp_path: Path, name: str
) -> None:
    make = deep_json if name.endswith(".json") else deep_yaml
    # the document itself takes 4 levels (document, methods, getUser, return): tags may take the rest
    over = load_error(tmp_path / "over", name, make(MAX_DEPTH - 3))
    assert over.message.startswith("too deep")
    within = load_error(tmp_path / "within", name, make(MAX_DEPTH - 4), hinted=False)
    assert not within.message.startswith("too deep")  # read, then checked against the IDL: tags are strings
    assert "expected a string" in within.message


def test_a_yaml_alias_bomb_is_refused_fast_and_small(tmp_path: Path) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    err = load_error(tmp_path, "laughs.yaml", laughs())
    elapsed = time.perf_counter() - t0
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert err.message.startswith("too many values")
    assert f"{MAX_ALIAS_VALUES:,}" in err.message
    assert elapsed < 0.5, elapsed
    assert grown_kib < 20_000, grown_kib


def test_anchors_and_merge_keys_within_the_limit_still_work(tmp_path: Path) -> None:
    box = sandbox(
        tmp_path,
        """
        service: Users
        methods:
          getUser:
            - when: {id: 1}
              return: &ada {name: Ada, tags: &tags [a, b]}
            - return: {<<: *ada, email: grace@example.com}
          listUsers:
            - return: [*ada, {name: Alan, tags: *tags}]
        """,
    )
    merged = box.call("Users", "getUser", id=2).reply
    assert isinstance(merged, Success)
    assert (merged.value.name, merged.value.email, merged.value.tags) == (
        "Ada",
        "grace@example.com",
        ["a", "b"],
    )
    listed = box.call("Users", "listUsers").reply
    assert isinstance(listed, Success)
    assert [(u.name, u.tags) for u in listed.value] == [("Ada", ["a", "b"]), ("Alan", ["a", "b"])]


def test_an_alias_that_contains_itself_is_still_refused(tmp_path: Path) -> None:
    err = load_error(tmp_path, "loop.yaml", "service: Users\nmethods: &m\n  getUser: {return: {tags: *m}}\n")
    assert "refers to itself" in err.message or "too deep" in err.message


def test_a_too_deep_save_fails_the_reload_and_serve_keeps_serving(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    runtime = RecordingRuntime()
    lines: list[str] = []
    options = ServeConfig(
        paths=(root / "idl",), mocks_dir=root / "mocks", root=root, admin_port=0, watch=False
    )
    session = Session(options, report=lines.append, runtime=runtime)  # type: ignore[arg-type]
    session.start()
    try:
        stubs = root / "mocks" / "greeter.yaml"
        stubs.write_text(
            "service: Greeter\nmethods:\n  hello: {return: {text: " + "[" * 990 + "]" * 990 + "}}\n"
        )
        session.apply_changes({stubs})
        assert runtime.reloads == []
        assert len(lines) == 1
        assert re.search(r"mocks/greeter\.yaml: reload failed, .*greeter\.yaml:3(:\d+)?: too deep", lines[0])
        stubs.write_text("service: Greeter\nmethods:\n  hello: {return: {text: v2}}\n")
        session.apply_changes({stubs})
        assert len(runtime.reloads) == 1
    finally:
        session.stop()


def test_a_too_deep_rule_added_at_run_time_is_refused(tmp_path: Path) -> None:
    box = sandbox(tmp_path, "service: Users\n")
    deep: list[object] = []
    for _ in range(400):  # json.loads reads this much from an admin request body without complaint
        deep = [deep]
    with pytest.raises(StubError, match=r"^too deep") as info:
        box.engine.add_rule(box.sid("Users"), "getUser", {"return": {"tags": deep}})
    assert info.value.hint
    box.engine.add_rule(box.sid("Users"), "getUser", {"return": {"tags": ["fine"]}})
