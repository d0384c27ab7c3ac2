"""What the container runtime needs from a container engine, without naming the Docker SDK.

:class:`thriftbox.runtime.docker.sdk.SdkEngine` implements :class:`Engine` with the Docker SDK (the only module that
imports it). Every method raises :class:`~thriftbox.errors.ThriftboxError`\\ s, never the SDK's exceptions:
``RuntimeUnavailable`` when the engine stops answering, ``PortInUse`` for a published port that is taken,
``MockStartError`` for anything else the engine refuses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from thriftbox.runtime.docker.plan import ContainerPlan, Folder, RealPlan


@dataclass(frozen=True)
class ContainerInfo:
    id: str
    name: str
    state: str  # "running", "exited", "created", "dead", "paused", "restarting"
    exit_code: str = "?"
    labels: dict[str, str] = field(default_factory=dict)


class Engine(Protocol):
    address: str  # as the user knows it: DOCKER_HOST or the default socket

    def close(self) -> None: ...

    # images
    def has_image(self, ref: str) -> bool: ...
    def pull(self, ref: str, progress: Callable[[str], None]) -> None: ...
    def run_python(self, image: str, script: str) -> str:
        """Run ``python3 -c script`` in ``image`` without network; its output."""
        ...

    def build(
        self, context: Path, tag: str, labels: Mapping[str, str], *, offline: bool = True
    ) -> Iterator[Mapping[str, Any]]:
        """Build (with no network when ``offline``); the engine's JSON progress chunks."""
        ...

    def remove_images(self, repository: str, keep: Callable[[str], bool]) -> None: ...

    # networks
    def ensure_network(self, name: str, labels: Mapping[str, str]) -> str: ...
    def remove_network(self, network_id: str) -> None: ...
    def network_gateway(self, network_id: str) -> tuple[str, str]:
        """This machine's address on the network (its gateway) and the network's subnet (CIDR)."""
        ...

    # containers
    def create(self, plan: ContainerPlan, image: str, mount: bool) -> str: ...
    def create_real(self, plan: RealPlan) -> str: ...
    def copy_in(self, container_id: str, folders: Sequence[Folder], replace: bool) -> None: ...
    def start(self, container_id: str) -> None: ...
    def remove(self, container_id: str) -> str | None:
        """Remove however it is; its name, or None when it was gone already."""
        ...

    def find(self, name: str) -> ContainerInfo | None: ...
    def labelled(self, *labels: str) -> list[ContainerInfo]:
        """Containers, running or not, carrying every ``key=value`` label."""
        ...

    def state(self, container_id: str) -> ContainerInfo: ...
    def published_port(self, container_id: str, port: int) -> int | None: ...
    def logs(self, container_id: str, follow: bool) -> Iterator[str]: ...
    def holder_of(self, port: int) -> str | None:
        """``container NAME`` when a running container publishes ``port`` on this engine."""
        ...
