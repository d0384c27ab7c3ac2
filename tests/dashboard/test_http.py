"""Issue 14: the dashboard over HTTP, from a real `serve` (the browser tests drive the page itself).

The page at the admin API's root lists every service with its methods' IDL signatures and carries the admin
token; the event stream delivers a call made by a real client; the call form makes a real call; the nearest
rules of an unmatched call come through the admin API and `thriftbox journal --explain`; a foreign page can
drive none of the state-changing routes.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import thriftpy2
from thriftpy2.rpc import make_client

from tests.dashboard.support import owned, read_events, request
from tests.serve_support import REPO, Served, cli_env, serve, thriftbox_cmd


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("dash")
    shutil.copytree(REPO / "idl", root / "idl")
    shutil.copytree(REPO / "mocks", root / "mocks")
    with serve(root, ["idl"], "--mocks", "mocks") as s:
        yield s


def users(served: Served) -> Any:
    module = thriftpy2.load(
        str(served.root / "idl" / "users.thrift"),
        module_name="dash_users_thrift",
        include_dirs=[str(served.root / "idl")],
    )
    return make_client(module.Users, "127.0.0.1", served.port("users.Users"), timeout=5000)


def test_serve_prints_the_dashboard_and_its_page_lists_every_service_with_signatures(served: Served) -> None:
    admin_url = served.state()["admin_url"]
    assert f"dashboard: {admin_url}/" in served.output()
    status, kind, body = request(served, "GET", "/")
    page = body.decode()
    assert status == 200
    assert kind.startswith("text/html")
    for mock in served.state()["mocks"]:
        assert f'data-service="{mock["service"]}"' in page
        assert f"127.0.0.1:{mock['port']}" in page
    assert "User getUser(1: common.UserId id) throws (1: NotFound notFound)" in page
    assert f'name="thriftbox-token" content="{served.state()["admin_token"]}"' in page
    for name in ("dashboard.js", "dashboard.css"):
        status, kind, body = request(served, "GET", f"/dashboard/static/{name}")
        assert status == 200
        assert body
    assert request(served, "GET", "/dashboard/static/../../state.json")[0] == 404


def test_the_page_refuses_a_rebound_host_name(served: Served) -> None:
    status, _, body = request(served, "GET", "/", headers={"Host": "attacker.example:80"})
    assert status == 403
    assert served.state()["admin_token"].encode() not in body


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/dashboard/call", {"service": "Users", "method": "getUser", "args": {"id": 1}}),
        ("POST", "/stubs", {"service": "Users", "method": "getUser", "rule": {"return": {"handle": "evil"}}}),
        ("DELETE", "/stubs/api:1", None),
        ("POST", "/state/reset", {}),
        ("DELETE", "/journal", None),
    ],
)
def test_a_cross_origin_request_without_token_changes_nothing(
    served: Served, method: str, path: str, body: Any
) -> None:
    foreign = {"Origin": "http://evil.example", "Content-Type": "application/json"}
    assert request(served, method, path, body, foreign)[0] == 403
    assert request(served, method, path, body, {"Content-Type": "application/json"})[0] == 403  # no token
    plain = {"Origin": "http://evil.example", "Content-Type": "text/plain"}
    assert request(served, method, path, body, plain)[0] == 403
    status, _, rules = request(served, "GET", "/stubs")
    assert status == 200
    assert "evil" not in rules.decode()


def test_the_call_form_makes_a_real_call_with_generated_arguments(served: Served) -> None:
    status, _, body = request(served, "GET", "/dashboard/example?service=users.Users&method=getUser")
    example = json.loads(body)
    assert status == 200
    assert isinstance(example["id"], int)
    status, _, body = request(
        served, "POST", "/dashboard/call", {"service": "users.Users", "method": "getUser", "args": {"id": 42}},
        owned(served),
    )  # fmt: skip
    answer = json.loads(body)
    assert status == 200
    assert answer["kind"] == "success"
    assert answer["value"]["handle"] == "grace"
    status, _, body = request(
        served, "POST", "/dashboard/call", {"service": "users.Users", "method": "getUser", "args": {"idd": 1}},
        owned(served),
    )  # fmt: skip
    assert status == 400
    assert b"idd" in body


def test_a_call_arrives_on_the_event_stream_with_its_rule_and_nearest_rules(served: Served) -> None:
    _status, _, body = request(served, "GET", "/journal")
    cursor = json.loads(body)["cursor"]
    client = users(served)
    try:
        t0 = time.monotonic()
        seen: list[dict[str, Any]] = []
        stream = read_events(served, cursor, t0 + 5)
        event, mocks = next(stream)  # first, the mocks' states (then again whenever one changes)
        assert event == "status"
        assert {(m["service"], m["state"]) for m in mocks} == {
            (m["service"], "ready") for m in served.state()["mocks"]
        }
        client.getUser(42)
        client.getUser(43)
        for event, data in stream:
            if event == "journal":
                seen += [e for e in data if e["method"] == "getUser"]
            if len(seen) >= 2:
                break
        elapsed = time.monotonic() - t0
    finally:
        client.close()
    assert len(seen) == 2, seen
    assert elapsed < 2.0
    stubbed, unmatched = seen
    assert stubbed["source"] == "stub"
    assert stubbed["rule"] == "mocks/users.yaml:12"
    nearest = unmatched["explain"][0]
    assert nearest["rule"] == "mocks/users.yaml:12"
    assert nearest["text"] == "when.id: wanted 42, got 43"


def test_the_admin_api_and_the_cli_explain_a_call_no_rule_answered(served: Served) -> None:
    client = users(served)
    try:
        client.getUser(4711)
    finally:
        client.close()
    _status, _, body = request(served, "GET", "/journal?service=Users&method=getUser&explain=1")
    entry = [e for e in json.loads(body)["entries"] if e["args"] == {"id": 4711}][-1]
    assert next(m["text"] for m in entry["explain"]) == "when.id: wanted 42, got 4711"
    plain = json.loads(request(served, "GET", "/journal?service=Users&method=getUser")[2])
    assert all("explain" not in e for e in plain["entries"])
    run = subprocess.run(
        thriftbox_cmd("journal", "Users.getUser", "--explain"),
        cwd=served.root, env=cli_env(), capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "no match: mocks/users.yaml:12: when.id: wanted 42, got 4711" in run.stdout


def test_no_dashboard_turns_the_pages_off(tmp_path: Path) -> None:
    shutil.copytree(REPO / "idl", tmp_path / "idl")
    with serve(tmp_path, ["idl"], "--no-dashboard") as s:
        assert "dashboard:" not in s.output()
        assert request(s, "GET", "/")[0] == 404
        assert request(s, "GET", "/services")[0] == 200


def test_with_workers_the_calls_of_every_process_are_explained(tmp_path: Path) -> None:
    shutil.copytree(REPO / "idl", tmp_path / "idl")
    shutil.copytree(REPO / "mocks", tmp_path / "mocks")
    with serve(tmp_path, ["idl"], "--mocks", "mocks", "--workers", "2") as s:
        for user in range(500, 506):  # connections go to the host and its worker in turn
            body = {"service": "Users", "method": "getUser", "args": {"id": user}}
            assert request(s, "POST", "/dashboard/call", body, owned(s))[0] == 200
        entries = json.loads(request(s, "GET", "/journal?service=Users&method=getUser&explain=1")[2])[
            "entries"
        ]
    texts = sorted(e["explain"][0]["text"] for e in entries)
    assert texts == [f"when.id: wanted 42, got {user}" for user in range(500, 506)]
