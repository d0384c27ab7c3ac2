"""The runtimes by name, and ``auto``: the one place that imports a runtime's implementation.

Kept apart from :mod:`thriftbox.runtime.base` so that the implementations, which import the base, are not
imported back by it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from thriftbox.errors import ConfigError
from thriftbox.runtime.base import RUNTIME_NAMES, Project, Runtime

if TYPE_CHECKING:
    from thriftbox.runtime.real import RealRunner


def get_runtime(name: str, *, base_image: str | None = None) -> Runtime:
    """The runtime called ``name`` ("process" or "docker"); see :func:`choose_runtime` for "auto".

    ``base_image`` is the Docker runtime's base (None: ``$THRIFTBOX_BASE_IMAGE``, else python:3.11-slim)."""
    if name == "process":
        from thriftbox.runtime.process import ProcessRuntime

        return ProcessRuntime()
    if name == "docker":
        from thriftbox.runtime.docker.sdk import DockerRuntime

        return DockerRuntime(base_image=base_image)
    raise ConfigError(f"unknown runtime {name!r}", hint="choose one of: " + ", ".join(RUNTIME_NAMES))


def choose_runtime(name: str, base_image: str | None = None) -> tuple[Runtime, str]:
    """The runtime to use and why: ``auto`` picks Docker when an engine answers, else local processes."""
    if name != "auto":
        return get_runtime(name, base_image=base_image), f"--runtime {name}"
    from thriftbox.runtime.docker.sdk import engine_available

    ok, reason = engine_available()
    if ok:
        return get_runtime("docker", base_image=base_image), f"a Docker engine answers at {reason}"
    return get_runtime("process"), f"no Docker engine reachable ({reason})"


def real_runner(runtime: Runtime, project: Project) -> RealRunner:
    """The runner for real services beside ``runtime``'s mocks."""
    if runtime.name == "docker":
        from thriftbox.runtime.docker.containers import ContainerRuntime
        from thriftbox.runtime.docker.real import ContainerReal

        assert isinstance(runtime, ContainerRuntime)
        return ContainerReal(runtime, project)
    from thriftbox.runtime.real import ProcessReal

    return ProcessReal(project)
