"""The structural scans and readers: message boundaries, resumption, and refusal of impossible sizes."""

from __future__ import annotations

import struct
import time
from typing import Any

import pytest
from thriftpy2.protocol import TBinaryProtocol, TCompactProtocol
from thriftpy2.thrift import TMessageType
from thriftpy2.transport import TMemoryBuffer

from tests.wire.test_support import ResettingApacheJSONProtocol, load_client_module
from thriftbox.wire import scan
from thriftbox.wire.detect import detect
from thriftbox.wire.framing import BufferedReader, FramedReader, Message, TooLarge
from thriftbox.wire.http import HttpReader

tp = load_client_module()


def bag() -> Any:
    point = tp.Point(x=1, y=-1, label="p")
    return tp.Bag(
        flag=True,
        b=1,
        s=2,
        i=3,
        l=4,
        d=0.5,
        text="t",
        data=b"\x00\xff",
        nums=[1, 2, 3],
        tags=["a", "b"],
        points={"k": point, "e": tp.Point()},
        color=1,
        path=[point, point],
    )


def encode(protocol: str, name: str = "echo", seqid: int = 9, **kw: Any) -> bytes:
    buf = TMemoryBuffer()
    proto: Any = {
        "binary": lambda: TBinaryProtocol(buf, **kw),
        "compact": lambda: TCompactProtocol(buf),
        "json": lambda: ResettingApacheJSONProtocol(buf),
    }[protocol]()
    proto.write_message_begin(name, TMessageType.CALL, seqid)
    proto.write_struct(tp.Echo.echo_args(bag=bag()))
    proto.write_message_end()
    return bytes(buf.getvalue())


MESSAGES = {
    "binary": encode("binary"),
    "binary-nonstrict": encode("binary", strict_write=False),
    "compact": encode("compact"),
    "json": encode("json"),
}


@pytest.mark.parametrize("kind", list(MESSAGES))
def test_buffered_reader_finds_each_message_at_every_split(kind: str) -> None:
    """Two pipelined messages arriving in two reads, split at every possible byte: both are found, once."""
    data = MESSAGES[kind] * 2
    protocol = kind.split("-")[0]
    for cut in range(1, len(data)):
        reader = BufferedReader(protocol, 1 << 20)  # type: ignore[arg-type]
        out: list[Message] = []
        used = reader.feed(data[:cut], out)
        rest = data[used:cut] + data[cut:]
        used2 = reader.feed(rest, out)
        assert used2 == len(rest), cut
        assert [(m.name, m.seqid) for m in out] == [("echo", 9), ("echo", 9)], cut


@pytest.mark.parametrize("kind", ["binary", "compact"])
def test_every_truncation_needs_more(kind: str) -> None:
    data = MESSAGES[kind]
    envelope = scan.binary_envelope if kind == "binary" else scan.compact_envelope
    struct_end = scan.binary_struct if kind == "binary" else scan.compact_struct

    def scan_all(cut: int) -> None:
        _, _, _, args = envelope(data, 0, cut)
        struct_end(data, args, cut)

    for cut in range(len(data)):
        with pytest.raises(scan.NeedMore) as more:
            scan_all(cut)
        assert more.value.needed > cut


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"\x0b\x00\x01\xff\xff\xff\xff", "negative string length"),
        (b"\x0f\x00\x01\x08\x80\x00\x00\x00", "negative list size"),
        (b"\x07\x00\x01", "unknown field type"),
        (b"\x0f\x00\x01\x01\x00\x00\x00\x02", "unknown element type"),
        (b"\x0c\x00\x01" * 70 + b"\x00" * 71, "nested deeper"),
    ],
)
def test_binary_malformed(payload: bytes, reason: str) -> None:
    with pytest.raises(scan.Malformed, match=reason):
        scan.binary_struct(payload, 0, len(payload))


def test_huge_claims_are_refused_without_work() -> None:
    """A list claiming 2**31-1 strings in a few bytes: NeedMore at once, with a size that trips the limit."""
    payload = b"\x0f\x00\x01\x0b" + struct.pack(">i", 2**31 - 1) + b"\x00" * 16
    t0 = time.perf_counter()
    with pytest.raises(scan.NeedMore) as more:
        scan.binary_struct(payload, 0, len(payload))
    assert time.perf_counter() - t0 < 0.05
    assert more.value.needed > 2**33
    reader = BufferedReader("binary", 1 << 20)
    head = b"\x80\x01\x00\x01" + struct.pack(">i", 4) + b"echo" + b"\x00\x00\x00\x01"
    with pytest.raises(TooLarge):
        reader.feed(head + payload, [])


