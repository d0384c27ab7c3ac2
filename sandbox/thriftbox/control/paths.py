"""The routes of the control contract: a mock host's control endpoint and ``serve``'s admin API.

The admin routes (``SERVICES`` to ``STATE_RESET``) are served by both, with the same meaning: the admin API fans
each request out to the hosts concerned (docs/admin-api.yaml). ``HEALTH``, ``RELOAD`` and ``SHUTDOWN`` are a
host's only: ``serve`` and a host's main process use them. Paths are patterns for
:meth:`thriftbox.control.server.ControlServer.route`; :func:`stub` fills in ``{rule_id}``.
"""

from __future__ import annotations

from urllib.parse import urlencode

HEALTH = "/health"
RELOAD = "/reload"
SHUTDOWN = "/shutdown"

SERVICES = "/services"
JOURNAL = "/journal"
STUBS = "/stubs"
STUB = "/stubs/{rule_id}"
STATE_RESET = "/state/reset"


def journal_clear(service: str | None = None, method: str | None = None) -> str:
    """``DELETE`` this to empty the journal: all of it, or one service's (and method's) calls."""
    params = {k: v for k, v in (("service", service), ("method", method)) if v}
    return JOURNAL + (f"?{urlencode(params)}" if params else "")


def stub(rule_id: str) -> str:
    """The path of one run-time stub (``DELETE`` removes it)."""
    return STUB.replace("{rule_id}", rule_id)
