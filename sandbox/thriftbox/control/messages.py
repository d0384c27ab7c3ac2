"""The messages of the control contract, typed: what ``serve``, a mock host and its workers send each other.

Each message converts to and from the JSON the routes in :mod:`thriftbox.control.paths` carry, so the body of a
request is built and read in one place. Reading is lenient where the old hand-written readers were (a missing
list is empty), so hosts and ``serve`` of neighbouring versions still understand each other.

This module imports nothing of the host or the runtimes: both sides depend on it, not it on them.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

JournalEntry = dict[str, Any]
"""One answered call, as the journal of a host records it (its shape: :mod:`thriftbox.host.journal`)."""

MAX_WAIT = 60.0  # the longest a journal request may wait for a new call, in seconds


class HttpError(Exception):
    """A non-2xx answer: ``status`` and the ``message`` of its ``{"error": message}`` body.

    A route handler raises it to answer with that status; :func:`thriftbox.control.client.request_json` raises
    it when the other end answers so.
    """

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def body(self) -> dict[str, str]:
        return {"error": self.message}

    @classmethod
    def from_answer(cls, status: int, raw: bytes) -> HttpError:
        """The error an answer of ``status`` with body ``raw`` means (a body that is not JSON: its text)."""
        try:
            message = json.loads(raw).get("error", raw.decode(errors="replace"))
        except (ValueError, AttributeError):
            message = raw.decode(errors="replace")
        return cls(status, str(message))


# -- reload ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReloadRequest:
    """``POST /reload``: re-read the files for ``reloaded``, start serving ``started`` (service id -> port), stop
    serving ``stopped``. A host applies it all or not at all."""

    reloaded: tuple[str, ...] = ()
    started: dict[str, int] = field(default_factory=dict)
    stopped: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "reloaded": list(self.reloaded),
            "started": [{"service_id": sid, "port": port} for sid, port in self.started.items()],
            "stopped": list(self.stopped),
        }

    @classmethod
    def from_json(cls, body: Any) -> ReloadRequest:
        body = body if isinstance(body, dict) else {}
        return cls(
            reloaded=tuple(str(sid) for sid in body.get("reloaded", [])),
            started={str(s["service_id"]): int(s["port"]) for s in body.get("started", [])},
            stopped=tuple(str(sid) for sid in body.get("stopped", [])),
        )


@dataclass(frozen=True)
class ReloadResult:
    """The answer to a reload: the services whose definitions were swapped or started, those stopped, and how
    long it took."""

    reloaded: tuple[str, ...] = ()
    stopped: tuple[str, ...] = ()
    ms: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {"reloaded": list(self.reloaded), "stopped": list(self.stopped), "ms": self.ms}

    @classmethod
    def from_json(cls, body: Any) -> ReloadResult:
        if not isinstance(body, dict):
            return cls()
        return cls(
            tuple(map(str, body.get("reloaded") or [])),
            tuple(map(str, body.get("stopped") or [])),
            float(body.get("ms") or 0.0),
        )


# -- journal -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    """Where a reader of the journal got to: for each mock host, one position per process of that host.

    Its text, opaque to users (docs/admin-api.md), is the hosts' parts joined by ``,`` and each part's positions
    joined by ``.``: ``"12"`` (one host, one process), ``"12.9"`` (one host with a worker), ``"4,12.9"`` (two
    hosts). A host answers with its own part; ``serve``'s admin API joins its hosts' parts. Reading is lenient:
    a part that is not digits and dots counts as ``0``, and positions not given are ``0``.
    """

    hosts: tuple[tuple[int, ...], ...] = ()

    @classmethod
    def decode(cls, text: str | None) -> Cursor:
        parts = [p.strip() for p in (text or "").split(",")]
        return cls(tuple(_positions(p) for p in parts if p))

    def encode(self) -> str:
        return ",".join(".".join(map(str, positions)) for positions in self.hosts)

    @classmethod
    def of_host(cls, *positions: int) -> Cursor:
        """The cursor of one host (one position per process)."""
        return cls((tuple(positions),))

    def host(self, index: int) -> Cursor:
        """The part of host ``index`` (``0`` when not given): what to send that host as ``since``."""
        return Cursor.of_host(*self.positions(index))

    def positions(self, index: int = 0, count: int = 1) -> list[int]:
        """The positions of host ``index``, at least ``count`` of them (``0`` for those not given)."""
        given = list(self.hosts[index]) if index < len(self.hosts) else []
        return given + [0] * (count - len(given))

    def __str__(self) -> str:
        return self.encode()


def _positions(part: str) -> tuple[int, ...]:
    if not part.replace(".", "").isdecimal():
        return (0,)
    return tuple(int(x) for x in part.split(".") if x)


@dataclass(frozen=True)
class JournalQuery:
    """``GET /journal``: the calls of ``service`` (an id or a name), ``method``, from ``client`` (an IP), newer
    than the cursor ``since``; when there are none yet, wait up to ``wait`` seconds for one."""

    service: str | None = None
    method: str | None = None
    client: str | None = None
    since: str = ""
    wait: float = 0.0
    explain: bool = (
        False  # calls no stub rule answered get ``explain``: their nearest rules (:class:`NearMiss`)
    )

    def filters(self) -> dict[str, str]:
        """The query parameters that select entries (not ``since`` nor ``wait``)."""
        chosen = {"service": self.service, "method": self.method, "client": self.client}
        return {k: v for k, v in chosen.items() if v}

    def to_params(self) -> dict[str, str]:
        params = self.filters()
        if self.since:
            params["since"] = self.since
        if self.wait:
            params["wait"] = f"{self.wait:g}"
        if self.explain:
            params["explain"] = "1"
        return params

    @classmethod
    def from_params(cls, query: dict[str, str]) -> JournalQuery:
        return cls(
            service=query.get("service") or None,
            method=query.get("method") or None,
            client=query.get("client") or None,
            since=query.get("since", ""),
            wait=_wait(query.get("wait")),
            explain=query.get("explain", "") not in ("", "0", "false"),
        )


def _wait(raw: str | None) -> float:
    """``?wait=`` as seconds in ``[0, MAX_WAIT]``; anything else (``abc``, ``nan``, ``inf``, ``-1``) is a 400."""
    try:
        wait = float(raw or 0)
    except ValueError:
        wait = math.nan
    if not math.isfinite(wait) or wait < 0:
        raise HttpError(400, f"wait must be a number of seconds from 0 to {MAX_WAIT:g}, not {raw!r}")
    return min(wait, MAX_WAIT)


@dataclass(frozen=True)
class JournalPage:
    """The answer to a journal request: entries oldest first, and the ``cursor`` to pass as the next ``since``
    (``last_id``: the newest id of a host without workers, given for information)."""

    entries: list[JournalEntry]
    cursor: str
    last_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"entries": self.entries}
        if self.last_id is not None:
            out["last_id"] = self.last_id
        out["cursor"] = self.cursor
        return out

    @staticmethod
    def encode(entries: list[bytes], cursor: str, last_id: int | None = None) -> bytes:
        """The JSON body of :meth:`to_json` from entries already encoded one by one (a large journal is rendered
        and encoded on a thread, entry by entry, so few objects are alive at once)."""
        tail = {"last_id": last_id, "cursor": cursor} if last_id is not None else {"cursor": cursor}
        return b'{"entries": [' + b", ".join(entries) + b"], " + json.dumps(tail).encode()[1:]

    @classmethod
    def from_json(cls, body: Any) -> JournalPage:
        last_id = body.get("last_id")
        return cls(list(body["entries"]), str(body.get("cursor") or ""), last_id)


# -- why no match ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NearMiss:
    """One stub rule that did not answer a call, and why: the first field of its ``when`` that differed
    (``field`` ``when.id``, ``wanted`` the rule's spec, ``got`` the call's value), or another ``reason`` (a rule
    scoped to another client, a probability draw). ``matched`` of ``of`` fields of its ``when`` did match; the
    nearest rules come first. The journal carries them as ``explain`` on calls no rule answered."""

    rule: str
    field: str | None = None
    wanted: Any = None
    got: Any = None
    matched: int = 0
    of: int = 0
    reason: str = ""

    def text(self) -> str:
        """``when.id: wanted 42, got 43`` (JSON values), or the reason."""
        if self.field is None:
            return self.reason
        return f"{self.field}: wanted {json.dumps(self.wanted)}, got {json.dumps(self.got)}"

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "field": self.field,
            "wanted": self.wanted,
            "got": self.got,
            "matched": self.matched,
            "of": self.of,
            "text": self.text(),
        }

    @classmethod
    def from_json(cls, body: Any) -> NearMiss:
        body = body if isinstance(body, dict) else {}
        return cls(
            str(body.get("rule") or ""),
            body.get("field"),
            body.get("wanted"),
            body.get("got"),
            int(body.get("matched") or 0),
            int(body.get("of") or 0),
            str(body.get("text") or "") if body.get("field") is None else "",
        )