def test_framed_reader_refuses_truncated_and_oversized_frames() -> None:
    msg = MESSAGES["binary"]
    reader = FramedReader("binary", 1 << 20)
    with pytest.raises(scan.Malformed, match="truncated"):
        reader.feed(struct.pack(">i", len(msg) - 5) + msg[:-5], [])
    with pytest.raises(TooLarge):
        FramedReader("binary", 100).feed(struct.pack(">i", 101) + b"\x80", [])
    out: list[Message] = []
    frame = struct.pack(">i", len(msg)) + msg
    assert reader.feed(frame + frame[:10], out) == len(frame)
    assert len(out) == 1


def test_compact_varint_overlong() -> None:
    with pytest.raises(scan.Malformed, match="varint"):
        scan.compact_struct(b"\x15" + b"\xff" * 11, 0, 12)


def test_json_end_ignores_brackets_in_strings() -> None:
    text = b'[1,"m",1,0,{"1":{"str":"]}\\"[{"}}]'
    assert scan.json_end(text, 0, len(text)) == len(text)
    with pytest.raises(scan.Malformed, match="unbalanced"):
        scan.json_end(b"]", 0, 1)


@pytest.mark.parametrize(
    ("first", "expected"),
    [
        (b"\x80\x01", ("buffered", "binary")),
        (b"\x82\x21", ("buffered", "compact")),
        (b"[1,", ("buffered", "json")),
        (b"\x00\x00\x00\x10\x80\x01", ("framed", "binary")),
        (b"\x00\x00\x00\x10\x00\x00", ("framed", "binary")),
        (b"\x00\x00\x00\x10\x82", ("framed", "compact")),
        (b"\x00\x00\x00\x10[", ("framed", "json")),
        (b"\x00\x00\x00\x04echo", ("buffered", "binary")),  # old non-strict binary: a name length
        (b"POST / HTTP/1.1\r\n", ("http", None)),
        (b"GET / HTTP/1.1\r\n", ("http", None)),
    ],
)
def test_detect(first: bytes, expected: tuple[str, str | None]) -> None:
    reader = detect(first, 1 << 24)
    assert reader is not None
    assert (reader.framing, reader.protocol) == expected
    assert isinstance(reader, HttpReader) == (expected[0] == "http")


def test_detect_waits_and_refuses() -> None:
    assert detect(b"\x80", 1 << 24) is None
    assert detect(b"\x00\x00\x00", 1 << 24) is None
    assert detect(b"POS", 1 << 24) is None
    with pytest.raises(TooLarge):
        detect(b"\x7f\xff\xff\xff\x80", 1 << 24)  # a 2 GB frame header
    with pytest.raises(scan.Malformed):
        detect(b"\xff\xff\xff\xff\x00", 1 << 24)
    with pytest.raises(scan.Malformed):
        detect(b"\x80\x02", 1 << 24)


def test_detect_theader_and_compressed_frames() -> None:
    assert detect(b"\x00\x00\x00\x23\x0f", 1 << 24) is None  # THeader magic or not: one more byte
    header = detect(b"\x00\x00\x00\x23\x0f\xff\x00\x00", 1 << 24)
    assert header is not None
    assert header.framing == "header"
    compressed = detect(b"\x00\x00\x00\x13\x78\xda\x01", 1 << 24)  # a zlib stream in a frame
    assert compressed is not None
    assert compressed.framing == "zlib"
    with pytest.raises(scan.Malformed, match="then 0x0f"):
        detect(b"\x00\x00\x00\x04\x0f\x00", 1 << 24)
    with pytest.raises(scan.Malformed, match="then 0x78"):
        detect(b"\x00\x00\x00\x13\x78\xdb\x01", 1 << 24)  # not a zlib header (0x78db % 31 != 0)
    reader = detect(b"\x00\x00\x00\x0f_private:echo", 1 << 24)  # a name may start with an underscore
    assert reader is not None
    assert (reader.framing, reader.protocol) == ("buffered", "binary")
