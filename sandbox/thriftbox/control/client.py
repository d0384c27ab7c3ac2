"""The client side of the control contract: the only place control requests are made and their errors translated.

:class:`HostClient` talks to the control endpoint of one mock host (``serve``'s runtimes, its admin API, a host's
main process talking to its workers); :class:`AdminClient` to the admin API of a ``serve`` (the CLI, the pytest
fixture). Both are blocking: asyncio callers run them in a thread. A request that fails raises a
:class:`ControlError`, a :class:`~thriftbox.errors.ThriftboxError` that says whether the other end refused
(:class:`Refused`, with its status) or did not answer (:class:`Unreachable`).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from thriftbox.control import paths
from thriftbox.control.auth import TOKEN_HEADER, host_token
from thriftbox.control.messages import (
    HttpError,
    JournalPage,
    JournalQuery,
    ReloadRequest,
    ReloadResult,
)
from thriftbox.errors import CallError, MockStartError, StubError, ThriftboxError

__all__ = [
    "AdminClient",
    "AdminRefused",
    "AdminUnreachable",
    "ControlError",
    "HostClient",
    "HostRefused",
    "HostUnreachable",
    "HttpError",
    "Refused",
    "StubRefused",
    "Unreachable",
    "request_json",
]


def request_json(
    url: str, method: str = "GET", body: Any = None, timeout: float = 10.0, *, token: str | None = None
) -> Any:
    """One blocking JSON request (``token`` in the X-Thriftbox-Token header); :class:`HttpError` on a non-2xx
    answer, OSError when there is none."""
    import urllib.error
    import urllib.request

    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if token:
        headers[TOKEN_HEADER] = token
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
    except urllib.error.HTTPError as err:
        raise HttpError.from_answer(err.code, err.read()) from None
    return json.loads(raw) if raw else None


# -- errors --------------------------------------------------------------------------------------------------------


class ControlError(ThriftboxError):
    """A control request to ``url`` failed; ``reason``: what the other end said, or why it could not be reached."""

    def __init__(self, message: str, *, url: str, reason: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.url = url
        self.reason = reason


class Refused(ControlError):
    """The other end answered with an error ``status``."""

    def __init__(self, message: str, *, url: str, status: int, reason: str, hint: str | None = None) -> None:
        super().__init__(message, url=url, reason=reason, hint=hint)
        self.status = status


class Unreachable(ControlError):
    """The other end did not answer (not listening, gone, or too slow)."""


class HostRefused(Refused):
    """A mock host refused a request (a reload of files that do not load, a stub that does not fit, ...)."""


class HostUnreachable(Unreachable, MockStartError):
    """A mock host did not answer."""


class AdminRefused(Refused, CallError):
    """The admin API of ``serve`` refused a request."""


class AdminUnreachable(Unreachable, CallError):
    """The admin API of ``serve`` did not answer."""


class StubRefused(AdminRefused, StubError):
    """The admin API refused a run-time stub (it does not fit the IDL, or names nothing served)."""


# -- clients -------------------------------------------------------------------------------------------------------


class _Client:
    """The admin routes, which a mock host and the admin API serve alike (docs/admin-api.yaml)."""

    def __init__(self, url: str, timeout: float = 10.0, token: str | None = None) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.token = token

    def request(
        self, method: str, path: str, body: Any = None, *, timeout: float | None = None, what: str = ""
    ) -> Any:
        """Send one request (``path`` with its query); the answer's JSON, or a :class:`ControlError`.
        ``what`` names the request in the error (default: ``METHOD path``)."""
        url = self.url + path
        try:
            return request_json(
                url, method, body, timeout=self.timeout if timeout is None else timeout, token=self.token
            )
        except HttpError as err:
            raise self._refused(url, err, what or f"{method} {path}") from None
        except OSError as err:
            raise self._unreachable(url, err, what or f"{method} {path}") from None

    def _refused(self, url: str, err: HttpError, what: str) -> Refused:
        raise NotImplementedError

    def _unreachable(self, url: str, err: OSError, what: str) -> Unreachable:
        raise NotImplementedError

    def services(self) -> list[dict[str, Any]]:
        return list(self.request("GET", paths.SERVICES))

    def journal(self, query: JournalQuery | None = None, *, timeout: float | None = None) -> JournalPage:
        params = (query or JournalQuery()).to_params()
        path = paths.JOURNAL + (f"?{urlencode(params)}" if params else "")
        return JournalPage.from_json(self.request("GET", path, timeout=timeout))

    def clear_journal(
        self, service: str | None = None, method: str | None = None, *, timeout: float | None = None
    ) -> Any:
        return self.request("DELETE", paths.journal_clear(service, method), timeout=timeout)

    def stubs(self, service: str | None = None) -> list[dict[str, Any]]:
        query = f"?{urlencode({'service': service})}" if service else ""
        return list(self.request("GET", paths.STUBS + query))

    def add_stub(self, body: dict[str, Any], *, timeout: float | None = None) -> dict[str, Any]:
        """Add a run-time stub (``{"service", "method", "rule", "peer"?}``); the answer holds its ``id``."""
        return dict(self.request("POST", paths.STUBS, body, timeout=timeout))

    def remove_stub(self, rule_id: str, *, missing_ok: bool = False, timeout: float | None = None) -> Any:
        try:
            return self.request("DELETE", paths.stub(rule_id), timeout=timeout)
        except Refused as err:
            if not (missing_ok and err.status == 404):
                raise
            return None

    def reset_state(self, service: str | None = None, *, timeout: float | None = None) -> Any:
        return self.request(
            "POST", paths.STATE_RESET, {"service": service} if service else {}, timeout=timeout
        )


class HostClient(_Client):
    """The control endpoint of one mock host at ``url``. ``label`` prefixes error messages (e.g. the service
    id); ``name`` is what the host is called in them ("the mock host", "the container"). ``token``: the host
    token (default: the one this process was given, so a host reaches its workers with its own)."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 10.0,
        label: str = "",
        name: str = "the mock host",
        token: str | None = None,
    ) -> None:
        super().__init__(url, timeout, token if token is not None else host_token())
        self.label = f"{label}: " if label else ""
        self.name = name

    def _refused(self, url: str, err: HttpError, what: str) -> Refused:
        return HostRefused(self.label + err.message, url=url, status=err.status, reason=err.message)

    def _unreachable(self, url: str, err: OSError, what: str) -> Unreachable:
        return HostUnreachable(
            f"{self.label}{self.name} did not take {what}: {err}", url=url, reason=str(err)
        )

    def health(self) -> dict[str, Any]:
        return dict(self.request("GET", paths.HEALTH))

    def reload(self, request: ReloadRequest, *, timeout: float = 30.0) -> ReloadResult:
        """Have the host apply ``request``: :class:`HostRefused` when its files do not load (nothing changed)."""
        answer = self.request("POST", paths.RELOAD, request.to_json(), timeout=timeout, what="the reload")
        return ReloadResult.from_json(answer)

    def shutdown(self) -> None:
        self.request("POST", paths.SHUTDOWN)


class AdminClient(_Client):
    """The admin API of the ``serve`` at ``url``; ``token``: its admin token (``state.json``'s ``admin_token``)."""

    def _refused(self, url: str, err: HttpError, what: str) -> Refused:
        message = f"the admin API answered {err.status}: {err.message}"
        return AdminRefused(message, url=url, status=err.status, reason=err.message)

    def _unreachable(self, url: str, err: OSError, what: str) -> Unreachable:
        return AdminUnreachable(
            f"the admin API at {url} does not answer: {err}",
            url=url,
            reason=str(err),
            hint="is `serve` still running?",
        )

    def add_stub(self, body: dict[str, Any], *, timeout: float | None = None) -> dict[str, Any]:
        """Add a run-time stub; :class:`StubRefused` (a StubError) when it does not fit."""
        try:
            return super().add_stub(body, timeout=timeout)
        except AdminRefused as err:
            target = f"{body.get('service')}.{body.get('method') or '*'}"
            raise StubRefused(
                f"thriftbox refused the stub for {target}: {err.reason}",
                url=err.url,
                status=err.status,
                reason=err.reason,
            ) from None
