"""The control contract's messages: what goes over the wire stays what the hand-written bodies were."""

from __future__ import annotations

import json
from typing import Any

import pytest

from thriftbox.control import paths
from thriftbox.control.client import (
    AdminClient,
    AdminRefused,
    AdminUnreachable,
    HostClient,
    HostRefused,
    HostUnreachable,
    HttpError,
    StubRefused,
)
from thriftbox.control.messages import Cursor, JournalPage, JournalQuery, ReloadRequest, ReloadResult
from thriftbox.errors import CallError, MockStartError, StubError


def test_a_reload_request_is_the_body_hosts_read() -> None:
    request = ReloadRequest(("a.A",), {"b.B": 9091}, ("c.C",))
    body = request.to_json()
    assert body == {"reloaded": ["a.A"], "started": [{"service_id": "b.B", "port": 9091}], "stopped": ["c.C"]}
    assert ReloadRequest.from_json(json.loads(json.dumps(body))) == request
    assert ReloadRequest.from_json(None) == ReloadRequest()


def test_a_reload_result_reads_what_any_host_answers() -> None:
    result = ReloadResult(("a.A",), (), 12.5)
    assert ReloadResult.from_json(result.to_json()) == result
    assert ReloadResult.from_json({"ok": True}) == ReloadResult()


@pytest.mark.parametrize(
    ("text", "hosts", "encoded"),
    [
        ("", (), ""),
        ("12", ((12,),), "12"),
        ("12.9", ((12, 9),), "12.9"),
        ("4,12.9", ((4,), (12, 9)), "4,12.9"),
        (" 4 , x,3..4,", ((4,), (0,), (3, 4)), "4,0,3.4"),
    ],
)
def test_one_cursor_codec_for_hosts_and_their_processes(
    text: str, hosts: tuple[tuple[int, ...], ...], encoded: str
) -> None:
    cursor = Cursor.decode(text)
    assert cursor.hosts == hosts
    assert cursor.encode() == encoded
    assert Cursor.decode(encoded) == cursor


def test_a_cursor_gives_each_host_its_part() -> None:
    cursor = Cursor.decode("4,12.9")
    assert [cursor.host(i).encode() for i in range(3)] == ["4", "12.9", "0"]
    assert cursor.positions(1, 3) == [12, 9, 0]
    assert Cursor.of_host(3, 0, 5).encode() == "3.0.5"


def test_a_journal_query_round_trips_through_its_parameters() -> None:
    query = JournalQuery(service="Users", method="getUser", client="127.0.0.3", since="4,12.9", wait=30)
    params = query.to_params()
    assert params == {
        "service": "Users",
        "method": "getUser",
        "client": "127.0.0.3",
        "since": "4,12.9",
        "wait": "30",
    }
    assert JournalQuery.from_params(params) == query
    assert JournalQuery.from_params({"wait": "600"}).wait == 60.0
    assert JournalQuery().to_params() == {}


def test_a_journal_page_keeps_the_host_answer_shape() -> None:
    page = JournalPage([{"id": 1}], "1", last_id=1)
    assert list(page.to_json()) == ["entries", "last_id", "cursor"]
    assert "last_id" not in JournalPage([], "0").to_json()
    assert JournalPage.from_json(page.to_json()) == page


def test_paths_fill_in_a_rule_id() -> None:
    assert paths.stub("api:1") == "/stubs/api:1"


def _answering(monkeypatch: pytest.MonkeyPatch, error: Exception) -> list[tuple[Any, ...]]:
    sent: list[tuple[Any, ...]] = []

    def fake(url: str, method: str, body: Any, timeout: float, token: str | None = None) -> Any:
        sent.append((url, method, body, timeout))
        raise error

    monkeypatch.setattr("thriftbox.control.client.request_json", fake)
    return sent


def test_a_host_that_refuses_a_reload_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    sent = _answering(monkeypatch, HttpError(422, "idl/a.thrift:3: bad"))
    with pytest.raises(HostRefused, match=r"^a\.A: idl/a\.thrift:3: bad$") as refused:
        HostClient("http://h:1", label="a.A").reload(ReloadRequest(("a.A",)))
    assert refused.value.status == 422
    assert sent == [("http://h:1/reload", "POST", {"reloaded": ["a.A"], "started": [], "stopped": []}, 30.0)]


def test_a_host_that_does_not_answer_did_not_start(monkeypatch: pytest.MonkeyPatch) -> None:
    _answering(monkeypatch, ConnectionRefusedError(111, "Connection refused"))
    with pytest.raises(HostUnreachable, match="the container did not take the reload") as gone:
        HostClient("http://h:1", name="the container").reload(ReloadRequest())
    assert isinstance(gone.value, MockStartError)


def test_admin_errors_are_call_errors_and_a_refused_stub_a_stub_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _answering(monkeypatch, HttpError(404, "no served service 'Nope'"))
    with pytest.raises(AdminRefused, match="the admin API answered 404: no served service") as refused:
        AdminClient("http://a:1").services()
    assert isinstance(refused.value, CallError)
    assert AdminClient("http://a:1").remove_stub("api:1", missing_ok=True) is None
    with pytest.raises(StubRefused, match=r"refused the stub for Users\.getUser: no served") as stub:
        AdminClient("http://a:1").add_stub({"service": "Users", "method": "getUser", "rule": {}})
    assert isinstance(stub.value, StubError)
    _answering(monkeypatch, ConnectionRefusedError(111, "Connection refused"))
    with pytest.raises(AdminUnreachable, match="does not answer") as gone:
        AdminClient("http://a:1").clear_journal()
    assert gone.value.hint == "is `serve` still running?"
