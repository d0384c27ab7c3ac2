"""The value generator: valid values for every Thrift type, structure rules, reproducibility, overrides."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.values.test_models import (
    BINARY,
    BOOL,
    BYTE,
    DOUBLE,
    I16,
    I32,
    I64,
    STRING,
    UUID,
    VOID,
    Model,
    alias,
    f,
    list_of,
    map_of,
    set_of,
    wire_round_trip,
)
from thriftbox.errors import ConfigError
from thriftbox.idl import load_catalog
from thriftbox.idl.model import Kind, TypeRef
from thriftbox.values import ValueConversionError, ValueGenerator, check_annotations, is_valid, to_json
from thriftbox.values.canon import canonical, derive_seed

REPO = Path(__file__).resolve().parents[2]


def kitchen_sink() -> tuple[Model, TypeRef]:
    """A struct with a field of every kind of type, nested containers, a union and a struct-keyed map."""
    m = Model()
    color = m.enum("Color", RED=1, GREEN=5, BLUE=100)
    inner = m.struct("Inner", f(1, "label", STRING), f(2, "weight", DOUBLE))
    choice = m.struct("Choice", f(1, "number", I32), f(2, "word", STRING), f(3, "inner", inner), kind="union")
    box = m.struct(
        "Box",
        f(1, "flag", BOOL),
        f(2, "tiny", BYTE),
        f(3, "small", I16),
        f(4, "medium", I32),
        f(5, "large", I64),
        f(6, "ratio", DOUBLE),
        f(7, "text", STRING),
        f(8, "blob", BINARY),
        f(9, "token", UUID),
        f(10, "color", color),
        f(11, "inner", inner, "optional"),
        f(12, "choice", choice, "required"),
        f(13, "numbers", list_of(I32)),
        f(14, "words", set_of(STRING)),
        f(15, "groups", map_of(STRING, list_of(inner))),
        f(16, "nested", list_of(map_of(I32, set_of(color)))),
        f(17, "byInner", map_of(inner, I64)),
        f(18, "flags", set_of(BOOL)),
        f(19, "pairs", list_of(list_of(BYTE))),
        f(20, "ids", map_of(alias(I64, "UserId"), UUID)),
    )
    return m, box


@pytest.fixture(scope="module")
def sink() -> tuple[Model, TypeRef, ValueGenerator]:
    m, box = kitchen_sink()
    return m, box, ValueGenerator(m.catalog, m.classes(), seed=7)


def test_every_type_kind_yields_valid_values_that_survive_the_wire(sink: Any) -> None:
    m, box, gen = sink
    for i in range(60):
        v = gen.value(box, random.Random(i))
        assert is_valid(m.catalog, box, v), to_json(m.catalog, box, v)
        for pure in (False, True):
            back = wire_round_trip(v, pure_python=pure)
            assert to_json(m.catalog, box, back) == to_json(m.catalog, box, v)


def test_unions_have_exactly_one_field_and_sets_no_repeats(sink: Any) -> None:
    _m, box, gen = sink
    seen_members: set[str] = set()
    for i in range(200):
        v = gen.value(box, random.Random(i))
        set_fields = [n for n in ("number", "word", "inner") if getattr(v.choice, n) is not None]
        assert len(set_fields) == 1
        seen_members.update(set_fields)
        assert len(v.words) == len(set(v.words))
        assert len(v.flags) == len(set(v.flags)) <= 2
        for group in v.nested:
            for members in group.values():
                assert len(members) == len(set(members))
    assert seen_members == {"number", "word", "inner"}


def test_enums_take_only_declared_values(sink: Any) -> None:
    _m, box, gen = sink
    colors = {gen.value(box, random.Random(i)).color for i in range(200)}
    assert colors == {1, 5, 100}


def test_containers_hold_one_to_four_members(sink: Any) -> None:
    _m, box, gen = sink
    sizes = {len(gen.value(box, random.Random(i)).numbers) for i in range(200)}
    assert sizes == {1, 2, 3, 4}


def test_ints_stay_within_their_width_even_with_hints() -> None:
    m = Model()
    t = m.struct(
        "Narrow",
        f(1, "id", BYTE),
        f(2, "userId", I16),
        f(3, "createdAt", I16),
        f(4, "priceCents", BYTE),
        f(5, "port", I16),
        f(6, "year", BYTE),
    )
    gen = ValueGenerator(m.catalog, m.classes())
    for i in range(300):
        v = gen.value(t, random.Random(i))
        assert is_valid(m.catalog, t, v)
        assert v.id > 0
        assert v.userId > 0


def recursive_model() -> tuple[Model, TypeRef, TypeRef]:
    m = Model()
    node = TypeRef(Kind.STRUCT, "models.Node")
    m.struct(
        "Node",
        f(1, "label", STRING, "required"),
        f(2, "children", list_of(node)),
        f(3, "next", node, "optional"),
        f(4, "parents", list_of(node), "required"),
    )
    a, b = TypeRef(Kind.STRUCT, "models.A"), TypeRef(Kind.STRUCT, "models.B")
    m.struct("A", f(1, "b", b, "required"), f(2, "count", I32))
    m.struct("B", f(1, "a", a, "optional"), f(2, "many", map_of(STRING, a), "required"))
    return m, node, a


def depth_of(v: Any) -> int:
    """How many struct levels a value nests."""
    if isinstance(v, list):
        return max((depth_of(x) for x in v), default=0)
    if isinstance(v, dict):
        return max((depth_of(x) for x in [*v.keys(), *v.values()]), default=0)
    if hasattr(type(v), "thrift_spec"):
        return 1 + max((depth_of(x) for x in vars(v).values()), default=0)
    return 0


@pytest.mark.parametrize("max_depth", [0, 1, 3])
def test_recursion_is_bounded_and_values_stay_valid(max_depth: int) -> None:
    m, node, a = recursive_model()
    gen = ValueGenerator(m.catalog, m.classes(), max_depth=max_depth)
    deepest = 0
    for i in range(40):
        for t in (node, a):
            v = gen.value(t, random.Random(i))
            assert is_valid(m.catalog, t, v)
            deepest = max(deepest, depth_of(v))
            assert depth_of(v) <= max_depth + 2  # A → B alternate: one extra level for the required link
    assert deepest >= max_depth + 1


def test_required_recursive_containers_are_empty_beyond_max_depth() -> None:
    m, node, _ = recursive_model()
    gen = ValueGenerator(m.catalog, m.classes(), max_depth=0)
    v = gen.value(node, random.Random(3))
    assert v.parents == []  # required: present but empty
    assert v.children is None  # default requiredness, recursive: left unset
    assert v.next is None


def test_a_required_cycle_still_terminates() -> None:
    m = Model()
    loop = TypeRef(Kind.STRUCT, "models.Loop")
    m.struct("Loop", f(1, "again", loop, "required"), f(2, "name", STRING))
    gen = ValueGenerator(m.catalog, m.classes(), max_depth=2)
    assert depth_of(gen.value(loop, random.Random(0))) < 40


def test_requiredness_and_declared_defaults() -> None:
    m = Model()
    status = m.enum("Status", ACTIVE=1, GONE=2)
    t = m.struct(
        "Query",
        f(1, "text", STRING, "required"),
        f(2, "cursor", STRING, "optional"),
        f(3, "title", STRING),
        f(4, "limit", I32, default=20),
        f(5, "status", status, default=2),
        f(6, "tags", list_of(STRING), default=["new"]),
    )
    gen = ValueGenerator(m.catalog, m.classes())
    values = [gen.value(t, random.Random(i)) for i in range(600)]
    assert all(v.text is not None and v.title is not None and v.limit is not None for v in values)
    optional_rate = sum(v.cursor is not None for v in values) / len(values)
    assert 0.6 < optional_rate < 0.8
    default_rate = sum(v.limit == 20 for v in values) / len(values)
    assert 0.4 < default_rate < 0.6
    assert {v.status for v in values} == {1, 2}
    assert any(v.tags == ["new"] for v in values)
    tag_lists = [v.tags for v in values if v.tags == ["new"]]
    assert len({id(x) for x in tag_lists}) == len(tag_lists)  # every answer gets its own copy


def test_invalid_declared_defaults_are_never_used() -> None:
    m = Model()
    status = m.enum("Status", ACTIVE=1)
    t = m.struct("S", f(1, "status", status, default=7), f(2, "small", BYTE, default=1000))
    gen = ValueGenerator(m.catalog, m.classes())
    for i in range(50):
        assert is_valid(m.catalog, t, gen.value(t, random.Random(i)))


# -- services: reproducibility, echo, overrides ---------------------------------------------------------


def user_service() -> tuple[Model, str, TypeRef]:
    m = Model("users")
    user_id = alias(I64, "UserId")
    address = m.struct(
        "Address",
        f(1, "street", STRING),
        f(2, "city", STRING),
        f(3, "state", STRING),
        f(4, "countryCode", STRING),
    )
    user = m.struct(
        "User",
        f(1, "id", user_id, "required"),
        f(2, "firstName", STRING),
        f(3, "lastName", STRING),
        f(4, "email", STRING),
        f(5, "avatarUrl", STRING),
        f(6, "createdAt", alias(I64, "Timestamp")),
        f(7, "updatedAt", alias(I64, "Timestamp")),
        f(8, "address", address),
        f(9, "tags", list_of(STRING)),
        f(10, "friends", list_of(user_id)),
    )
    missing = m.struct("NotFound", f(1, "message", STRING), f(2, "resourceId", STRING), kind="exception")
    sid = m.service(
        "Users",
        m.method("Users", "getUser", user, f(1, "id", user_id), throws=(f(1, "notFound", missing),)),
        m.method("Users", "listUsers", list_of(user), f(1, "nameLike", STRING), f(2, "limit", I32)),
        m.method("Users", "ping", VOID),
        m.method("Users", "touch", VOID, f(1, "id", user_id), oneway=True),
        m.method("Users", "motto", STRING, annotations={"faker": "catch_phrase"}),
    )
    return m, sid, user


@pytest.fixture(scope="module")
def users() -> tuple[Model, str, TypeRef, ValueGenerator]:
    m, sid, user = user_service()
    return m, sid, user, ValueGenerator(m.catalog, m.classes(), seed=11)


def args_for(m: Model, sid: str, method: str, **values: Any) -> Any:
    args = m.classes().args(sid, method)()
    for k, v in values.items():
        setattr(args, k, v)
    return args


def answer_json(gen: ValueGenerator, m: Model, sid: str, method: str, **args: Any) -> Any:
    t = m.catalog.services[sid].methods[method].returns
    return to_json(m.catalog, t, gen.answer(sid, method, args_for(m, sid, method, **args)))


def test_same_seed_and_args_give_the_same_answer_across_generators(users: Any) -> None:
    m, sid, _, gen = users
    again = ValueGenerator(m.catalog, m.classes(), seed=11)
    assert answer_json(gen, m, sid, "getUser", id=5) == answer_json(again, m, sid, "getUser", id=5)
    assert answer_json(gen, m, sid, "listUsers", nameLike="a", limit=3) == answer_json(
        again, m, sid, "listUsers", nameLike="a", limit=3
    )


def test_different_args_or_seed_give_different_answers(users: Any) -> None:
    m, sid, _, gen = users
    answers = {
        json.dumps(answer_json(gen, m, sid, "listUsers", nameLike=f"n{i}", limit=9)) for i in range(20)
    }
    # one of 256 variants per method, picked by the hash of the arguments: as many answers as distinct picks
    picks = {
        derive_seed(11, sid, "listUsers", canonical(args_for(m, sid, "listUsers", nameLike=f"n{i}", limit=9)))
        % 256
        for i in range(20)
    }
    assert len(answers) == len(picks) >= 18
    other = ValueGenerator(m.catalog, m.classes(), seed=12)
    assert answer_json(gen, m, sid, "getUser", id=5) != answer_json(other, m, sid, "getUser", id=5)


def test_rng_for_ignores_map_order_but_not_content(users: Any) -> None:
    _, sid, _, gen = users
    one = gen.rng_for(sid, "getUser", {"a": 1, "b": [1, 2]}).random()
    two = gen.rng_for(sid, "getUser", {"b": [1, 2], "a": 1}).random()
    three = gen.rng_for(sid, "getUser", {"b": [2, 1], "a": 1}).random()
    assert one == two != three


FRESH_PROCESS = """
import json, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
from tests.values.test_generator import user_service, answer_json
from thriftbox.values import ValueGenerator
m, sid, _ = user_service()
gen = ValueGenerator(m.catalog, m.classes(), seed=11)
print(json.dumps(answer_json(gen, m, sid, "getUser", id=77)))
"""


def test_answers_are_the_same_in_a_fresh_process(users: Any) -> None:
    m, sid, _, gen = users
    out = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS, str(REPO / "sandbox"), str(REPO)],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "random", "PATH": "/usr/bin:/bin"},
    )
    assert json.loads(out.stdout) == answer_json(gen, m, sid, "getUser", id=77)


def test_answers_echo_the_requested_id_and_respect_limit(users: Any) -> None:
    m, sid, _, gen = users
    assert answer_json(gen, m, sid, "getUser", id=424242)["id"] == 424242
    sizes = {len(answer_json(gen, m, sid, "listUsers", nameLike=str(i), limit=2)) for i in range(30)}
    assert sizes == {1, 2}
    assert answer_json(gen, m, sid, "listUsers", nameLike="x", limit=0) == []


def test_void_and_oneway_methods_answer_none(users: Any) -> None:
    m, sid, _, gen = users
    assert gen.answer(sid, "ping", args_for(m, sid, "ping")) is None
    assert gen.answer(sid, "touch", args_for(m, sid, "touch", id=1)) is None


def test_unknown_method_is_a_config_error(users: Any) -> None:
    _, sid, _, gen = users
    with pytest.raises(ConfigError, match="unknown method"):
        gen.answer(sid, "nope", None)


def test_struct_overrides_keep_named_fields_and_fake_the_rest(users: Any) -> None:
    m, sid, user, gen = users
    args = args_for(m, sid, "getUser", id=9)
    plain = to_json(m.catalog, user, gen.answer(sid, "getUser", args))
    fixed = gen.answer(sid, "getUser", args, {"email": "ada@example.com", "address": {"city": "Lyon"}})
    shown = to_json(m.catalog, user, fixed)
    assert shown["email"] == "ada@example.com"
    assert shown["address"]["city"] == "Lyon"
    assert shown["address"]["street"]  # the rest of the nested struct is still generated
    assert shown["id"] == 9
    assert {k: v for k, v in shown.items() if k not in ("email", "address")} == {
        k: v for k, v in plain.items() if k not in ("email", "address")
    }


def test_non_struct_overrides_replace_the_value(users: Any) -> None:
    _m, sid, _user, gen = users
    rng = random.Random(1)
    assert gen.value(list_of(STRING), rng, override=["a", "b"]) == ["a", "b"]
    assert gen.answer(sid, "motto", None, "fixed") == "fixed"


def test_override_of_an_unknown_field_names_it(users: Any) -> None:
    _, _sid, user, gen = users
    with pytest.raises(ValueConversionError) as err:
        gen.value(user, random.Random(1), override={"address": {"town": "Lyon"}})
    assert err.value.path == "address.town"


def test_union_override_switches_the_set_field() -> None:
    m = Model()
    u = m.struct("U", f(1, "number", I32), f(2, "word", STRING), kind="union")
    gen = ValueGenerator(m.catalog, m.classes())
    for i in range(20):
        v = gen.value(u, random.Random(i), override={"word": "hello"})
        assert (v.number, v.word) == (None, "hello")


def test_exceptions_get_a_readable_message_and_overrides(users: Any) -> None:
    _m, _, _, gen = users
    exc = gen.exception("users.NotFound", random.Random(1))
    assert isinstance(exc, Exception)
    assert exc.message == "Not found"
    assert exc.resourceId
    exc = gen.exception("users.NotFound", random.Random(1), {"resourceId": "user_1"})
    assert exc.resourceId == "user_1"


def test_generation_from_many_threads_matches_a_single_thread() -> None:
    m, sid, _user = user_service()
    expected = [
        answer_json(ValueGenerator(m.catalog, m.classes(), seed=3), m, sid, "getUser", id=i) for i in range(8)
    ]
    gen = ValueGenerator(m.catalog, m.classes(), seed=3)
    results: dict[int, Any] = {}

    def work(i: int) -> None:
        results[i] = answer_json(gen, m, sid, "getUser", id=i)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [results[i] for i in range(8)] == expected


# -- annotations ----------------------------------------------------------------------------------------


def test_faker_annotation_overrides_the_name_guess() -> None:
    m = Model()
    t = m.struct(
        "S",
        f(1, "description", STRING, annotations={"faker": "user_name"}),
        f(2, "count", I32, annotations={"faker.min": "1000", "faker.max": "1005"}),
        f(3, "handles", list_of(STRING), annotations={"faker": "user_name"}),
        f(4, "weight", DOUBLE, annotations={"faker.min": "-1.5", "faker.max": "-1"}),
        f(5, "born", I64, annotations={"faker": "date_time_this_decade"}),
    )
    gen = ValueGenerator(m.catalog, m.classes())
    for i in range(50):
        v = gen.value(t, random.Random(i))
        assert " " not in v.description
        assert v.description.islower()
        assert 1000 <= v.count <= 1005
        assert all(" " not in h for h in v.handles)
        assert -1.5 <= v.weight <= -1
        assert v.born > 1_000_000_000_000  # a datetime becomes epoch milliseconds for an i64


def test_unknown_faker_provider_fails_when_the_generator_is_built() -> None:
    m = Model()
    m.struct("S", f(1, "handle", STRING, annotations={"faker": "user_nme"}))
    with pytest.raises(ConfigError) as err:
        ValueGenerator(m.catalog, m.classes())
    assert "user_nme" in err.value.message
    assert err.value.hint is not None
    assert "user_name" in err.value.hint
    assert err.value.location is not None
    assert err.value.location.line == 2


@pytest.mark.parametrize(
    ("t", "annotations", "message"),
    [
        (I32, {"faker": "name"}, "do not fit"),
        (STRING, {"faker": "enum"}, "without arguments"),
        (I32, {"faker.min": "ten"}, "not a number"),
        (I32, {"faker.min": "9", "faker.max": "1"}, "greater than"),
    ],
)
def test_annotations_that_cannot_work_are_config_errors(
    t: TypeRef, annotations: dict[str, str], message: str
) -> None:
    m = Model()
    m.struct("S", f(1, "value", t, annotations=annotations))
    with pytest.raises(ConfigError, match=message):
        ValueGenerator(m.catalog, m.classes())


def test_method_annotation_shapes_the_return_value(users: Any) -> None:
    _m, sid, _, gen = users
    motto = gen.answer(sid, "motto", None)
    assert isinstance(motto, str)
    assert len(motto.split()) >= 2


def test_unknown_locale_is_a_config_error_with_a_suggestion() -> None:
    m = Model()
    with pytest.raises(ConfigError) as err:
        ValueGenerator(m.catalog, m.classes(), locale="de_DX")
    assert err.value.hint is not None
    assert "de_DE" in err.value.hint


def test_another_locale_changes_the_data() -> None:
    m, sid, _ = user_service()
    us = ValueGenerator(m.catalog, m.classes(), seed=1)
    de = ValueGenerator(m.catalog, m.classes(), seed=1, locale="de_DE")
    assert answer_json(us, m, sid, "getUser", id=1) != answer_json(de, m, sid, "getUser", id=1)


def test_unions_that_recurse_through_each_other_pick_the_way_out() -> None:
    m = Model()
    a, b = TypeRef(Kind.STRUCT, "models.A"), TypeRef(Kind.STRUCT, "models.B")
    m.struct("A", f(1, "b", b), kind="union")
    m.struct("B", f(1, "a", a), f(2, "c", TypeRef(Kind.STRUCT, "models.C")), kind="union")
    m.struct("C", f(1, "a", a), f(2, "leaf", I32), kind="union")
    gen = ValueGenerator(m.catalog, m.classes(), max_depth=1)
    assert gen.finite(a)
    for i in range(50):
        assert is_valid(m.catalog, a, gen.value(a, random.Random(i)))


def test_types_without_a_finite_value_are_cut_off() -> None:
    m = Model()
    a, b = TypeRef(Kind.STRUCT, "models.A"), TypeRef(Kind.STRUCT, "models.B")
    m.struct("A", f(1, "b", b), kind="union")
    m.struct("B", f(1, "a", a), kind="union")
    gen = ValueGenerator(m.catalog, m.classes(), max_depth=1)
    assert not gen.finite(a)
    assert depth_of(gen.value(a, random.Random(0))) < 40


def test_only_id_lists_tie_a_list_answer_to_the_request() -> None:
    m = Model("shop")
    item = m.struct("Item", f(1, "id", STRING), f(2, "category", STRING))
    sid = m.service(
        "Shop",
        m.method("Shop", "getItems", list_of(item), f(1, "itemIds", list_of(STRING))),
        m.method("Shop", "byCategory", list_of(item), f(1, "categories", list_of(STRING))),
        m.method("Shop", "countByTag", map_of(STRING, I32), f(1, "tags", set_of(STRING))),
    )
    gen = ValueGenerator(m.catalog, m.classes())
    items: Any = gen.answer(sid, "getItems", {"itemIds": ["a", "b", "c"]})
    assert [i.id for i in items] == ["a", "b", "c"]
    items = gen.answer(sid, "byCategory", {"categories": ["zzz-1", "zzz-2"]})
    assert not {i.category for i in items} & {"zzz-1", "zzz-2"}
    counts: Any = gen.answer(sid, "countByTag", {"tags": ["x", "y"]})
    assert sorted(counts) == ["x", "y"]


def test_annotations_are_checked_from_the_catalog_alone(tmp_path: Path) -> None:
    """What ``thriftbox check`` and ``serve`` call on loading the IDL, before any mock exists."""
    idl = tmp_path / "a.thrift"
    idl.write_text('struct A {\n  1: string handle (faker = "user_nam"),\n}\nservice S { A get() }\n')
    with pytest.raises(ConfigError) as err:
        check_annotations(load_catalog([idl]))
    assert "user_nam" in err.value.message
    assert err.value.hint is not None
    assert "did you mean user_name" in err.value.hint
    assert err.value.location is not None
    assert (err.value.location.line, err.value.location.col) == (2, 3)
    idl.write_text('struct A {\n  1: string handle (faker = "user_name"),\n}\nservice S { A get() }\n')
    check_annotations(load_catalog([idl]))  # a good one passes
