"""Apache's ``TZlibTransport``: one zlib stream per direction, flushed (``Z_SYNC_FLUSH``) after each message.

A client stacks it over buffered or framed: ``TZlibTransport(TBufferedTransport(sock))`` sends the bare zlib
stream (its first byte is ``0x78``); ``TZlibTransport(TFramedTransport(sock))`` sends each flushed piece of
the stream in a frame. The inflated bytes are a connection of their own, detected like any other (usually
buffered binary or compact messages); replies are deflated into the same stream and framed the same way.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from struct import Struct

from thriftbox.wire.framing import Message, Reader, TooLarge, frame_plain
from thriftbox.wire.scan import Buf, Malformed

_I32 = Struct(">i")


def is_zlib_start(buf: Buf, pos: int) -> bool:
    """Whether a zlib header (deflate, 32K window: ``78 01``, ``78 5E``, ``78 9C``, ``78 DA``) is at ``pos``."""
    return buf[pos] == 0x78 and ((buf[pos] << 8) | buf[pos + 1]) % 31 == 0 and not buf[pos + 1] & 0x20


class ZlibReader(Reader):
    framing = "zlib"
    protocol = None

    def __init__(self, max_size: int, detect: Callable[[Buf, int], Reader | None], *, framed: bool) -> None:
        self.max_size = max_size
        self.framed = framed
        self._detect = detect
        self._inflate = zlib.decompressobj()
        self._deflate = zlib.compressobj()
        self._plain = bytearray()  # inflated bytes not yet part of a complete message
        self.inner: Reader | None = None

    def feed(self, buf: Buf, out: list[Message]) -> int:
        if not self.framed:
            self._take(bytes(buf), out)
            return len(buf)
        pos, end = 0, len(buf)
        while end - pos >= 4:
            size = _I32.unpack_from(buf, pos)[0]
            if size > self.max_size:
                raise TooLarge(f"frame of {size} bytes exceeds the limit of {self.max_size}")
            if size <= 0:
                raise Malformed(f"frame size {size}")
            if pos + 4 + size > end:
                break
            self._take(bytes(buf[pos + 4 : pos + 4 + size]), out)
            pos += 4 + size
        return pos

    def _take(self, data: bytes, out: list[Message]) -> None:
        """Inflate ``data`` and pass on the messages it completes, never holding more than the limit."""
        while data:
            try:
                chunk = self._inflate.decompress(data, self.max_size + 1)
            except zlib.error as exc:
                raise Malformed(f"zlib: {exc}") from None
            if self._inflate.eof:
                raise Malformed("zlib: the client ended its stream")
            self._plain += chunk
            self._drain(out)
            if len(self._plain) > self.max_size:
                raise TooLarge(f"message exceeds the limit of {self.max_size} bytes (inflated)")
            data = self._inflate.unconsumed_tail

    def _drain(self, out: list[Message]) -> None:
        inner = self.inner
        if inner is None:
            if not self._plain:
                return
            inner = self._detect(self._plain, self.max_size)
            if inner is None:
                return
            if inner.framing in ("http", "zlib"):
                raise Malformed(f"zlib: {inner.framing} inside a zlib stream is not supported")
            self.inner = inner
        used = inner.feed(self._plain, out)
        if used:
            del self._plain[:used]

    def frame_reply(self, msg: Message, payload: bytes) -> bytes:
        inner = self.inner
        assert inner is not None  # a message came through it
        if inner.framing in ("buffered", "framed"):
            plain = frame_plain(inner.framing, payload)
        else:
            plain = inner.frame_reply(msg, payload)
        data = self._deflate.compress(plain) + self._deflate.flush(zlib.Z_SYNC_FLUSH)
        return _I32.pack(len(data)) + data if self.framed else data
