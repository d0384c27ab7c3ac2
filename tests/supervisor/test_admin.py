"""The admin API of a real `serve`: services, stubs added at run time, the journal, state, and errors."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import thriftpy2
from thriftpy2.rpc import make_client
from thriftpy2.thrift import TApplicationException

from tests.serve_support import REPO, Served, serve
from thriftbox.control.client import HttpError, request_json


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    import shutil

    root = tmp_path_factory.mktemp("admin")
    shutil.copytree(REPO / "idl", root / "idl")
    shutil.copytree(REPO / "mocks", root / "mocks")
    with serve(root, ["idl"], "--mocks", "mocks") as s:
        yield s


_opened: list[Any] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _opened:
        _opened.pop().close()


def opened(client: Any) -> Any:
    _opened.append(client)
    return client


def admin(served: Served, path: str, method: str = "GET", body: Any = None) -> Any:
    state = served.state()
    return request_json(state["admin_url"] + path, method, body, token=state["admin_token"])


def users_client(served: Served, idl: Path | None = None) -> Any:
    module = thriftpy2.load(
        str(idl or served.root / "idl" / "users.thrift"),
        module_name="admin_drifted_thrift" if idl else "admin_users_thrift",  # thriftpy2 caches by name
        include_dirs=[str(served.root / "idl")],
    )
    return opened(make_client(module.Users, "127.0.0.1", served.port("users.Users"), timeout=5000))


def test_the_admin_api_listens_on_loopback_and_lists_services(served: Served) -> None:
    url = served.state()["admin_url"]
    assert url.startswith("http://127.0.0.1:")
    services = admin(served, "/services")
    by_id = {s["service"]: s for s in services}
    assert by_id["users.Users"]["port"] == served.port("users.Users")
    assert "getUser" in by_id["users.Users"]["methods"]
    assert "ping" in by_id["users.Users"]["methods"]  # inherited from common.BaseService


def test_a_stub_added_at_run_time_answers_and_is_journaled_then_removed(served: Served) -> None:
    admin(served, "/journal", "DELETE")
    added = admin(
        served,
        "/stubs",
        "POST",
        {"service": "Users", "method": "getUser", "rule": {"when": {"id": 777}, "return": {"handle": "ada"}}},
    )
    client = users_client(served)
    assert client.getUser(777).handle == "ada"
    assert client.getUser(778).handle != "ada"  # the rule matches only its id
    entries = admin(served, "/journal?service=Users&method=getUser")["entries"]
    assert [(e["args"], e["source"]) for e in entries] == [({"id": 777}, "stub"), ({"id": 778}, "generated")]
    assert entries[0]["rule"] == added["id"]
    assert entries[0]["reply"]["value"]["handle"] == "ada"
    assert entries[0]["protocol"] == "binary"
    rules = admin(served, "/stubs?service=Users")
    assert any(r["id"] == added["id"] and r["source"] == "api" for r in rules)
    admin(served, f"/stubs/{added['id']}", "DELETE")
    assert client.getUser(777).handle != "ada"
    with pytest.raises(HttpError) as gone:
        admin(served, f"/stubs/{added['id']}", "DELETE")
    assert gone.value.status == 404


def test_a_stub_that_does_not_fit_the_idl_is_refused_with_a_hint(served: Served) -> None:
    with pytest.raises(HttpError) as refused:
        admin(
            served,
            "/stubs",
            "POST",
            {"service": "Users", "method": "getUser", "rule": {"return": {"handel": "x"}}},
        )
    assert refused.value.status == 400
    assert "handel" in refused.value.message
    assert "handle" in refused.value.message  # did you mean


def test_long_polling_the_journal_sees_the_next_call(served: Served) -> None:
    cursor = admin(served, "/journal?service=Catalog")["cursor"]
    found: list[Any] = []

    def wait() -> None:
        found.extend(admin(served, f"/journal?service=Catalog&since={cursor}&wait=10")["entries"])

    waiter = threading.Thread(target=wait)
    waiter.start()
    time.sleep(0.3)
    module = thriftpy2.load(
        str(served.root / "idl" / "catalog.thrift"),
        module_name="admin_catalog_thrift",
        include_dirs=[str(served.root / "idl")],
    )
    opened(
        make_client(module.Catalog, "127.0.0.1", served.port("catalog.Catalog"), timeout=5000)
    ).getVersion()
    waiter.join(15)
    assert [e["method"] for e in found] == ["getVersion"]


def test_a_call_that_breaks_the_idl_is_journaled_as_refused(served: Served, tmp_path: Path) -> None:
    drifted = tmp_path / "users.thrift"
    drifted.write_text(
        (served.root / "idl" / "users.thrift")
        .read_text()
        .replace("User getUser(1: common.UserId id)", "User getUser(1: string id)")
    )
    client = users_client(served, drifted)
    with pytest.raises(TApplicationException) as refused:
        client.getUser("42")
    assert "'id'" in refused.value.message
    last = admin(served, "/journal?service=Users&method=getUser")["entries"][-1]
    assert last["source"] == "wire"
    assert last["reply"]["kind"] == "app_error"
    assert last["reply"]["type"] == "PROTOCOL_ERROR"
    assert "'id'" in last["reply"]["message"]


def test_state_reset_forgets_what_a_stateful_mock_stored(served: Served) -> None:
    client = users_client(served)
    users_module = thriftpy2.load(
        str(served.root / "idl" / "users.thrift"),
        module_name="admin_users_thrift",
        include_dirs=[str(served.root / "idl")],
    )
    new = users_module.NewUser(handle="stateful_ada", email="ada@example.com", firstName="Ada", lastName="L")
    created = client.createUser(new)
    assert client.getUser(created.id).handle == "stateful_ada"  # mocks/users.yaml makes Users stateful
    admin(served, "/state/reset", "POST", {"service": "Users"})
    assert client.getUser(created.id).handle != "stateful_ada"


def test_unknown_routes_and_services_are_clear_errors(served: Served) -> None:
    with pytest.raises(HttpError) as missing:
        admin(served, "/nope")
    assert missing.value.status == 404
    with pytest.raises(HttpError) as unknown:
        admin(served, "/journal?service=Nope")
    assert unknown.value.status == 404
    assert "users.Users" in unknown.value.message  # says what is served
    assert json.loads(json.dumps(admin(served, "/stubs")))  # JSON all the way


def test_the_journal_names_stub_files_relative_to_the_project(served: Served) -> None:
    users_client(served).getUser(42)  # mocks/users.yaml has a rule for id 42
    last = admin(served, "/journal?service=Users&method=getUser")["entries"][-1]
    assert last["source"] == "stub"
    path, _, line = last["rule"].rpartition(":")
    assert path == "mocks/users.yaml"
    assert "id: 42" in (served.root / path).read_text().splitlines()[int(line) - 1]
