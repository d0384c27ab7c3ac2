"""Thrift over HTTP, as Apache's and thriftpy2's ``THttpClient`` speak it: ``POST`` with one enveloped
message as the body (any path, any content type), keep-alive by default, the reply as the 200 response body.

Browser-style cross-origin requests are refused with 403 before any call is made: a request with an ``Origin``
header that is not the server's own (``http://`` + its ``Host`` header), or with a browser's ``Origin`` and a
``text/plain`` body (a form or ``fetch`` any web page may send without asking). Thrift clients send no ``Origin``.

Anything else gets a short 4xx answer and the connection is closed.
"""

from __future__ import annotations

from thriftbox.wire.app import Framing, ProtocolName
from thriftbox.wire.framing import Message, Reader, parse_message
from thriftbox.wire.scan import Buf, Malformed, NeedMore

MAX_HEADER = 64 * 1024
_REASONS = {
    200: "OK",
    400: "Bad Request",
    403: "Forbidden",
    405: "Method Not Allowed",
    411: "Length Required",
    413: "Content Too Large",
    431: "Request Header Fields Too Large",
    505: "HTTP Version Not Supported",
}


class HttpError(Malformed):
    """A request this server answers with ``status`` and then closes the connection."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"HTTP {status}: {detail}")
        self.status = status
        self.detail = detail


def response(status: int, body: bytes = b"", *, close: bool = False) -> bytes:
    """A complete HTTP/1.1 response; Thrift replies are ``application/x-thrift``, errors plain text."""
    ctype = "application/x-thrift" if status == 200 else "text/plain; charset=utf-8"
    head = f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\nContent-Type: {ctype}\r\n"
    if status == 405:
        head += "Allow: POST\r\n"
    head += f"Content-Length: {len(body)}\r\n"
    if close:
        head += "Connection: close\r\n"
    return head.encode("ascii") + b"\r\n" + body


def body_protocol(body: bytes) -> ProtocolName:
    """Which protocol an HTTP body is in, by its first byte."""
    first = body[:1]
    if first == b"\x82":
        return "compact"
    if first == b"[":
        return "json"
    return "binary"  # strict (0x80) or non-strict (a name length)


class HttpReader(Reader):
    framing: Framing = "http"
    protocol: ProtocolName | None = None

    def __init__(self, max_size: int) -> None:
        self.max_size = max_size

    def feed(self, buf: Buf, out: list[Message]) -> int:
        pos, end = 0, len(buf)
        while pos < end:
            head_end = buf.find(b"\r\n\r\n", pos)
            if head_end < 0:
                if end - pos > MAX_HEADER:
                    raise HttpError(431, "request head too long")
                line_end = buf.find(b"\r\n", pos, end)
                if line_end >= 0:  # judge the request line without waiting for the whole head
                    self._request_line(bytes(buf[pos:line_end]).decode("latin-1"))
                break
            length, close = self._head(bytes(buf[pos:head_end]))
            start = head_end + 4
            if start + length > end:
                break
            body = bytes(buf[start : start + length])
            protocol = body_protocol(body)
            try:
                msg, _ = parse_message(protocol, body, 0, length)
            except NeedMore:
                raise HttpError(400, "body is not one complete Thrift message") from None
            except Malformed as exc:
                raise HttpError(400, f"body is not a Thrift message: {exc}") from None
            out.append(msg._replace(close_after=close))
            pos = start + length
        return pos

    def _request_line(self, line: str) -> str:
        """The HTTP version of an acceptable request line; :class:`HttpError` otherwise."""
        parts = line.split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise HttpError(400, f"bad request line {line[:80]!r}")
        if parts[0] != "POST":
            raise HttpError(405, f"{parts[0][:20]} is not supported; Thrift over HTTP uses POST")
        return parts[2]

    def _head(self, head: bytes) -> tuple[int, bool]:
        """(Content-Length, close after answering) of a request head; :class:`HttpError` if unacceptable."""
        lines = head.decode("latin-1").split("\r\n")
        version = self._request_line(lines[0])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                raise HttpError(400, f"bad header line {line[:80]!r}")
            headers[name.strip().lower()] = value.strip()
        origin = headers.get("origin")
        if origin is not None:
            if origin.lower() != "http://" + headers.get("host", "").lower():
                raise HttpError(403, "cross-origin requests are refused")
            if headers.get("content-type", "").split(";")[0].strip().lower() == "text/plain":
                raise HttpError(403, "text/plain requests from a browser are refused")
        if "transfer-encoding" in headers:
            raise HttpError(411, "chunked bodies are not supported; send Content-Length")
        raw = headers.get("content-length")
        if raw is None:
            raise HttpError(411, "Content-Length required")
        if not (raw.isascii() and raw.isdigit()):
            raise HttpError(400, f"bad Content-Length {raw[:40]!r}")
        length = int(raw)
        if length > self.max_size:
            raise HttpError(413, f"body of {length} bytes exceeds the limit of {self.max_size}")
        if length == 0:
            raise HttpError(400, "empty body")
        tokens = {t.strip().lower() for t in headers.get("connection", "").split(",")}
        close = "close" in tokens or (version == "HTTP/1.0" and "keep-alive" not in tokens)
        return length, close
