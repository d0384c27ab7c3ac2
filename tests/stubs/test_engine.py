"""The stub engine's decisions: which rule answers a call, and with what."""

from __future__ import annotations

import statistics
import textwrap
from pathlib import Path

import pytest

from tests.stubs.harness import Sandbox, sandbox
from thriftbox.errors import StubError
from thriftbox.stubs import load_stubs
from thriftbox.wire.app import AppError, Fault, NoReply, Raise, Success

USERS = """\
service: Users
methods:
  getUser:
    - when: {id: 42}
      return: {name: Grace Hopper, email: grace@navy.example}
    - when: {id: 404}
      throw: {NotFound: {message: no user 404}}
"""


def test_exact_match_fixes_the_named_fields_and_generates_the_rest(tmp_path: Path) -> None:
    box = sandbox(tmp_path, USERS)
    decision = box.call("Users", "getUser", id=42)
    assert decision.source == "stub"
    assert decision.rule == f"{box.mocks / 'stubs.yaml'}:4"
    assert isinstance(decision.reply, Success)
    user = decision.reply.value
    assert (user.name, user.email) == ("Grace Hopper", "grace@navy.example")
    assert user.id == 42  # the generator echoes the id argument into the answer
    assert isinstance(user.tags, list)  # fields left out are generated, not left unset


def test_throw_raises_the_declared_exception_in_its_result_field(tmp_path: Path) -> None:
    box = sandbox(tmp_path, USERS)
    decision = box.call("Users", "getUser", id=404)
    assert isinstance(decision.reply, Raise)
    assert decision.reply.field_name == "notFound"
    assert decision.reply.exc.message == "no user 404"
    assert decision.rule is not None
    assert decision.rule.endswith(":6")


def test_no_matching_rule_falls_back_to_generated_data(tmp_path: Path) -> None:
    box = sandbox(tmp_path, USERS)
    assert box.call("Users", "getUser", id=7).reply is None
    assert box.call("Users", "getUser", id=7).source == "generated"
    assert box.call("Users", "ping").reply is None  # a method without stubs


def test_rules_are_tried_in_order_and_the_first_match_wins(tmp_path: Path) -> None:
    box = sandbox(
        tmp_path,
        """\
        service: Users
        methods:
          greet:
            - when: {name: Ada}
              return: first
            - when: {name: {any: true}}
              return: second
        """,
    )
    assert box.call("Users", "greet", name="Ada").reply == Success("first")
    assert box.call("Users", "greet", name="Bob").reply == Success("second")


@pytest.mark.parametrize(
    ("when", "hits", "misses"),
    [
        ({"times": "{gt: 100}"}, [101, 5000], [100, -1]),
        ({"times": "{gte: 1, lte: 3}"}, [1, 3], [0, 4]),
        ({"times": "{lt: 0}"}, [-5], [0, None]),
        ({"times": "{in: [1, 2, 3]}"}, [2], [4]),
        ({"times": "{not_in: [1, 2]}"}, [3], [1]),
        ({"times": "{ne: 7}"}, [8], [7]),
        ({"times": "{not: {gt: 5}}"}, [5], [6]),
        ({"times": "{any_of: [1, {gt: 10}]}"}, [1, 11], [5]),
        ({"times": "{any: true}"}, [0, None], []),
        ({"times": "{present: false}"}, [None], [0]),
        ({"times": "{$eq: 3}"}, [3], [4]),
    ],
)
def test_numeric_matchers(
    tmp_path: Path, when: dict[str, str], hits: list[int | None], misses: list[int | None]
) -> None:
    box = sandbox(
        tmp_path,
        f"service: Users\nmethods:\n  greet:\n    - when: {{times: {when['times']}}}\n      return: hit\n",
    )
    for value in hits:
        assert box.call("Users", "greet", name="x", times=value).reply == Success("hit"), value
    for value in misses:
        assert box.call("Users", "greet", name="x", times=value).reply is None, value


