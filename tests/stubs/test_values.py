"""Stub and state values are held to the IDL as the wire holds a client's: a union sets exactly one field,
integers fit their width, NaN and the infinities go where a protocol can carry them. A value that would not
encode is refused when the stub file loads (``path:line: message``, hint), never answered as INTERNAL_ERROR."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from thriftpy2.protocol import TBinaryProtocol, TCompactProtocol
from thriftpy2.thrift import TMessageType
from thriftpy2.transport import TMemoryBuffer

from tests.stubs.harness import Sandbox, sandbox, write_stubs
from thriftbox.errors import StubError
from thriftbox.idl import load_catalog
from thriftbox.idl.classes import Classes
from thriftbox.stubs import load_stubs
from thriftbox.values.convert import to_json
from thriftbox.wire.app import AppError, Raise, Success
from thriftbox.wire.codec import BinaryCodec, CompactCodec, JsonCodec

IDL = """
union Pick { 1: string a, 2: i32 b }
struct Holder { 1: Pick pick, 2: i8 tiny, 3: i32 mid, 4: i64 big, 5: double rating }
exception NotFound { 1: i32 id, 2: string message }
struct Item { 1: i8 id, 2: string name }
struct Big { 1: i64 id, 2: string name }
service Values {
  Holder holder(1: i64 id),
  Pick pick(),
  double score(1: double x),
}
service Items {
  Item createItem(1: Item item),
  Big getBig(1: i64 id) throws (1: NotFound notFound),
  Item getItem(1: i64 id),
  Big createBig(1: Big big),
  i32 addBig(1: Big big),
}
"""


@pytest.fixture
def idl(tmp_path: Path) -> Path:
    folder = tmp_path / "idl"
    folder.mkdir()
    (folder / "values.thrift").write_text(IDL, encoding="utf-8")
    return folder


def load_error(tmp_path: Path, idl: Path, text: str) -> StubError:
    catalog = load_catalog([idl])
    mocks = write_stubs(tmp_path / "mocks", {"values.yaml": text})
    with pytest.raises(StubError) as info:
        load_stubs(mocks, catalog, Classes(catalog))
    err = info.value
    assert err.location is not None
    assert (err.location.path, err.location.line) == (mocks / "values.yaml", 4)
    return err


def rule(method: str, text: str) -> str:
    return f"service: Values\nmethods:\n  {method}:\n    - {text}\n"


def encoded(box: Sandbox, service: str, method: str, reply: Any, codec: Any) -> bytes:
    """The reply as the mock's codec writes it (raises what the encoder raises for a value that does not fit)."""
    result = box.classes.result(box.sid(service), method)()
    if isinstance(reply, Success):
        result.success = reply.value
    else:
        assert isinstance(reply, Raise)
        setattr(result, reply.field_name, reply.exc)
    return codec.encode(method, TMessageType.REPLY, 1, result)  # type: ignore[no-any-return]


# -- unions ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "text", "count"),
    [
        ("holder", "return: {pick: {a: x, b: 1}}", 2),
        ("holder", "return: {pick: {}}", 0),
        ("holder", "return: {$exact: {pick: {a: x, b: 1}}}", 2),
        ("holder", "return: {$exact: {pick: {}}}", 0),
        ("pick", "return: {a: x, b: 1}", 2),
        ("pick", "return: {}", 0),
    ],
)
def test_a_union_with_two_fields_or_none_is_refused(
    tmp_path: Path, idl: Path, method: str, text: str, count: int
) -> None:
    err = load_error(tmp_path, idl, rule(method, text))
    assert f"Pick is a union: set exactly one field, not {count}" in err.message
    assert err.hint is not None
    assert "a, b" in err.hint


def test_a_union_with_one_field_answers_that_field_alone(tmp_path: Path, idl: Path) -> None:
    stubs = "service: Values\nmethods:\n  holder: {return: {pick: {b: 7}}}\n  pick: {return: {a: x}}\n"
    box = sandbox(tmp_path, stubs, idl)
    holder = box.call("Values", "holder", id=1).reply
    assert isinstance(holder, Success)
    assert (holder.value.pick.a, holder.value.pick.b) == (None, 7)
    pick = box.call("Values", "pick").reply
    assert isinstance(pick, Success)
    assert (pick.value.a, pick.value.b) == ("x", None)


def test_a_union_left_out_or_null_is_generated_with_one_field(tmp_path: Path, idl: Path) -> None:
    box = sandbox(tmp_path, rule("holder", "return: {pick: null, tiny: 1}"), idl)
    for i in range(20):
        reply = box.call("Values", "holder", id=i).reply
        assert isinstance(reply, Success)
        pick = reply.value.pick
        assert pick is None or (pick.a is None) != (pick.b is None)


