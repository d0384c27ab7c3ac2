"""Who may drive a control endpoint: the per-run secrets and the header that carries them.

``serve`` makes two secrets per run (:func:`new_token`): the *host token*, which it gives its mock hosts in the
environment variable :data:`HOST_TOKEN_ENV` (never on a command line, which ``ps`` shows) and which every request
to a host's control endpoint must carry; and the *admin token*, written to ``.thriftbox/state.json`` (mode 0600),
which state-changing requests to the admin API must carry. Both travel in the :data:`TOKEN_HEADER` header.
See docs/security.md.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import secrets

TOKEN_HEADER = "X-Thriftbox-Token"
HOST_TOKEN_ENV = "THRIFTBOX_CONTROL_TOKEN"


def new_token() -> str:
    """A fresh secret (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def host_token() -> str | None:
    """The host token this process was given (a mock host, or one of its workers); None when none was."""
    return os.environ.get(HOST_TOKEN_ENV) or None


def same_token(given: str | None, expected: str) -> bool:
    """Whether ``given`` is ``expected``, compared in constant time."""
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or ``localhost``) is a loopback address."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