@pytest.mark.parametrize(
    ("matcher", "hits", "misses"),
    [
        ('{regex: ".*@example\\\\.com"}', ["ada@example.com"], ["ada@example.org", "x@example.com.evil"]),
        ("{contains: love}", ["gloves"], ["glow"]),
        ("{len: {gt: 3}}", ["abcd"], ["abc"]),
        ("{in: [a, b]}", ["b"], ["c"]),
    ],
)
def test_string_matchers(tmp_path: Path, matcher: str, hits: list[str], misses: list[str]) -> None:
    box = sandbox(
        tmp_path, f"service: Users\nmethods:\n  greet:\n    - when: {{name: {matcher}}}\n      return: hit\n"
    )
    for value in hits:
        assert box.call("Users", "greet", name=value).reply == Success("hit"), value
    for value in misses:
        assert box.call("Users", "greet", name=value).reply is None, value


def test_container_matchers(tmp_path: Path) -> None:
    box = sandbox(
        tmp_path,
        """\
        service: Users
        methods:
          count:
            - when: {tags: {contains: a}}
              return: 1
            - when: {tags: {contains: [x, y]}}
              return: 2
            - when: {weights: {contains: {w: {gt: 5}}}}
              return: 3
            - when: {weights: {contains: k}}
              return: 4
            - when: {ids: [3, 2, 1]}
              return: 5
            - when: {tags: [p, q]}
              return: 6
            - when: {ids: {len: 0}}
              return: 7
        """,
    )

    def count(**kwargs: object) -> object:
        reply = box.call("Users", "count", **kwargs).reply
        return reply.value if isinstance(reply, Success) else None

    assert count(tags=["b", "a"]) == 1
    assert count(tags=["y", "z", "x"]) == 2
    assert count(tags=["x"]) is None
    assert count(weights={"w": 6}) == 3
    assert count(weights={"w": 5, "k": 0}) == 4
    assert count(ids=[1, 2, 3]) == 5  # a set matches in any order
    assert count(tags=["q", "p"]) is None  # a list does not
    assert count(tags=["p", "q"]) == 6
    assert count(ids=[]) == 7


def test_nested_struct_matchers_name_only_some_fields(tmp_path: Path) -> None:
    box = sandbox(
        tmp_path,
        """\
        service: Users
        methods:
          findMatching:
            - when: {query: {user: {role: ADMIN, address: {city: {regex: "Ber.*"}}}}}
              return: [{name: admin in Berlin}]
            - when: {query: {user: {id: 1}}}
              return: [{name: number one}]
        """,
    )
    user = box.struct("User", id=9, role=1, address=box.struct("Address", city="Berlin", zip="10115"))
    reply = box.call("Users", "findMatching", query=box.struct("Query", user=user, limit=3)).reply
    assert isinstance(reply, Success)
    assert [u.name for u in reply.value] == ["admin in Berlin"]
    assert reply.value[0].email  # a partial struct in a list is completed by the generator

    guest = box.struct("User", id=1, role=3)
    reply = box.call("Users", "findMatching", query=box.struct("Query", user=guest)).reply
    assert isinstance(reply, Success)
    assert reply.value[0].name == "number one"
    nobody = box.struct("User", id=2, role=3)
    assert box.call("Users", "findMatching", query=box.struct("Query", user=nobody)).reply is None
    assert box.call("Users", "findMatching", query=box.struct("Query")).reply is None  # user unset


def test_other_scalar_types_match_by_value(tmp_path: Path) -> None:
    box = sandbox(
        tmp_path,
        """\
        service: Users
        methods:
          score:
            - when: {x: 1.5, flag: true, data: {text: "hi"}, role: MEMBER}
              return: 1.0
            - when: {role: 3}
              return: 2.0
            - when: {role: {regex: "ADM.*"}}
              return: 3.0
        """,
    )
    assert box.call("Users", "score", x=1.5, flag=True, data=b"hi", role=2).reply == Success(1.0)
    assert box.call("Users", "score", x=1.5, flag=False, data=b"hi", role=2).reply is None
    assert box.call("Users", "score", role=3).reply == Success(2.0)  # enums by name or number
    assert box.call("Users", "score", role=1).reply == Success(3.0)


def test_echo_and_templates_use_the_arguments(tmp_path: Path) -> None:
    box = sandbox(
        tmp_path,
        """\
        service: Users
        methods:
          greet:
            - return: 'Hello {{ args.name }} x{{args.times}} {{ "{{" }}literal}}'
          createUser:
            - return: {name: {$arg: user.name}, email: "{{ args.user.name }}@example.com", id: {$arg: user.id}}
          small:
            - return: {$arg: tiny}
        """,
    )
    assert box.call("Users", "greet", name="Ada", times=3).reply == Success("Hello Ada x3 {{literal}}")
    reply = box.call("Users", "createUser", user=box.struct("User", id=5, name="ada")).reply
    assert isinstance(reply, Success)
    assert (reply.value.id, reply.value.name, reply.value.email) == (5, "ada", "ada@example.com")
    assert box.call("Users", "small", big=2**40, tiny=-3).reply == Success(-3)  # i8 widens into i16


