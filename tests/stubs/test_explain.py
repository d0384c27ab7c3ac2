"""Issue 14: why no stub rule answered a call: the nearest rules of its method and the first field that differed."""

from __future__ import annotations

from pathlib import Path

from tests.stubs.harness import sandbox
from thriftbox.control.messages import NearMiss
from thriftbox.stubs.explain import near_misses

STUBS = """
service: Users
methods:
  greet:
    - when: {name: ada, times: 3}
      return: "hi ada"
    - when: {name: bob}
      return: "hi bob"
    - when: {times: {gt: 10}}
      return: "so many"
  findMatching:
    - when: {query: {user: {name: ada, role: ADMIN}, limit: 5}}
      return: []
  getUser:
    - return: {name: always}
"""


def texts(misses: list[NearMiss]) -> list[str]:
    return [f"{m.rule.rsplit('/', 1)[-1]} {m.text()} ({m.matched}/{m.of})" for m in misses]


def test_the_nearest_rule_comes_first_with_the_first_field_that_differed(tmp_path: Path) -> None:
    box = sandbox(tmp_path, STUBS)
    assert box.call("Users", "greet", name="ada", times=4).source == "generated"
    misses = near_misses(box.engine, "users.Users", "greet", {"name": "ada", "times": 4})
    assert texts(misses) == [
        "stubs.yaml:5 when.times: wanted 3, got 4 (1/2)",
        'stubs.yaml:7 when.name: wanted "bob", got "ada" (0/1)',
        'stubs.yaml:9 when.times: wanted {"gt": 10}, got 4 (0/1)',
    ]


def test_struct_fields_are_followed_to_the_one_that_differed(tmp_path: Path) -> None:
    box = sandbox(tmp_path, STUBS)
    args = {"query": {"user": {"name": "ada", "role": "GUEST"}, "limit": 5}}
    (miss,) = near_misses(box.engine, "users.Users", "findMatching", args)
    assert miss.text() == 'when.query.user.role: wanted "ADMIN", got "GUEST"'
    assert (miss.matched, miss.of) == (1, 3)


def test_a_rule_scoped_to_another_client_says_so(tmp_path: Path) -> None:
    box = sandbox(tmp_path, STUBS)
    rule_id = box.engine.add_rule("users.Users", "ping", {"return": None}, peer="127.0.0.3")
    (miss,) = near_misses(box.engine, "users.Users", "ping", {}, peer="127.0.0.9")
    assert miss.rule == rule_id
    assert miss.text() == "answers only calls from 127.0.0.3 (this one came from 127.0.0.9)"


def test_nothing_to_explain_when_no_rule_could_have_answered(tmp_path: Path) -> None:
    box = sandbox(tmp_path, STUBS)
    assert near_misses(box.engine, "users.Users", "greet", {"name": "ada", "times": 3}) == []  # it matched
    assert near_misses(box.engine, "users.Users", "searchUsers", {"text": "x"}) == []  # no rules
    assert near_misses(box.engine, "users.Users", "nope", {}) == []


def test_near_misses_travel_as_json() -> None:
    miss = NearMiss("mocks/users.yaml:12", "when.id", 42, 43, 0, 1)
    back = NearMiss.from_json(miss.to_json())
    assert back == miss
    assert miss.to_json()["text"] == "when.id: wanted 42, got 43"
    reason = NearMiss("api:1", reason="answers only calls from 127.0.0.3 (this one came from ::1)")
    assert NearMiss.from_json(reason.to_json()) == reason
