"""The raw reply readers and the decoder: thriftpy2 writes, thriftbox reads back, nothing is lost."""

from __future__ import annotations

import io
import struct
from pathlib import Path
from typing import Any

import pytest
from thriftpy2.protocol import TCompactProtocolFactory, TCyBinaryProtocolFactory
from thriftpy2.thrift import TType
from thriftpy2.transport import TCyMemoryBuffer
from thriftpy2.utils import serialize

from thriftbox.contract.cases import PROFILES, EdgeValues
from thriftbox.contract.decode import Decoder
from thriftbox.contract.reader import BinaryReader, CompactReader, MalformedReply, RawList
from thriftbox.idl import load_catalog
from thriftbox.idl.classes import Classes

KINDS_IDL = Path(__file__).parent / "kinds.thrift"
FACTORIES = {"binary": TCyBinaryProtocolFactory(), "compact": TCompactProtocolFactory()}
READERS = {"binary": BinaryReader, "compact": CompactReader}


class Exact(io.BytesIO):
    """A transport that, like thriftpy2's, fails on a short read instead of returning less."""

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        if size is not None and size >= 0 and len(data) < size:
            raise EOFError(f"wanted {size} bytes, got {len(data)}")
        return data


@pytest.fixture(scope="module")
def classes() -> Classes:
    return Classes(load_catalog([KINDS_IDL]))


def everything(classes: Classes) -> Any:
    leaf = classes.struct("kinds.Leaf")
    return classes.struct("kinds.Everything")(
        flag=True,
        tiny=-128,
        small=-2,
        medium=2**31 - 1,
        large=-(2**63),
        ratio=-0.25,
        text="東京 🚀",
        blob=bytes(range(256)),
        color=-1,
        leaf=leaf(label="a", child=leaf(label="b")),
        numbers=list(range(-20, 20)),  # more than 14 elements: the long compact list header
        names=["x", "y"],
        leaves={"k": leaf(label="c")},
        nested={4: [[1, 2], []]},
        choice=classes.struct("kinds.Choice")(text="t"),
        flags=[True, False, True],
        weights={2**40: 1.5},
    )


def decode(classes: Classes, protocol: str, payload: Any, method: str = "echo") -> Any:
    data = serialize(payload, FACTORIES[protocol])
    raw = READERS[protocol](Exact(data)).struct()
    svc = classes.catalog.services["kinds.Echo"]
    return Decoder(classes).result(svc.id, svc.methods[method], raw)


@pytest.mark.parametrize("protocol", ["binary", "compact"])
def test_every_type_round_trips(classes: Classes, protocol: str) -> None:
    value = everything(classes)
    decoded = decode(classes, protocol, classes.result("kinds.Echo", "echo")(success=value))
    assert (decoded.problems, decoded.notes) == ([], [])
    assert decoded.value.success == value


@pytest.mark.parametrize("protocol", ["binary", "compact"])
@pytest.mark.parametrize("profile", PROFILES)
def test_edge_values_round_trip(classes: Classes, protocol: str, profile: str) -> None:
    t = classes.catalog.services["kinds.Echo"].methods["echo"].returns
    value = EdgeValues(classes).value(t, profile)
    decoded = decode(classes, protocol, classes.result("kinds.Echo", "echo")(success=value))
    assert decoded.problems == []
    assert decoded.value.success == value


@pytest.mark.parametrize("protocol", ["binary", "compact"])
def test_messages_begin_with_name_type_and_sequence_id(protocol: str) -> None:
    buf = TCyMemoryBuffer()
    FACTORIES[protocol].get_protocol(buf).write_message_begin("getUser", 2, 77)
    reader = READERS[protocol](Exact(buf.getvalue()))
    assert reader.message_begin() == ("getUser", 2, 77)


def test_non_strict_binary_messages_are_read_too() -> None:
    data = struct.pack("!i", 4) + b"ping" + struct.pack("!bi", 2, 5)
    assert BinaryReader(Exact(data)).message_begin() == ("ping", 2, 5)


@pytest.mark.parametrize(
    ("reader", "data", "message"),
    [
        (BinaryReader, struct.pack("!I", 0x80020002), "bad binary protocol version"),
        (CompactReader, b"\x80\x21", "bad compact protocol id"),
        (CompactReader, b"\x82\x22", "bad compact protocol version 2"),
        (BinaryReader, struct.pack("!I", 0x80010002) + struct.pack("!i", 2**30), "implausible length"),
    ],
)
def test_garbage_is_a_malformed_reply(reader: Any, data: bytes, message: str) -> None:
    with pytest.raises(MalformedReply, match=message):
        reader(Exact(data)).message_begin()


def test_an_unknown_wire_type_is_malformed() -> None:
    with pytest.raises(MalformedReply, match="unknown wire type 99"):
        BinaryReader(Exact(bytes([99, 0, 1]))).struct()


def test_raw_fields_keep_their_wire_type(classes: Classes) -> None:
    payload = classes.struct("kinds.Leaf")(label="a")
    raw = BinaryReader(Exact(serialize(payload, FACTORIES["binary"]))).struct()
    assert raw == {1: (TType.STRING, b"a")}
    numbers = classes.struct("kinds.Everything")(numbers=[1])
    assert BinaryReader(Exact(serialize(numbers, FACTORIES["binary"]))).struct() == {
        11: (TType.LIST, RawList(TType.I32, [1]))
    }


@pytest.mark.parametrize("protocol", ["binary", "compact"])
def test_wrong_element_types_are_problems_not_crashes(classes: Classes, protocol: str) -> None:
    class Strings(classes.result("kinds.Echo", "echo")):  # type: ignore[misc]
        pass

    # a provider whose IDL says list<string> where ours says list<i32>: build its result class by hand
    Strings.thrift_spec = {0: (TType.STRUCT, "success", _drifted_everything(), False)}
    Strings.default_spec = [("success", None)]
    decoded = decode(classes, protocol, Strings(success=_drifted_everything()(numbers=["1", "2"])))
    assert [(p.path, p.message) for p in decoded.problems] == [
        ("echo.success.numbers", "elements sent as string/binary, IDL says i32")
    ]


def _drifted_everything() -> Any:
    from thriftpy2.thrift import TPayload

    class Drifted(TPayload):
        thrift_spec = {11: (TType.LIST, "numbers", TType.STRING, False)}
        default_spec = [("numbers", None)]

    return Drifted