def test_exact_sends_a_struct_as_written(tmp_path: Path) -> None:
    box = sandbox(
        tmp_path,
        """\
        service: Users
        methods:
          getUser:
            - return: {$exact: {name: only me}}
        """,
    )
    reply = box.call("Users", "getUser", id=1).reply
    assert isinstance(reply, Success)
    assert reply.value.name == "only me"
    assert reply.value.email is None
    assert reply.value.tags is None


def test_app_error_answers_a_tapplicationexception(tmp_path: Path) -> None:
    box = sandbox(
        tmp_path,
        """\
        service: Users
        methods:
          getUser:
            - when: {id: 1}
              app_error: {type: INTERNAL_ERROR, message: "db down for {{ args.id }}"}
            - app_error: just a message
        """,
    )
    assert box.call("Users", "getUser", id=1).reply == AppError(6, "db down for 1")
    assert box.call("Users", "getUser", id=2).reply == AppError(6, "just a message")


@pytest.mark.parametrize(
    ("repeat", "expected"), [("last", ["a", "b", "c", "c", "c"]), ("cycle", ["a", "b", "c", "a", "b"])]
)
def test_sequences_answer_in_turn(tmp_path: Path, repeat: str, expected: list[str]) -> None:
    box = sandbox(
        tmp_path,
        f"""\
        service: Users
        methods:
          greet:
            - sequence: [{{return: a}}, {{return: b}}, {{return: c}}]
              repeat: {repeat}
        """,
    )
    got = [box.call("Users", "greet", name="n").reply for _ in expected]
    assert got == [Success(v) for v in expected]
    box.engine.reset_state()
    assert box.call("Users", "greet", name="n").reply == Success("a")


def test_a_sequence_can_mix_answers_and_generated_data(tmp_path: Path) -> None:
    box = sandbox(
        tmp_path,
        """\
        service: Users
        methods:
          getUser:
            - sequence:
                - app_error: {type: INTERNAL_ERROR, message: warming up}
                - null
                - throw: NotFound
        """,
    )
    first, second, third = (box.call("Users", "getUser", id=1).reply for _ in range(3))
    assert first == AppError(6, "warming up")
    assert second is None
    assert isinstance(third, Raise)
    assert third.field_name == "notFound"
    assert third.exc.message  # a bare exception name: every field generated


def test_fixed_and_uniform_latency(tmp_path: Path) -> None:
    box = sandbox(
        tmp_path,
        """\
        service: Users
        methods:
          listUsers:
            - latency_ms: 300
          greet:
            - latency_ms: {min: 10, max: 20}
        """,
    )
    decision = box.call("Users", "listUsers")
    assert decision.latency_s == pytest.approx(0.3)
    assert decision.reply is None
    assert decision.source == "stub"
    samples = [box.call("Users", "greet", name="x").latency_s for _ in range(200)]
    assert all(0.010 <= s <= 0.020 for s in samples)
    assert max(samples) - min(samples) > 0.005


def test_percentile_latency_follows_the_given_percentiles(tmp_path: Path) -> None:
    box = sandbox(
        tmp_path,
        "service: Users\nmethods:\n  ping:\n    - latency_ms: {p50: 20, p99: 400}\n",
    )
    samples = sorted(box.call("Users", "ping").latency_s * 1000 for _ in range(4000))
    assert statistics.median(samples) == pytest.approx(20, rel=0.15)
    assert samples[int(len(samples) * 0.99)] == pytest.approx(400, rel=0.35)
    assert max(samples) <= 4000  # capped at ten times the top percentile


@pytest.mark.parametrize("kind", ["close", "garbage", "stall"])
def test_faults_with_probability_one_always_fire(tmp_path: Path, kind: str) -> None:
    box = sandbox(tmp_path, f"service: Users\nmethods:\n  ping:\n    - fault: {kind}\n      probability: 1\n")
    for _ in range(20):
        reply = box.call("Users", "ping").reply
        assert isinstance(reply, Fault)
        assert reply.kind == kind
    assert reply.seconds == (30.0 if kind == "stall" else 0.0)


