"""Stable ports follow the first port asked for: ``--port 6700`` after a run from 6600 renumbers from 6700 (it
was silently ignored), and a service that cannot have the next port says why."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from tests.serve_support import free_base_port
from thriftbox.project.layout import Layout
from thriftbox.project.ports import assign_ports

IDS = ["a.A", "b.B", "c.C"]


def test_a_new_first_port_renumbers_and_the_same_one_keeps_every_port(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    first, second = free_base_port(), free_base_port()
    assert assign_ports(layout, IDS, first) == {sid: first + i for i, sid in enumerate(IDS)}
    assert assign_ports(layout, IDS, second) == {sid: second + i for i, sid in enumerate(IDS)}
    assert assign_ports(layout, [*IDS, "d.D"], second)["d.D"] == second + 3
    assert assign_ports(layout, IDS, second) == {sid: second + i for i, sid in enumerate(IDS)}  # stable
    assert json.loads(layout.ports_file.read_text())["a.A"] == second


def test_a_port_in_use_is_skipped_and_said(tmp_path: Path) -> None:
    base = free_base_port()
    lines: list[str] = []
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", base))
        holder.listen()
        ports = assign_ports(Layout(tmp_path), IDS, base, report=lines.append)
    assert ports["a.A"] == base + 1
    assert lines == [f"port {base} is in use on 127.0.0.1: a.A serves on {base + 1} instead"]
