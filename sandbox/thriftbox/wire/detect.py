"""Which transport and protocol a connection speaks, decided once from its first bytes.

==========================================  ==========================================
first bytes                                 connection
==========================================  ==========================================
``80 01``                                   buffered strict binary
``82``                                      buffered compact
``[``                                       buffered Apache JSON
``POST `` (or another HTTP method)          HTTP (other methods are answered 405)
int32 N, then ``80``, ``82``, ``[``, ``00``  framed (binary, compact, JSON, non-strict binary)
int32 N, then a method name                 buffered non-strict binary (N = name length)
int32 N, then ``0F FF``                     THeader (binary or compact inside, zlib transform)
int32 N, int32 N-4, then ``0F FF``          THeader inside a ``TFramedTransport`` (Apache's ``--transport=framed``)
``78`` + a zlib header check byte           Apache ``TZlibTransport`` over buffered: a zlib stream
int32 N, then a zlib header                 ``TZlibTransport`` over framed: frames of a zlib stream
int32 N, then anything else                 refused
==========================================  ==========================================

Refusing closes the connection at once, so a client of a dialect thriftbox does not speak fails fast instead
of waiting for a reply to a "name" that never ends.
"""

from __future__ import annotations

import re
from struct import Struct

from thriftbox.wire.framing import BufferedReader, FramedReader, Reader, TooLarge
from thriftbox.wire.header import HeaderReader
from thriftbox.wire.http import HttpReader
from thriftbox.wire.scan import Buf, Malformed
from thriftbox.wire.zlibwire import ZlibReader, is_zlib_start

_I32 = Struct(">i")
_HTTP_METHOD = re.compile(rb"[A-Z]{3,7} ")
_FRAMED = {0x80: "binary", 0x00: "binary", 0x82: "compact", 0x5B: "json"}
_FRAMED_HEADER_MIN = 18  # inner length, THeader's fixed 10 bytes, one word of header
_NAME_START = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")  # of a Thrift identifier
_NAME = _NAME_START | frozenset(b"0123456789.:")  # the rest of one, and the multiplexing separator


def detect(buf: Buf, max_size: int) -> Reader | None:
    """The reader for a connection that started with ``buf``; ``None`` while more bytes are needed."""
    first = buf[0]
    if first == 0x80:
        if len(buf) < 2:
            return None
        if buf[1] != 0x01:
            raise Malformed(f"bad binary protocol version 0x80{buf[1]:02x}")
        return BufferedReader("binary", max_size)
    if first == 0x82:
        return BufferedReader("compact", max_size)
    if first == 0x5B:  # "["
        return BufferedReader("json", max_size)
    if 0x41 <= first <= 0x5A:  # an uppercase letter: maybe an HTTP request line
        head = bytes(buf[:8])
        if _HTTP_METHOD.match(head):
            return HttpReader(max_size)
        if len(head) < 8 and head.isalpha() and head.isupper():
            return None
    if first == 0x78:  # a zlib stream's first byte; as a length word, far beyond any frame limit
        if len(buf) < 2:
            return None
        if is_zlib_start(buf, 0):
            return ZlibReader(max_size, detect, framed=False)
    if len(buf) < 5:
        return None
    size = _I32.unpack_from(buf, 0)[0]
    if size < 0:
        raise Malformed(f"not Thrift: starts with 0x{size & 0xFFFFFFFF:08x}")
    if size > max_size:
        raise TooLarge(f"frame or name of {size} bytes exceeds the limit of {max_size}")
    # 0x00: framed non-strict binary, or a THeader frame inside a frame (its length, then 0x0FFF)
    if (
        buf[4] == 0x00
        and size >= _FRAMED_HEADER_MIN
        and (_I32.pack(size - 4) + b"\x0f\xff").startswith(bytes(buf[4:10]))
    ):
        return HeaderReader(max_size, framed=True) if len(buf) >= 10 else None
    protocol = _FRAMED.get(buf[4])
    if protocol == "binary":
        return FramedReader("binary", max_size)
    if protocol == "compact":
        return FramedReader("compact", max_size)
    if protocol == "json":
        return FramedReader("json", max_size)
    if buf[4] in _NAME_START and _NAME.issuperset(buf[5 : 4 + size]):
        return BufferedReader("binary", max_size)
    if buf[4] == 0x0F or buf[4] == 0x78:
        if len(buf) < 6:
            return None
        if buf[4] == 0x0F and buf[5] == 0xFF:
            return HeaderReader(max_size)
        if is_zlib_start(buf, 4):
            return ZlibReader(max_size, detect, framed=True)
    raise Malformed(f"not Thrift: a length of {size}, then 0x{buf[4]:02x} (neither a message nor a name)")
