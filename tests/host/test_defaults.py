"""Defaults that two layers must agree on but cannot share one name, since wire imports nothing above it."""

from __future__ import annotations

from pathlib import Path

from thriftbox import wire
from thriftbox.host.config import HostConfig
from thriftbox.runtime.base import Project
from thriftbox.supervisor.config import ServeConfig


def test_a_mock_host_takes_the_wire_servers_frame_limit_by_default() -> None:
    host = HostConfig(idl_dirs=(), services={})
    project = Project(root=Path(), name="x", idl_dirs=())
    assert host.max_frame == project.max_frame == ServeConfig().max_frame == wire.DEFAULT_MAX_FRAME
