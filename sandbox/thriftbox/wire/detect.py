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
int32 N, then ``0F FF``                     THeader: refused (not supported)
int32 N, then anything else                 refused (e.g. a zlib stream, ``78 DA``)
==========================================  ==========================================

Refusing closes the connection at once, so a client of a dialect thriftbox does not speak fails fast instead
of waiting for a reply to a "name" that never ends.
"""

from __future__ import annotations

import re
from struct import Struct

from thriftbox.wire.framing import BufferedReader, FramedReader, Reader, TooLarge
from thriftbox.wire.http import HttpReader
from thriftbox.wire.scan import Buf, Malformed

_I32 = Struct(">i")
_HTTP_METHOD = re.compile(rb"[A-Z]{3,7} ")
_FRAMED = {0x80: "binary", 0x00: "binary", 0x82: "compact", 0x5B: "json"}
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
    if len(buf) < 5:
        return None
    size = _I32.unpack_from(buf, 0)[0]
    if size < 0:
        raise Malformed(f"not Thrift: starts with 0x{size & 0xFFFFFFFF:08x}")
    if size > max_size:
        raise TooLarge(f"frame or name of {size} bytes exceeds the limit of {max_size}")
    protocol = _FRAMED.get(buf[4])
    if protocol == "binary":
        return FramedReader("binary", max_size)
    if protocol == "compact":
        return FramedReader("compact", max_size)
    if protocol == "json":
        return FramedReader("json", max_size)
    if buf[4] in _NAME_START and _NAME.issuperset(buf[5 : 4 + size]):
        return BufferedReader("binary", max_size)
    if buf[4] == 0x0F:
        if len(buf) < 6:
            return None
        if buf[5] == 0xFF:
            raise Malformed("THeader (header protocol) is not supported: use binary, compact or JSON")
    raise Malformed(f"not Thrift: a length of {size}, then 0x{buf[4]:02x} (neither a message nor a name)")