def test_faults_with_probability_zero_never_fire(tmp_path: Path) -> None:
    box = sandbox(tmp_path, "service: Users\nmethods:\n  ping:\n    - fault: close\n      probability: 0\n")
    assert all(box.call("Users", "ping").reply is None for _ in range(50))


def test_probability_lets_the_next_rule_answer_the_other_calls(tmp_path: Path) -> None:
    box = sandbox(
        tmp_path,
        """\
        service: Users
        methods:
          greet:
            - fault: {kind: stall, seconds: 2}
              probability: 0.3
            - return: fine
        """,
    )
    replies = [box.call("Users", "greet", name="x").reply for _ in range(1000)]
    faults = sum(isinstance(r, Fault) for r in replies)
    assert 220 < faults < 380
    assert replies.count(Success("fine")) == 1000 - faults
    assert Fault("stall", 2.0) in replies


def test_default_rule_applies_to_every_method_after_its_own_rules(tmp_path: Path) -> None:
    box = sandbox(
        tmp_path,
        """\
        service: Users
        default:
          latency_ms: 50
          app_error: {type: UNKNOWN, message: maintenance}
        methods:
          greet:
            - return: still here
        """,
    )
    assert box.call("Users", "greet", name="x").reply == Success("still here")
    for method, kwargs in [("ping", {}), ("getUser", {"id": 1})]:
        decision = box.call("Users", method, **kwargs)
        assert decision.reply == AppError(0, "maintenance")
        assert decision.latency_s == pytest.approx(0.05)
    assert box.call("Orders", "status", orderId=1).reply is None  # another service


def test_oneway_methods_never_get_a_reply_but_can_be_faulted(tmp_path: Path) -> None:
    box = sandbox(
        tmp_path,
        """\
        service: Users
        methods:
          notify:
            - when: {message: boom}
              fault: close
            - latency_ms: 5
        """,
    )
    assert box.call("Users", "notify", message="hi").reply == NoReply()
    assert box.call("Users", "notify", message="boom").reply == Fault("close", 0.0)


def test_void_method_return_null_is_a_success(tmp_path: Path) -> None:
    box = sandbox(tmp_path, "service: Users\nmethods:\n  ping: {return: null}\n")
    assert box.call("Users", "ping").reply == Success(None)


def test_rules_added_at_run_time_come_first_and_can_be_removed(tmp_path: Path) -> None:
    box = sandbox(tmp_path, "service: Users\nmethods:\n  greet: {return: from file}\n")
    first = box.engine.add_rule("users.Users", "greet", {"return": "api one"})
    assert box.call("Users", "greet", name="x").reply == Success("api one")
    second = box.engine.add_rule("Users", "greet", {"when": {"name": "b"}, "return": "api two"})
    assert box.call("Users", "greet", name="b").reply == Success("api two")  # newest first
    assert box.call("Users", "greet", name="x").reply == Success("api one")
    assert box.call("Users", "greet", name="x").rule == first
    assert box.engine.remove_rule(first)
    assert box.engine.remove_rule(second)
    assert not box.engine.remove_rule(first)
    assert box.call("Users", "greet", name="x").reply == Success("from file")
    default = box.engine.add_rule("Users", None, {"app_error": "down"})
    assert box.call("Users", "ping").reply == AppError(6, "down")
    assert [r["id"] for r in box.engine.rules("users.Users") if r["source"] == "api"] == [default]


