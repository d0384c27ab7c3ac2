"""mocks/thrifttest.yaml gives Apache's ThriftTest service the answers its cross-language TestClient checks."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.stubs.harness import REPO_MOCKS, Sandbox, sandbox
from thriftbox.wire.app import AppError, NoReply, Raise, Success


@pytest.fixture(scope="module")
def box(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Sandbox:
    idl = tmp_path_factory.mktemp("idl")
    shutil.copy(corpus / "apache__thrift/test/v0.16/ThriftTest.thrift", idl)
    text = (REPO_MOCKS / "thrifttest.yaml").read_text(encoding="utf-8")
    return sandbox(tmp_path_factory.mktemp("thrifttest"), {"thrifttest.yaml": text}, idl=idl)


def answer(box: Sandbox, method: str, **kwargs: object) -> object:
    decision = box.call("ThriftTest", method, **kwargs)
    assert decision.source == "stub", method
    assert isinstance(decision.reply, Success), decision.reply
    return decision.reply.value


@pytest.mark.parametrize(
    ("method", "thing"),
    [
        ("testString", '\b\t\n/\\\\\r{}:パイソン"'),
        ("testBool", False),
        ("testByte", -127),
        ("testI32", -(2**31)),
        ("testI64", -34359738368),
        ("testDouble", -5.2098523),
        ("testBinary", bytes(range(256))),
        ("testMap", {0: -10, 1: -9, 2: -8}),
        ("testStringMap", {"a": "2", "b": "blah"}),
        ("testSet", [1, 2, 3]),
        ("testList", [-1, 0, 1]),
        ("testEnum", 5),
        ("testTypedef", 0xFFFFFFFFFFFFFF),
    ],
)
def test_echo_methods_answer_their_argument(box: Sandbox, method: str, thing: object) -> None:
    assert answer(box, method, thing=thing) == thing


def test_struct_echoes(box: Sandbox) -> None:
    xtruct = box.struct("Xtruct", string_thing="Zero", byte_thing=1, i32_thing=-3, i64_thing=-5)
    assert answer(box, "testStruct", thing=xtruct) is xtruct
    nest = box.struct("Xtruct2", byte_thing=1, struct_thing=xtruct, i32_thing=5)
    assert answer(box, "testNest", thing=nest) is nest


def test_map_map_is_fixed(box: Sandbox) -> None:
    expected = {-4: {-4: -4, -3: -3, -2: -2, -1: -1}, 4: {1: 1, 2: 2, 3: 3, 4: 4}}
    assert answer(box, "testMapMap", hello=42) == expected


def test_insanity(box: Sandbox) -> None:
    insane = box.struct("Insanity", userMap={5: 5, 8: 8}, xtructs=[])
    got = answer(box, "testInsanity", argument=insane)
    assert isinstance(got, dict)
    assert sorted(got) == [1, 2]
    assert got[1] == {2: insane, 3: insane}
    (six,) = got[2].values()
    assert list(got[2]) == [6]
    assert (six.userMap, six.xtructs) == (None, None)  # an empty Insanity


def test_multi(box: Sandbox) -> None:
    got = answer(box, "testMulti", arg0=1, arg1=2, arg2=3, arg3={1: "x"}, arg4=1, arg5=9)
    assert (got.string_thing, got.byte_thing, got.i32_thing, got.i64_thing) == ("Hello2", 1, 2, 3)


def test_exception(box: Sandbox) -> None:
    raised = box.call("ThriftTest", "testException", arg="Xception").reply
    assert isinstance(raised, Raise)
    assert raised.field_name == "err1"
    assert (raised.exc.errorCode, raised.exc.message) == (1001, "Xception")
    app_error = box.call("ThriftTest", "testException", arg="TException").reply
    assert isinstance(app_error, AppError)
    assert box.call("ThriftTest", "testException", arg="success").reply == Success(None)


def test_multi_exception(box: Sandbox) -> None:
    first = box.call("ThriftTest", "testMultiException", arg0="Xception", arg1="ignored").reply
    assert isinstance(first, Raise)
    assert first.field_name == "err1"
    assert (first.exc.errorCode, first.exc.message) == (1001, "This is an Xception")
    second = box.call("ThriftTest", "testMultiException", arg0="Xception2", arg1="ignored").reply
    assert isinstance(second, Raise)
    assert second.field_name == "err2"
    assert second.exc.errorCode == 2002
    assert second.exc.struct_thing.string_thing == "This is an Xception2"
    got = answer(box, "testMultiException", arg0="other", arg1="foobar")
    assert got.string_thing == "foobar"
    assert got.i32_thing is None


def test_oneway_and_void(box: Sandbox) -> None:
    oneway = box.call("ThriftTest", "testOneway", secondsToSleep=1)
    assert oneway.reply == NoReply()
    assert oneway.latency_s == 0
    assert box.call("ThriftTest", "testVoid").reply is None  # generated: void answers nothing


def test_second_service(box: Sandbox) -> None:
    decision = box.call("SecondService", "secondtestString", thing="foobar")
    assert decision.reply == Success('testString("foobar")')
