"""The call journal: every call a mock answered, as JSON-ready dicts in a bounded in-memory ring.

An entry::

    {"id": 17, "time": 1764122400.123, "service": "users.Users", "method": "getUser",
     "args": {"id": 42}, "reply": {"kind": "success", "value": {...}},
     "source": "stub", "rule": "mocks/users.yaml:12", "latency_ms": 3.2,
     "client": "127.0.0.1:51234", "protocol": "binary", "framing": "framed", "seqid": 4, "context": None,
     "tls": "TLSv1.3"}

``protocol`` is ``binary``, ``compact`` or ``json``; ``framing`` ``buffered``, ``framed``, ``http``, ``header``
(THeader), ``zlib`` or ``ttwitter`` (Finagle's upgraded connection);
``context`` is what a THeader or TTwitter transport carried beside the message
(:meth:`CallContext.describe`: ``transport``, THeader ``headers`` and ``transforms``, TTwitter ``trace_id``,
``span_id``, ``parent_span_id``, ``sampled``, ``flags``, ``client_id``, ``dest``), ``None`` on plain transports;
``tls`` the TLS version the call's connection spoke, ``None`` in plaintext.

A call a proxying mock forwarded (``source`` ``"proxy"``) also has ``proxied`` (``backend``: ``HOST:PORT``,
``latency_ms``: the backend's, ``error`` when it failed), ``violations`` (how the backend's answer breaks the IDL,
as ``verify`` reports it: ``getUser.success.email: no value (expected string)``; empty when it conforms) and,
when recording, ``recorded: true``.

``reply.kind`` is ``success`` (``value``), ``exception`` (``field``, ``type``, ``value``), ``app_error``
(``type``, ``message``), ``fault`` (``fault``, ``seconds``) or ``oneway``. Ids increase by one per call and are
never reused, not even after :meth:`Journal.clear`, so ``since_id`` always means "after what I saw".
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from thriftbox.idl.model import Catalog, Kind, Method, match_service
from thriftbox.values.convert import fields_to_json, to_json
from thriftbox.wire.app import APP_ERROR_NAMES, AppError, Call, Fault, NoReply, Raise, Reply, Success

logger = logging.getLogger(__name__)

ARGS_KEPT = 64 * 2**10  # a call's encoded arguments up to this size are kept; larger ones are summarised
JOURNAL_BYTES = 64 * 2**20  # the arguments the journal keeps, in encoded bytes; the oldest entries go first


class Journal:
    """A ring of the last ``capacity`` calls. Record from the event loop's thread; read from anywhere."""

    def __init__(
        self,
        catalog: Catalog | None = None,
        capacity: int = 10_000,
        start_id: int = 0,
        max_bytes: int = JOURNAL_BYTES,
    ) -> None:
        self.catalog = catalog  # the current definitions; the host updates it on reload
        self.capacity = capacity
        self.max_bytes = max_bytes
        self._entries: deque[dict[str, Any] | _Raw] = deque(maxlen=capacity)
        self._bytes = 0  # encoded argument bytes of the _Raw entries held
        self._last_id = start_id  # the first entry gets start_id + 1
        self._changed = asyncio.Event()
        self._waiting = 0
        self.clears = 0  # how often entries were forgotten (host.persist rewrites its copy then)

    # -- writing -----------------------------------------------------------------------------------------

    def record(
        self,
        *,
        service: str,
        method: str,
        args: Any,
        reply: Reply,
        source: str,
        rule: str | None,
        latency_ms: float,
        call: Call,
        method_def: Method,
        catalog: Catalog | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        """Add one call (``extra``: the keys a proxied call adds: ``proxied``, ``violations``, ``recorded``).
        Cheap on purpose (it runs on every call): the JSON form is made when it is read.

        Arguments larger than :data:`ARGS_KEPT` encoded bytes are not kept (the entry says how large they were),
        and the oldest entries go once the arguments kept pass ``max_bytes``."""
        self._last_id = entry_id = self._last_id + 1
        size = call.size
        if size > ARGS_KEPT:
            args = _Omitted(size)
            call = dataclasses.replace(call, args=None)  # the call must not keep them alive either
        entries = self._entries
        if len(entries) == self.capacity:  # the deque drops its oldest now: count it out
            self._bytes -= _size(entries[0])
        self._bytes += size if size <= ARGS_KEPT else 0
        while self._bytes > self.max_bytes and entries:
            self._bytes -= _size(entries.popleft())
        entries.append(
            _Raw(
                entry_id,
                time.time(),
                service,
                method,
                args,
                reply,
                source,
                rule,
                latency_ms,
                call,
                method_def,
                catalog or self.catalog,
                size=size if size <= ARGS_KEPT else 0,
                extra=extra,
            )
        )
        if self._waiting:
            changed, self._changed = self._changed, asyncio.Event()
            self._waiting = 0
            changed.set()

    @property
    def bytes_kept(self) -> int:
        """Encoded bytes of the arguments the journal holds (what :attr:`max_bytes` bounds)."""
        return self._bytes

    def add(self, entry: dict[str, Any]) -> None:
        """Append a ready entry; it gets the next id."""
        self._last_id = entry["id"] = self._last_id + 1
        self._entries.append(entry)
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    def restore(self, entries: list[dict[str, Any]], last_id: int) -> None:
        """Put back entries a previous process of this host recorded (host.persist); ids go on from ``last_id``."""
        self._entries.extend(entries)
        self._last_id = max(self._last_id, last_id)

    def clear(self, service: str | None = None, method: str | None = None) -> None:
        """Forget every entry, or only those of ``service`` (and ``method``); ids are never reused."""
        self.clears += 1
        if service is None:
            self._entries.clear()
            self._bytes = 0
            return
        kept = [e for e in self._entries if not (_service(e) == service and method in (None, _method(e)))]
        self._entries.clear()
        self._entries.extend(kept)
        self._bytes = sum(_size(e) for e in kept)

    # -- reading -----------------------------------------------------------------------------------------

    @property
    def last_id(self) -> int:
        """The id of the newest entry ever recorded (0 before the first), cleared or not."""
        return self._last_id

    def select(
        self,
        service: str | None = None,
        method: str | None = None,
        since_id: int | None = None,
        client: str | None = None,
    ) -> list[dict[str, Any] | _Raw]:
        """The entries :meth:`entries` would give, not yet rendered (cheap: no JSON is made)."""
        raw = list(self._entries)
        if since_id is not None and raw:
            skip = since_id - _id(raw[0]) + 1
            raw = raw[max(0, skip) :] if skip < len(raw) else []
        if service is not None:
            raw = [e for e in raw if match_service((_service(e),), service)]
        if method is not None:
            raw = [e for e in raw if _method(e) == method]
        if client is not None:
            raw = [e for e in raw if _from(e, client)]
        return raw

    def entries(
        self,
        service: str | None = None,
        method: str | None = None,
        since_id: int | None = None,
        client: str | None = None,
    ) -> list[dict[str, Any]]:
        """Entries, oldest first; ``service`` names a service (see :func:`match_service`); ``since_id`` keeps newer
        ones; ``client`` keeps calls from that client IP (or ``ip:port``)."""
        return render(self.select(service, method, since_id, client))

    async def read(
        self,
        service: str | None = None,
        method: str | None = None,
        since_id: int | None = None,
        client: str | None = None,
        wait: float = 0.0,
    ) -> tuple[list[bytes], int]:
        """:meth:`entries` for the event loop, each entry encoded as JSON, and the newest id among them (0: none).

        Waits up to ``wait`` s for a first entry (like :meth:`wait`). Entries are rendered and encoded on a thread,
        one at a time, so a read of thousands of entries neither holds up the calls this loop serves nor keeps
        millions of objects alive for the garbage collector to walk."""
        if wait > 0 and not self.select(service, method, since_id, client):
            await self.wait(since_id or 0, wait, service, method, client)
        selected = self.select(service, method, since_id, client)
        newest = _id(selected[-1]) if selected else 0
        return await asyncio.to_thread(encode, selected), newest

    async def settle(self) -> int:
        """Turn the entries recorded under older definitions into their JSON form (on a thread) and drop the
        objects they held: otherwise every reload's catalog, classes and values stay alive for as long as one
        call made under them is in the journal. The number of entries settled."""
        current = self.catalog
        old = [
            e for e in self._entries if isinstance(e, _Raw) and e.cached is None and e.catalog is not current
        ]
        if not old:
            return 0
        rendered = await asyncio.to_thread(lambda: [e.render() for e in old])
        for e, json_form in zip(old, rendered, strict=True):
            e.cached = json_form
            e.args = e.reply = e.call = e.method_def = e.catalog = None
        return len(old)

    async def wait(
        self,
        since_id: int,
        timeout: float | None = None,
        service: str | None = None,
        method: str | None = None,
        client: str | None = None,
    ) -> list[dict[str, Any]]:
        """Entries newer than ``since_id`` (filtered), waiting up to ``timeout`` s for one; [] on timeout."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            found = self.select(service, method, since_id, client)
            if found:
                return render(found)
            since_id = max(since_id, self._last_id)
            changed = self._changed
            self._waiting += 1
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                return []
            try:
                await asyncio.wait_for(changed.wait(), remaining)
            except TimeoutError:
                return []

    async def follow(
        self, since_id: int | None = None, service: str | None = None, method: str | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """An endless async iterator of new entries (``journal -f``); starts after ``since_id`` (default: now)."""
        last = self._last_id if since_id is None else since_id
        while True:
            for entry in await self.wait(last, None, service, method):
                last = entry["id"]
                yield entry


@dataclass(slots=True)
class _Raw:
    """A call as recorded: the objects themselves, turned into JSON only when someone reads the journal."""

    id: int
    time: float
    service: str
    method: str
    args: Any
    reply: Reply | None
    source: str
    rule: str | None
    latency_ms: float
    call: Call | None
    method_def: Method | None
    catalog: Catalog | None
    size: int = 0  # encoded bytes of the arguments kept (0 once summarised or settled)
    cached: dict[str, Any] | None = None  # the JSON form, once settled (the objects above are then dropped)
    extra: dict[str, Any] | None = None  # what a proxied call adds (proxied, violations, recorded)

    def render(self) -> dict[str, Any]:
        call, args, reply, method_def, catalog = (
            self.call,
            self.args,
            self.reply,
            self.method_def,
            self.catalog,
        )
        cached = self.cached  # read after the objects: settle() sets it before it drops them
        if cached is not None:
            return cached
        assert call is not None
        assert method_def is not None
        assert reply is not None
        out = {
            "id": self.id,
            "time": round(self.time, 6),
            "service": self.service,
            "method": self.method,
            "args": _args_json(catalog, method_def, args),
            "reply": reply_json(catalog, method_def, reply),
            "source": self.source,
            "rule": self.rule,
            "latency_ms": round(self.latency_ms, 3),
            "client": f"{call.peer[0]}:{call.peer[1]}" if call.peer else None,
            "protocol": call.protocol,
            "framing": call.framing,
            "seqid": call.seqid,
            "context": call.context.describe() if call.context is not None else None,
            "tls": call.tls,
        }
        if self.extra:
            out.update(self.extra)
        return out


def render(selected: list[dict[str, Any] | _Raw]) -> list[dict[str, Any]]:
    """Entries in their JSON form (thread-safe: reads recorded objects only)."""
    return [e if isinstance(e, dict) else e.render() for e in selected]


def encode(selected: list[dict[str, Any] | _Raw]) -> list[bytes]:
    """Entries as JSON, each encoded as soon as rendered (thread-safe like :func:`render`)."""
    dumps = json.JSONEncoder(default=str).encode
    return [dumps(e if isinstance(e, dict) else e.render()).encode() for e in selected]


@dataclass(frozen=True, slots=True)
class _Omitted:
    """Arguments too large to keep: their encoded size only."""

    size: int


def _size(e: dict[str, Any] | _Raw) -> int:
    return e.size if isinstance(e, _Raw) else 0


def _id(e: dict[str, Any] | _Raw) -> int:
    return int(e["id"]) if isinstance(e, dict) else e.id


def _service(e: dict[str, Any] | _Raw) -> str:
    return str(e["service"]) if isinstance(e, dict) else e.service


def _method(e: dict[str, Any] | _Raw) -> str:
    return str(e["method"]) if isinstance(e, dict) else e.method


def _from(e: dict[str, Any] | _Raw, client: str) -> bool:
    """Whether the call came from ``client``: an IP (any port) or an exact ``ip:port``."""
    if isinstance(e, dict):
        seen = str(e.get("client") or "")
    elif e.call is None:  # settled: its JSON form says
        seen = str((e.cached or {}).get("client") or "")
    else:
        peer = e.call.peer
        seen = f"{peer[0]}:{peer[1]}" if peer else ""
    return seen == client or seen.startswith(client + ":")


def _args_json(catalog: Catalog | None, method: Method, args: Any) -> dict[str, Any]:
    if isinstance(args, _Omitted):
        return {
            "_omitted": f"{args.size:,} bytes of arguments, not kept (the journal keeps up to {ARGS_KEPT:,})"
        }
    return fields_to_json(method.args, args, lambda t, value: value_json(catalog, t, value))


def reply_json(catalog: Catalog | None, method: Method, reply: Reply) -> dict[str, Any]:
    """A reply in JSON form, for the journal and the admin API."""
    if isinstance(reply, Success):
        if method.returns.kind is Kind.VOID:
            return {"kind": "success", "value": None}
        return {"kind": "success", "value": value_json(catalog, method.returns, reply.value)}
    if isinstance(reply, Raise):
        f = next((t for t in method.throws if t.name == reply.field_name), None)
        value = value_json(catalog, f.type, reply.exc) if f is not None else repr(reply.exc)
        return {
            "kind": "exception",
            "field": reply.field_name,
            "type": type(reply.exc).__name__,
            "value": value,
        }
    if isinstance(reply, AppError):
        name = APP_ERROR_NAMES.get(reply.type, str(reply.type))
        return {"kind": "app_error", "type": name, "message": reply.message}
    if isinstance(reply, Fault):
        return {"kind": "fault", "fault": reply.kind, "seconds": reply.seconds}
    assert isinstance(reply, NoReply)
    return {"kind": "oneway"}


def value_json(catalog: Catalog | None, t: Any, value: Any) -> Any:
    if catalog is None:
        return repr(value)
    try:
        return _safe(to_json(catalog, t, value))
    except Exception:  # a value that does not fit its type must not break the call it journals
        logger.debug("cannot render %r as %s", value, t, exc_info=True)
        return repr(value)


def _safe(obj: Any) -> Any:
    """``obj`` with anything JSON cannot hold (a stray object in a wrong-typed value) turned into its repr."""
    if obj is None or isinstance(obj, str | int | float | bool):
        return obj
    if isinstance(obj, dict):
        return {str(k): _safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_safe(v) for v in obj]
    return repr(obj)
