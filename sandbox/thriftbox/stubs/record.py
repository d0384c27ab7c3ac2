"""Recording a real backend's answers as ordinary stub files (``serve --proxy ... --record``).

A :class:`Recorder` collects forwarded calls (arguments and answer in the JSON form the journal uses) and writes
one file per service, ``mocks/recorded/<service id>.yaml``::

    service: users.Users
    methods:
      getUser:
        - when: {id: 42}
          return: {id: 42, name: Grace}
          latency_ms: {p50: 12.5, p90: 30.1}
        - when: {id: 7}
          throw: {NotFound: {message: no user 7}}
          latency_ms: {p50: 12.5, p90: 30.1}
      nextId:
        - sequence: [{return: 1}, {return: 2}, {return: 3}]
          repeat: last
          latency_ms: 4.2

- Identical calls (same arguments) are recorded once. When the backend answered them alike, the rule has that
  answer; when it answered differently (a counter, a clock, a cursor), the rule is a ``sequence`` of its
  answers in the order given, the last one repeated (``repeat: last``; answers the same as the one before at the
  end are one step). A sequence keeps the first :data:`MAX_STEPS` - 1 answers and the latest.
- Every rule of a method carries the method's latency distribution, ``{p50, p90}`` of the observed latencies
  (a log-normal through both, as stub files express latency); one observation gives a fixed latency.
- Fields whose names look secret (``password``, ``token``, ``secret``, ``apiKey``: :data:`DEFAULT_REDACT`, matched
  case-insensitively as parts of the name; ``serve --redact`` or ``redact = [...]`` in
  thriftbox.toml choose others) are left out of ``when`` (any value matches) and answered as
  ``"<redacted>"`` in ``return`` strings (other types are left out, so they are generated).
- Files are written atomically (a temporary file renamed over the old one), only when something changed, so the
  reload the write causes reads a whole file and writes nothing back.
"""

from __future__ import annotations

import math
import os
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DEFAULT_REDACT = ("password", "token", "secret", "apiKey", "api_key")  # as thriftbox.client.target's
REDACTED = "<redacted>"


MAX_STEPS = 100  # answers a recorded call keeps when the backend answered it differently


@dataclass
class _Call:
    args: dict[str, Any]
    answers: list[
        dict[str, Any]
    ]  # in the order the backend gave them: the first MAX_STEPS - 1, and the latest

    def add(self, reply: dict[str, Any]) -> None:
        last = self.answers[-1]
        if reply == last:
            reply = last  # one object for a repeated answer
        if len(self.answers) < MAX_STEPS:
            self.answers.append(reply)
        else:
            self.answers[-1] = reply

    def steps(self) -> list[dict[str, Any]]:
        """The answers to replay: repeats of the last one at the end are one step (``repeat: last``)."""
        steps = list(self.answers)
        while len(steps) > 1 and steps[-1] == steps[-2]:
            steps.pop()
        return steps


@dataclass
class _Method:
    calls: dict[str, _Call] = field(default_factory=dict)  # args key -> what the backend answered
    latencies: list[float] = field(default_factory=list)


