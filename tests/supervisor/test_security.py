"""Issue 16 (1, 2): a control plane only its owner can drive.

The hosts' control endpoints stay on loopback and want serve's per-run token, even under ``--host 0.0.0.0``; the
admin API refuses what a web page could forge (foreign ``Host``, foreign ``Origin``, ``text/plain`` bodies, no
token), while the CLI and the pytest plugin (their own tests) keep working with the token of ``state.json``.
"""

from __future__ import annotations

import http.client
import json
import re
import shutil
import socket
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.serve_support import REPO, Served, serve
from thriftbox.client.catalog import ThriftClient
from thriftbox.control.auth import HOST_TOKEN_ENV, TOKEN_HEADER
from thriftbox.idl import load_catalog
from thriftbox.idl.classes import Classes


def raw(
    host: str, port: int, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    """One request with exactly these headers (http.client adds Host unless given)."""
    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        conn.request(method, path, body=body or None, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, json.loads(data) if data else None
    finally:
        conn.close()


def listening_addresses(port: int) -> set[str]:
    """The local addresses something listens on at ``port`` (IPv4, from /proc/net/tcp): read, not probed, so no
    packet goes to any address but loopback."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        hex_ip, hex_port = local.split(":")
        if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
            found.add(socket.inet_ntoa(bytes.fromhex(hex_ip)[::-1]))
    return found


def host_process(served: Served) -> tuple[int, list[str], dict[str, str]]:
    """The mock host's pid, command line and environment."""
    (detail,) = {row["detail"] for row in served.state()["mocks"]}
    match = re.match(r"pid (\d+)", detail)
    assert match, detail
    pid = int(match[1])
    argv = [a.decode() for a in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")]
    env = dict(
        item.decode().partition("=")[::2]
        for item in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        if item
    )
    return pid, argv, env


def users_call(served: Served) -> Any:
    catalog = load_catalog([served.root / "idl"])
    client = ThriftClient(Classes(catalog), "users.Users", "127.0.0.1", served.port("users.Users"))
    try:
        return client.call("getUser", 7)
    finally:
        client.close()


@pytest.fixture(scope="module")
def exposed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("exposed")
    shutil.copytree(REPO / "idl", root / "idl")
    with serve(root, ["idl"], "--host", "0.0.0.0", "--admin-host", "0.0.0.0") as s:
        yield s


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("admin-guard")
    shutil.copytree(REPO / "idl", root / "idl")
    with serve(root, ["idl"]) as s:
        yield s


# -- 1. the hosts' control endpoints ----------------------------------------------------------------------------


def test_serve_warns_when_it_listens_beyond_loopback(exposed: Served) -> None:
    out = exposed.wait_for_output("warning: --host 0.0.0.0")
    assert "warning: --admin-host 0.0.0.0" in out


def test_the_host_control_endpoint_stays_on_loopback_under_host_0_0_0_0(exposed: Served) -> None:
    _, argv, _ = host_process(exposed)
    port = int(argv[argv.index("--control-port") + 1])
    assert raw("127.0.0.1", port, "GET", "/health")[0] == 200
    assert listening_addresses(port) == {"127.0.0.1"}  # not 0.0.0.0, whatever --host says
    mock_port = exposed.port("users.Users")
    assert listening_addresses(mock_port) == {"0.0.0.0"}  # the mocks do listen where --host says


def test_the_host_control_endpoint_refuses_requests_without_the_token(exposed: Served) -> None:
    _, argv, env = host_process(exposed)
    port = int(argv[argv.index("--control-port") + 1])
    token = env.get(HOST_TOKEN_ENV, "")
    rule = json.dumps(
        {"service": "Users", "method": "getUser", "rule": {"return": {"handle": "forged"}}}
    ).encode()
    json_type = {"Content-Type": "application/json"}
    for headers in (json_type, {**json_type, TOKEN_HEADER: "guess"}):
        assert raw("127.0.0.1", port, "POST", "/stubs", rule, headers)[0] == 403
        assert raw("127.0.0.1", port, "POST", "/shutdown", b"", headers)[0] == 403
        assert raw("127.0.0.1", port, "GET", "/journal", b"", headers)[0] == 403
    assert users_call(exposed).handle != "forged"  # nothing changed, and the host still serves
    assert exposed.proc.poll() is None
    assert token
    assert not any(token in a for a in argv)  # in the environment, not on the command line `ps` shows
    status, rules = raw("127.0.0.1", port, "GET", "/stubs", b"", {TOKEN_HEADER: token})
    assert status == 200
    assert rules == [] or all(r.get("return", {}).get("handle") != "forged" for r in rules)


def test_a_non_loopback_admin_api_wants_the_token_for_reads_too(exposed: Served) -> None:
    state = exposed.state()
    port = int(state["admin_url"].rsplit(":", 1)[1])
    assert raw("127.0.0.1", port, "GET", "/services")[0] == 403
    status, services = raw("127.0.0.1", port, "GET", "/services", b"", {TOKEN_HEADER: state["admin_token"]})
    assert status == 200
    assert services


# -- 2. the admin API --------------------------------------------------------------------------------------------


def admin_port(served: Served) -> int:
    return int(served.state()["admin_url"].rsplit(":", 1)[1])


def test_the_state_file_is_its_owners_only(served: Served) -> None:
    folder = served.root / ".thriftbox"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "state.json").stat().st_mode) == 0o600
    assert len(served.state()["admin_token"]) >= 32


def test_a_cross_origin_text_plain_post_is_refused_and_changes_nothing(served: Served) -> None:
    port = admin_port(served)
    rule = {"service": "Users", "method": "getUser", "rule": {"return": {"handle": "forged"}}}
    page = {"Origin": "http://attacker.example", "Content-Type": "text/plain"}
    assert raw("127.0.0.1", port, "POST", "/stubs", json.dumps(rule).encode(), page)[0] == 403
    assert raw("127.0.0.1", port, "POST", "/state/reset", b"{}", page)[0] == 403
    token = served.state()["admin_token"]
    # a text/plain body is refused even with the token: only application/json is parsed
    status, _ = raw(
        "127.0.0.1",
        port,
        "POST",
        "/stubs",
        json.dumps(rule).encode(),
        {
            "Content-Type": "text/plain",
            TOKEN_HEADER: token,
        },
    )
    assert status == 415
    # a foreign Origin is refused even with the token and a JSON body
    status, _ = raw(
        "127.0.0.1",
        port,
        "POST",
        "/stubs",
        json.dumps(rule).encode(),
        {
            "Origin": "http://attacker.example",
            "Content-Type": "application/json",
            TOKEN_HEADER: token,
        },
    )
    assert status == 403
    status, rules = raw("127.0.0.1", port, "GET", "/stubs")
    assert status == 200
    assert all(r.get("return", {}).get("handle") != "forged" for r in rules)
    assert users_call(served).handle != "forged"


def test_a_state_changing_request_without_the_token_is_refused(served: Served) -> None:
    port = admin_port(served)
    json_type = {"Content-Type": "application/json"}
    assert raw("127.0.0.1", port, "DELETE", "/journal", b"", json_type)[0] == 403
    assert raw("127.0.0.1", port, "POST", "/state/reset", b"{}", json_type)[0] == 403
    token = served.state()["admin_token"]
    assert raw("127.0.0.1", port, "POST", "/state/reset", b"{}", {**json_type, TOKEN_HEADER: token})[0] == 200
    own = {**json_type, TOKEN_HEADER: token, "Origin": f"http://127.0.0.1:{port}"}
    assert raw("127.0.0.1", port, "POST", "/state/reset", b"{}", own)[0] == 200


def test_a_foreign_host_header_is_refused(served: Served) -> None:
    port = admin_port(served)
    assert raw("127.0.0.1", port, "GET", "/journal", b"", {"Host": "attacker.example"})[0] == 403
    assert raw("127.0.0.1", port, "GET", "/journal", b"", {"Host": f"attacker.example:{port}"})[0] == 403
    for own in (f"127.0.0.1:{port}", f"localhost:{port}"):
        assert raw("127.0.0.1", port, "GET", "/journal", b"", {"Host": own})[0] == 200
