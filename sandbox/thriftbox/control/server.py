"""The server side of the control contract: a small JSON-over-HTTP/1.1 server on asyncio, for a mock host's
control endpoint and the admin API (the routes: :mod:`thriftbox.control.paths`).

No framework: the endpoints are a handful of JSON routes, and this keeps the host's start-up and memory small.
Routes are ``(method, path)`` with ``{name}`` segments; handlers get a :class:`Request` and return
``(status, json_body)``, or raise :class:`~thriftbox.control.messages.HttpError` to answer with an error.

Who may call (one check before any route, :meth:`ControlServer._refusal`): with a ``token``, a request without
that token in the ``X-Thriftbox-Token`` header gets 403 (``open_paths`` excepted; with ``token_for_reads=False``
only state-changing methods need it); with ``same_origin``, a ``Host`` header that is not an address the server
listens on, or a state-changing request from a foreign ``Origin``, gets 403 (DNS rebinding, cross-site requests).
A body must come as ``application/json`` (415 otherwise): a web page cannot send that cross-origin without a
CORS preflight, which this server never grants. See docs/security.md.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from thriftbox.control.auth import TOKEN_HEADER, is_loopback, same_token
from thriftbox.control.messages import HttpError

logger = logging.getLogger(__name__)

MAX_BODY = 8 * 2**20
MAX_HEADERS = 100  # header lines per request; more is a 431
MAX_HEADER_BYTES = 32 * 2**10  # bytes of the request line and headers together; more is a 431
READS = frozenset({"GET", "HEAD", "OPTIONS"})
WILDCARDS = frozenset({"0.0.0.0", "::", ""})  # a server bound to every address of the machine


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    params: dict[str, str] = field(default_factory=dict)
    body: Any = None


@dataclass(frozen=True)
class Raw:
    """A body that is not JSON (a page, a style sheet): a handler returns ``(status, Raw(...))``."""

    body: bytes
    content_type: str
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Stream:
    """An endless answer (server-sent events): each chunk ``chunks`` yields is written as soon as it comes; the
    connection closes when it ends or the client goes away."""

    chunks: AsyncIterator[bytes]
    content_type: str = "text/event-stream"


@dataclass(frozen=True)
class Encoded:
    """A JSON body already encoded (e.g. on a thread, for a large answer): sent as it is."""

    data: bytes


def _dumps(payload: Any) -> bytes:
    return json.dumps(payload, indent=None, default=str).encode()


Handler = Callable[[Request], Awaitable[tuple[int, Any]]]


class ControlServer:
    """Serve JSON routes on ``host:port`` (port 0 picks a free one; see :attr:`port`)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        token: str | None = None,
        token_for_reads: bool = True,
        open_paths: frozenset[str] = frozenset(),
        same_origin: bool = False,
    ) -> None:
        self.host = host
        self._port = port
        self.token = token
        self.token_for_reads = token_for_reads
        self.open_paths = open_paths
        self.same_origin = same_origin
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._server: asyncio.Server | None = None

    def route(self, method: str, path: str) -> Callable[[Handler], Handler]:
        pattern = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path) + "$")

        def register(handler: Handler) -> Handler:
            self._routes.append((method, pattern, handler))
            return handler

        return register

    @property
    def port(self) -> int:
        if self._server is None or not self._server.sockets:
            return self._port
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self._port)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request_line = await reader.readline()
                if not request_line:
                    break
                keep_alive = await self._one(request_line, reader, writer)
                if not keep_alive:
                    break
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            writer.close()

    async def _one(
        self, request_line: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        try:
            method, target, _version = request_line.decode("latin-1").split()
        except ValueError:
            await self._send(writer, 400, {"error": "malformed request line"}, close=True)
            return False
        headers = await self._headers(reader, len(request_line))
        if headers is None:
            await self._send(writer, 431, {"error": "request headers too large"}, close=True)
            return False
        length = _content_length(headers.get("content-length"))
        if length is None:
            message = f"Content-Length must be a non-negative integer, not {headers['content-length']!r}"
            await self._send(writer, 400, {"error": message}, close=True)
            return False
        if length > MAX_BODY:
            await self._send(writer, 413, {"error": "body too large"}, close=True)
            return False
        raw = await reader.readexactly(length) if length else b""
        keep_alive = headers.get("connection", "").lower() != "close"
        url = urlsplit(target)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        refusal = self._refusal(method, url.path, headers, bool(raw))
        if refusal is not None:
            await self._send(writer, refusal[0], {"error": refusal[1]}, close=not keep_alive)
            return keep_alive
        try:
            status, payload = await self._dispatch(Request(method, url.path, query, body=_body(raw)))
        except HttpError as err:
            status, payload = err.status, err.body()
        except Exception as err:  # a bug in a handler must not kill the endpoint
            logger.exception("control endpoint: %s %s failed", method, url.path)
            status, payload = 500, {"error": f"{type(err).__name__}: {err}"}
        if isinstance(payload, Stream):
            await self._stream(writer, status, payload)
            return False
        await self._send(writer, status, payload, close=not keep_alive)
        return keep_alive

    @staticmethod
    async def _headers(reader: asyncio.StreamReader, used: int) -> dict[str, str] | None:
        """The request's headers (names lower-cased), or None when they pass MAX_HEADERS or MAX_HEADER_BYTES
        (a single line longer than the reader's buffer included)."""
        headers: dict[str, str] = {}
        count = 0
        while True:
            try:
                line = await reader.readline()
            except ValueError:  # one line beyond the stream's limit: asyncio's LimitOverrunError
                return None
            if line in (b"\r\n", b"\n", b""):
                return headers
            used += len(line)
            count += 1
            if count > MAX_HEADERS or used > MAX_HEADER_BYTES:
                return None
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()

    def own_hosts(self) -> set[str]:
        """The ``Host`` header values naming this server: its loopback names, and its own address."""
        port = self.port
        names = {f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"}
        if not is_loopback(self.host) and self.host not in WILDCARDS:
            names.add(f"[{self.host}]:{port}" if ":" in self.host else f"{self.host}:{port}")
        return names

    def _refusal(
        self, method: str, path: str, headers: dict[str, str], has_body: bool
    ) -> tuple[int, str] | None:
        """Why this request is refused before any route sees it (status, message), or None."""
        writes = method not in READS
        if self.same_origin:
            own = self.own_hosts()
            if self.host in WILDCARDS:  # any address of the machine: the token guards every request
                own.add(headers.get("host", "").lower())
            if headers.get("host", "").lower() not in own:
                return 403, "the Host header does not name this server"
            origin = headers.get("origin")
            if writes and origin is not None and origin.lower() not in {f"http://{h}" for h in own}:
                return 403, f"cross-origin requests are refused (Origin: {origin})"
        guarded = self.token is not None and path not in self.open_paths and (writes or self.token_for_reads)
        if guarded and not same_token(headers.get(TOKEN_HEADER.lower()), self.token or ""):
            return 403, f"a {TOKEN_HEADER} header with this server's token is required"
        if has_body and headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
            return 415, "a request body must be sent as Content-Type: application/json"
        return None

    async def _dispatch(self, request: Request) -> tuple[int, Any]:
        allowed = False
        for method, pattern, handler in self._routes:
            match = pattern.match(request.path)
            if not match:
                continue
            allowed = True
            if method == request.method:
                request.params = {k: unquote(v) for k, v in match.groupdict().items()}
                return await handler(request)
        if allowed:
            raise HttpError(405, f"{request.method} not allowed on {request.path}")
        raise HttpError(404, f"no such endpoint: {request.path}")

    @staticmethod
    async def _send(writer: asyncio.StreamWriter, status: int, payload: Any, *, close: bool) -> None:
        if isinstance(payload, Raw):
            body, kind, extra = (
                payload.body,
                payload.content_type,
                "".join(f"{k}: {v}\r\n" for k, v in payload.headers),
            )
        else:
            body = payload.data if isinstance(payload, Encoded) else _dumps(payload)
            kind, extra = "application/json", ""
        head = (
            f"HTTP/1.1 {status} {_reason(status)}\r\nContent-Type: {kind}\r\n{extra}"
            f"Content-Length: {len(body)}\r\nConnection: {'close' if close else 'keep-alive'}\r\n\r\n"
        )
        writer.write(head.encode("latin-1") + body)
        await writer.drain()

    @staticmethod
    async def _stream(writer: asyncio.StreamWriter, status: int, stream: Stream) -> None:
        head = (
            f"HTTP/1.1 {status} {_reason(status)}\r\nContent-Type: {stream.content_type}\r\n"
            "Cache-Control: no-store\r\nConnection: close\r\n\r\n"
        )
        writer.write(head.encode("latin-1"))
        try:
            await writer.drain()
            async for chunk in stream.chunks:
                writer.write(chunk)
                await writer.drain()
        finally:
            close = getattr(stream.chunks, "aclose", None)
            if close is not None:
                await close()


def _reason(status: int) -> str:
    return HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Status"


def _body(raw: bytes) -> Any:
    """The request body as JSON (None when empty); HttpError 400 when it is not JSON or nested too deeply."""
    if not raw:
        return None
    try:
        return json.loads(raw)
    except json.JSONDecodeError as err:
        raise HttpError(400, f"body is not JSON: {err}") from None
    except RecursionError:
        raise HttpError(400, "body is nested too deeply to read") from None


def _content_length(raw: str | None) -> int | None:
    """The body's length from its header (absent: 0), or None when the header is not a non-negative integer."""
    if raw is None:
        return 0
    raw = raw.strip()
    return int(raw) if raw.isascii() and raw.isdigit() else None