class Recorder:
    """Collects forwarded calls per service and writes them under ``folder`` (thread-safe)."""

    def __init__(
        self, folder: Path, redact: tuple[str, ...] = DEFAULT_REDACT, max_latencies: int = 10_000
    ) -> None:
        self.folder = folder
        self.redact = tuple(word.lower() for word in redact)
        self.max_latencies = max_latencies
        self._services: dict[str, dict[str, _Method]] = {}
        self._dirty: set[str] = set()
        self._lock = threading.Lock()
        self.calls = 0

    def add(
        self, service_id: str, method: str, args: dict[str, Any], reply: dict[str, Any], latency_ms: float
    ) -> None:
        """One answered call: ``args`` and ``reply`` as the journal renders them."""
        args = self._scrub(args, for_when=True)
        key = yaml.safe_dump(args, sort_keys=True)
        with self._lock:
            m = self._services.setdefault(service_id, {}).setdefault(method, _Method())
            call = m.calls.pop(
                key, None
            )  # moves to the end: the order of the rules is the order of last calls
            if call is None:
                call = _Call(args, [reply])
            else:
                call.add(reply)
            m.calls[key] = call
            m.latencies.append(latency_ms)
            del m.latencies[: -self.max_latencies]
            self._dirty.add(service_id)
            self.calls += 1

    def path(self, service_id: str) -> Path:
        return self.folder / f"{service_id}.yaml"

    def flush(self) -> list[Path]:
        """Write the services that changed since the last flush; the paths written."""
        with self._lock:
            docs = {sid: self._document(sid) for sid in sorted(self._dirty)}
            self._dirty.clear()
        written = []
        for sid, doc in docs.items():
            path = self.path(sid)
            _write_atomic(path, _HEADER + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=120))
            written.append(path)
        return written

    def summary(self) -> dict[str, int]:
        """``method -> distinct calls recorded``, over every service (``service.method`` keys)."""
        with self._lock:
            return {
                f"{sid}.{name}": len(m.calls) for sid, ms in self._services.items() for name, m in ms.items()
            }

    def _document(self, service_id: str) -> dict[str, Any]:
        methods: dict[str, Any] = {}
        for name, m in self._services[service_id].items():
            latency = fit_latency(m.latencies)
            rules = []
            for call in m.calls.values():
                rule: dict[str, Any] = {"when": call.args} if call.args else {}
                steps = call.steps()
                if len(steps) == 1:
                    rule.update(self._answer(steps[0]))
                else:
                    rule["sequence"] = [self._answer(step) for step in steps]
                    rule["repeat"] = "last"
                if latency is not None:
                    rule["latency_ms"] = latency
                rules.append(rule)
            # calls with arguments first: a rule without `when` matches everything, so it goes last
            methods[name] = sorted(rules, key=lambda r: "when" not in r)
        return {"service": service_id, "methods": methods}

    def _answer(self, reply: dict[str, Any]) -> dict[str, Any]:
        if reply.get("kind") == "exception":
            return {"throw": {str(reply["type"]): self._scrub(reply.get("value") or {}, for_when=False)}}
        value = reply.get("value")
        return {"return": self._scrub(value, for_when=False)}

    def _secret(self, name: str) -> bool:
        low = name.lower()
        return any(word in low for word in self.redact)

    def _scrub(self, value: Any, *, for_when: bool) -> Any:
        """``value`` with secret-looking fields redacted (see the module's docstring)."""
        if isinstance(value, dict):
            out = {}
            for k, v in value.items():
                if isinstance(k, str) and self._secret(k):
                    if not for_when and isinstance(v, str):
                        out[k] = REDACTED
                    continue
                out[k] = self._scrub(v, for_when=for_when)
            return out
        if isinstance(value, list):
            return [self._scrub(v, for_when=for_when) for v in value]
        if isinstance(value, str) and "{{" in value:
            return value.replace("{{", "{ {")  # not a template when replayed
        return value


_HEADER = (
    "# Recorded by `thriftbox serve --record` from the real backend; edit freely (see docs/recording.md).\n"
)


def fit_latency(samples: list[float]) -> float | dict[str, float] | None:
    """A stub ``latency_ms`` for the observed ``samples``: ``{p50, p90}`` (fixed for a single one)."""
    if not samples:
        return None
    if len(samples) == 1:
        return round(samples[0], 3)
    p50, p90 = quantile(samples, 0.5), quantile(samples, 0.9)
    p50 = max(p50, 0.001)
    return {"p50": round(p50, 3), "p90": round(max(p90, p50), 3)}


def quantile(samples: list[float], q: float) -> float:
    """The ``q`` quantile of ``samples`` (linear between the closest ranks)."""
    ordered = sorted(samples)
    pos = (len(ordered) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
