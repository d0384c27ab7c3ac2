"""Issue 14: the dashboard when the mocks run in containers: the page, the call form and the live journal."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import docker
import pytest

from tests.dashboard.support import IDL, PARIS_RULE, STUBS, owned, read_events, request
from tests.docker_support import leftovers, mock_image
from tests.serve_support import serve
from thriftbox.project.layout import project_name

pytestmark = [pytest.mark.docker]


def test_the_dashboard_shows_and_calls_mocks_in_containers(tmp_path: Path) -> None:
    image = mock_image()  # skips (or fails under THRIFTBOX_REQUIRE_DOCKER=1) without an engine
    (tmp_path / "idl").mkdir()
    (tmp_path / "idl" / "inventory.thrift").write_text(IDL)
    (tmp_path / "mocks").mkdir()
    (tmp_path / "mocks" / "warehouse.yaml").write_text(STUBS)
    engine: Any = docker.from_env()
    label = f"thriftbox.project={project_name(tmp_path)}"
    try:
        args = ("--mocks", "mocks", "--runtime", "docker", "--base-image", image.base)
        with serve(tmp_path, ["idl"], *args, timeout=180) as served:
            assert served.state()["runtime"] == "docker"
            page = request(served, "GET", "/")[2].decode()
            for sid in ("inventory.Warehouse", "inventory.Shipping", "inventory.Billing"):
                assert f'data-service="{sid}"' in page
            assert page.count("<dd>docker</dd>") == 3

            cursor = json.loads(request(served, "GET", "/journal")[2])["cursor"]
            stream = read_events(served, cursor, time.monotonic() + 10)
            body = {"service": "Warehouse", "method": "stock", "args": {"sku": "A-1", "site": "paris"}}
            status, _, answer = request(served, "POST", "/dashboard/call", body, owned(served))
            assert status == 200
            assert json.loads(answer) == {"kind": "success", "value": 9}
            seen = next(data for event, data in stream if event == "journal" and data)
            assert [(e["method"], e["rule"]) for e in seen] == [("stock", PARIS_RULE)]
            served.interrupt()
        assert leftovers(engine, label) == []
    finally:
        engine.close()
