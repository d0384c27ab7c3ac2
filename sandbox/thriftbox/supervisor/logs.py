"""``thriftbox logs``: the log of the mock serving a service, or of a real service, whichever runtime runs it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from thriftbox.errors import ConfigError
from thriftbox.idl.model import match_service
from thriftbox.project.state import find_serving
from thriftbox.runtime.wait import tail


def service_logs(root: Path, service: str, *, follow: bool = False) -> Iterator[str]:
    layout, state = find_serving(root)
    if state is None:
        raise ConfigError(
            "no `thriftbox serve` runs in this folder", hint="start one with: thriftbox serve idl/"
        )
    ids = [m.service for m in state.mocks]
    matches = match_service(ids, service)
    if len(matches) != 1:
        what = "several" if matches else "no"
        raise ConfigError(f"{what} served services match {service!r}", hint="served: " + ", ".join(ids))
    real = any(m.kind == "real" and m.service == matches[0] for m in state.mocks)
    if state.runtime == "docker":
        from thriftbox.runtime.docker.sdk import container_logs

        return container_logs(state.project.name, matches[0], follow=follow)
    return tail(layout.real_log(matches[0]) if real else layout.host_log, follow=follow)