def test_a_rule_scoped_to_a_peer_answers_only_that_clients_calls(tmp_path: Path) -> None:
    box = sandbox(tmp_path, "service: Users\nmethods:\n  greet: {return: from file}\n")
    args = box.args("Users", "greet", name="x")
    mine = box.engine.add_rule("Users", "greet", {"return": "for .3"}, peer="127.0.0.3")
    box.engine.add_rule("Users", None, {"app_error": "down for .4"}, peer="127.0.0.4")

    assert box.engine.decide("users.Users", "greet", args, "127.0.0.3").reply == Success("for .3")
    assert box.engine.decide("users.Users", "greet", args, "127.0.0.30").reply == Success("from file")
    assert box.engine.decide("users.Users", "greet", args, "127.0.0.4").reply == Success("from file")
    assert box.engine.decide("users.Users", "greet", args).reply == Success("from file")  # no peer known
    assert box.engine.decide("users.Users", "ping", box.args("Users", "ping"), "127.0.0.4").reply == AppError(
        6, "down for .4"
    )
    assert box.engine.decide("users.Users", "ping", box.args("Users", "ping"), "127.0.0.3").reply is None
    assert [r.get("peer") for r in box.engine.rules() if r["source"] == "api"] == ["127.0.0.3", "127.0.0.4"]
    reloaded = box.engine.reloaded(box.book, box.catalog, box.classes, box.generator)
    assert reloaded.decide("users.Users", "greet", args, "127.0.0.4").reply == Success("from file")
    assert reloaded.decide("users.Users", "greet", args, "127.0.0.3").reply == Success("for .3")
    assert box.engine.remove_rule(mine)
    assert box.engine.decide("users.Users", "greet", args, "127.0.0.3").reply == Success("from file")


def test_run_time_rules_are_checked_like_file_rules(tmp_path: Path) -> None:
    box = sandbox(tmp_path, "service: Users\nmethods: {}\n")
    with pytest.raises(StubError, match="unknown field 'nmae'") as info:
        box.engine.add_rule("Users", "greet", {"when": {"nmae": "x"}})
    assert info.value.hint == "did you mean 'name'?"
    with pytest.raises(StubError, match="unknown method 'gret'"):
        box.engine.add_rule("Users", "gret", {})


def test_a_reloaded_engine_keeps_state_and_run_time_rules(tmp_path: Path) -> None:
    box = sandbox(tmp_path, "service: Users\nstateful: true\n")
    created = box.call("Users", "createUser", user=box.struct("User", name="kept"))
    assert isinstance(created.reply, Success)
    rule = box.engine.add_rule("Users", "greet", {"return": "api"})
    engine = box.engine.reloaded(box.book, box.catalog, box.classes, box.generator)
    assert engine.decide("users.Users", "greet", box.args("Users", "greet", name="x")).rule == rule
    got = engine.decide("users.Users", "getUser", box.args("Users", "getUser", id=created.reply.value.id))
    assert isinstance(got.reply, Success)
    assert got.reply.value.name == "kept"


def test_answers_are_reproducible_for_the_same_call(tmp_path: Path) -> None:
    box: Sandbox = sandbox(tmp_path, USERS)
    first = box.call("Users", "getUser", id=42).reply
    second = box.call("Users", "getUser", id=42).reply
    assert isinstance(first, Success)
    assert isinstance(second, Success)
    assert first.value.tags == second.value.tags


def test_rules_lists_file_state_and_run_time_rules(tmp_path: Path) -> None:
    box = sandbox(
        tmp_path,
        "service: Users\nstateful: true\ndefault: {latency_ms: 1}\nmethods:\n  greet: {return: hi}\n",
    )
    added = box.engine.add_rule("Users", "ping", {"latency_ms": 2})
    listed = {(r["id"], r["method"], r["source"]) for r in box.engine.rules()}
    stubs_file = box.mocks / "stubs.yaml"
    assert (f"{stubs_file}:5", "greet", "file") in listed
    assert (f"{stubs_file}:3", None, "file") in listed
    assert ("state", "getUser", "state") in listed
    assert (added, "ping", "api") in listed
    assert box.engine.rules("users.Orders") == []


def test_a_reload_keeps_the_place_of_unchanged_sequences(tmp_path: Path) -> None:
    text = """\
        service: Users
        methods:
          getUser:
            - sequence: [{return: {name: first}}, {return: {name: second}}]
              repeat: last
        """
    box = sandbox(tmp_path, text)

    def reload() -> None:
        book = load_stubs(box.mocks, box.catalog, box.classes)
        box.engine = box.engine.reloaded(book, box.catalog, box.classes, box.generator)

    def name() -> str:
        reply = box.call("Users", "getUser", id=1).reply
        assert isinstance(reply, Success)
        return str(reply.value.name)  # type: ignore[attr-defined]

    assert name() == "first"
    reload()  # another file was saved: this sequence goes on where it was
    assert name() == "second"
    (box.mocks / "stubs.yaml").write_text(textwrap.dedent(text).replace("second", "other"))
    reload()  # the rule itself changed: it starts over
    assert name() == "first"