# -- integers -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("return: {mid: 1099511627776}", "1099511627776 is out of range for i32"),
        ("return: {tiny: 300}", "300 is out of range for byte"),
        ("return: {big: 1.5}", "expected an integer (i64), got 1.5"),
        ("return: {big: '12'}", 'expected an integer (i64), got "12"'),
        ("return: {big: true}", "expected an integer (i64), got true"),
        ("when: {id: 1.5}", "expected an integer (i64), got 1.5"),
        ("when: {id: {gt: true}}", "expected an integer (i64), got true"),
    ],
)
def test_integers_that_do_not_fit_are_refused(tmp_path: Path, idl: Path, text: str, message: str) -> None:
    assert message in load_error(tmp_path, idl, rule("holder", text)).message


# -- NaN and the infinities -----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["when: {x: .nan}", "when: {x: {gt: .nan}}", "when: {x: {in: [1.0, .nan]}}"])
def test_a_matcher_on_nan_is_refused_as_it_could_never_match(tmp_path: Path, idl: Path, text: str) -> None:
    err = load_error(tmp_path, idl, rule("score", text))
    assert "NaN" in err.message
    assert err.hint


@pytest.mark.parametrize("codec", [BinaryCodec, CompactCodec])
@pytest.mark.parametrize(
    ("text", "check"), [(".nan", math.isnan), (".inf", math.isinf), ("-.inf", math.isinf)]
)
def test_nan_and_infinity_are_answered_where_the_protocol_carries_them(
    tmp_path: Path, idl: Path, codec: Any, text: str, check: Any
) -> None:
    box = sandbox(tmp_path, rule("score", f"return: {text}"), idl)
    data = encoded(box, "Values", "score", box.call("Values", "score", x=1.0).reply, codec())
    proto = (TBinaryProtocol if codec is BinaryCodec else TCompactProtocol)(TMemoryBuffer(data))
    proto.read_message_begin()
    result = box.classes.result(box.sid("Values"), "score")()
    proto.read_struct(result)
    assert check(result.success)


def strict_json(data: bytes | str) -> Any:
    def refuse(constant: str) -> None:
        raise ValueError(f"bare {constant} is not JSON")

    return json.loads(data, parse_constant=refuse)


def test_nan_over_the_json_protocol_is_valid_json(tmp_path: Path, idl: Path) -> None:
    box = sandbox(tmp_path, rule("score", "return: .nan"), idl)
    data = encoded(box, "Values", "score", box.call("Values", "score", x=1.0).reply, JsonCodec())
    assert strict_json(data)[4]["0"] == {"dbl": "NaN"}


def test_nan_in_the_journal_form_is_valid_json(tmp_path: Path, idl: Path) -> None:
    box = sandbox(tmp_path, rule("holder", "return: {rating: .nan}"), idl)
    reply = box.call("Values", "holder", id=1).reply
    assert isinstance(reply, Success)
    holder_t = box.catalog.services[box.sid("Values")].methods["holder"].returns
    assert strict_json(json.dumps(to_json(box.catalog, holder_t, reply.value)))["rating"] == "NaN"


# -- simulated state ------------------------------------------------------------------------------------------

STATE = "service: Items\nstate: {key: id, missing: throw}\n"


def test_a_not_found_for_a_key_too_wide_for_the_exception_still_encodes(tmp_path: Path, idl: Path) -> None:
    box = sandbox(tmp_path, STATE, idl)
    reply = box.call("Items", "getBig", id=2**40).reply
    assert isinstance(reply, Raise)
    assert reply.exc.message == "Big 1099511627776 not found"
    assert reply.exc.id is None or -(2**31) <= reply.exc.id < 2**31
    encoded(box, "Items", "getBig", reply, BinaryCodec())


def test_a_get_of_a_key_too_wide_for_the_entity_answers_a_valid_entity(tmp_path: Path, idl: Path) -> None:
    box = sandbox(tmp_path, "service: Items\nstate: {key: id}\n", idl)
    reply = box.call("Items", "getItem", id=2**40).reply
    assert isinstance(reply, Success)
    assert reply.value is not None
    assert -128 <= reply.value.id < 128
    encoded(box, "Items", "getItem", reply, BinaryCodec())


def test_created_keys_stop_at_the_key_type_s_range(tmp_path: Path, idl: Path) -> None:
    box = sandbox(tmp_path, STATE, idl)
    replies = [
        box.call("Items", "createItem", item=box.struct("Item", name=f"n{i}")).reply for i in range(130)
    ]
    for reply in replies[:127]:
        assert isinstance(reply, Success)
        assert reply.value is not None
        encoded(box, "Items", "createItem", reply, BinaryCodec())
    assert [r.value.id for r in replies[:127] if isinstance(r, Success)] == list(range(1, 128))
    assert all(
        isinstance(r, AppError) and r.message == "no byte key left for a new Item" for r in replies[127:]
    )


def test_a_returned_key_too_wide_for_the_result_is_not_sent(tmp_path: Path, idl: Path) -> None:
    box = sandbox(tmp_path, STATE, idl)
    reply = box.call("Items", "addBig", big=box.struct("Big", id=2**40, name="x")).reply
    assert reply is None or (isinstance(reply, Success) and -(2**31) <= reply.value < 2**31)
