"""The journal says which client and trace made each call: Finagle's TTwitter ids and THeader info headers,
through ``thriftbox serve`` and ``thriftbox journal`` as a user runs them."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import thriftpy2
from thriftpy2.thrift import TClient

from tests.serve_support import cli_env, serve, thriftbox_cmd
from tests.wire.test_ttwitter import FinagleClient
from thriftbox.client.transport import open_transport


def users_module(root: Path) -> Any:
    return thriftpy2.load(
        str(root / "idl/users.thrift"), include_dirs=[str(root / "idl")], module_name="u_thrift"
    )


def every_users_call(u: Any) -> dict[str, Any]:
    """Arguments for every method of users.Users (its own and BaseService's)."""
    return {
        "getUser": u.Users.getUser_args(id=7),
        "getUsers": u.Users.getUsers_args(ids=[1, 2]),
        "listUsers": u.Users.listUsers_args(query=u.UserQuery(nameContains="a")),
        "createUser": u.Users.createUser_args(
            user=u.NewUser(email="a@b.example", firstName="A", lastName="B")
        ),
        "deleteUser": u.Users.deleteUser_args(id=5),
        "ping": u.Users.ping_args(),
        "getVersion": u.Users.getVersion_args(),
    }


def journal(root: Path, *args: str) -> str:
    done = subprocess.run(
        thriftbox_cmd("journal", *args), cwd=root, env=cli_env(), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_journal_shows_finagle_trace_and_client_ids_and_header_info(demo_project: Path, corpus: Path) -> None:
    tracing = thriftpy2.load(
        str(corpus / "twitter__finagle/finagle-thrift/src/main/thrift/tracing.thrift"),
        module_name="tracing_thrift",
    )
    u = users_module(demo_project)
    calls = every_users_call(u)
    assert set(calls) == set(u.Users.thrift_services)
    with serve(demo_project, ["idl"], "--mocks", "mocks") as served:
        port = served.port("users.Users")
        client = FinagleClient(port, tracing)
        try:
            assert client.upgrade()
            for n, (name, args) in enumerate(calls.items(), start=1):
                head = tracing.RequestHeader(
                    trace_id=0x5AF7183FB1A20000 + n,
                    span_id=n,
                    sampled=True,
                    client_id=tracing.ClientId(name="checkout-web"),
                )
                got = client.call(name, args, getattr(u.Users, f"{name}_result")(), n, head)
                assert not isinstance(got, tuple), got  # an answer, not a TApplicationException
        finally:
            client.close()

        opened = open_transport("127.0.0.1", port, "compact", "header", 5, headers={"request-id": "r-77"})
        try:
            assert TClient(u.Users, opened.protocol).getUser(id=42).handle == "grace"
        finally:
            opened.close()

        entries = [json.loads(line) for line in journal(demo_project, "Users", "--json").splitlines()]
        traced = entries[: len(calls)]
        assert [e["method"] for e in traced] == list(calls)
        for n, e in enumerate(traced, start=1):
            assert (e["protocol"], e["framing"]) == ("binary", "ttwitter")
            assert e["context"]["transport"] == "ttwitter"
            assert e["context"]["client_id"] == "checkout-web"
            assert e["context"]["trace_id"] == f"{0x5AF7183FB1A20000 + n:016x}"
            assert e["context"]["span_id"] == f"{n:016x}"
        last = entries[-1]
        assert (last["method"], last["protocol"], last["framing"]) == ("getUser", "compact", "header")
        assert last["context"] == {"transport": "header", "headers": {"request-id": "r-77"}}

        lines = journal(demo_project, "Users").splitlines()
        assert "client checkout-web, trace 5af7183fb1a20001" in lines[0]
        assert "request-id=r-77" in lines[-1]


def test_rejected_calls_keep_their_context(demo_project: Path, corpus: Path) -> None:
    """A call the wire refuses (an argument of the wrong wire type) is journaled with its trace ids too."""
    tracing = thriftpy2.load(
        str(corpus / "twitter__finagle/finagle-thrift/src/main/thrift/tracing.thrift"),
        module_name="tracing_thrift",
    )
    u = users_module(demo_project)
    with serve(demo_project, ["idl"]) as served:
        client = FinagleClient(served.port("users.Users"), tracing, framed=False)
        try:
            assert client.upgrade()
            head = tracing.RequestHeader(trace_id=99, span_id=1, client_id=tracing.ClientId(name="batch"))
            bad = u.Users.listUsers_args(query=u.UserQuery())  # field 1 a struct where getUser wants an i64
            kind, _ = client.call("getUser", bad, u.Users.getUser_result(), 1, head)
            assert kind == "exception"
        finally:
            client.close()
        (entry,) = [json.loads(line) for line in journal(demo_project, "Users", "--json").splitlines()]
        assert entry["reply"]["kind"] == "app_error"
        assert entry["source"] == "wire"
        assert (entry["framing"], entry["context"]["client_id"]) == ("ttwitter", "batch")
        assert entry["context"]["trace_id"] == f"{99:016x}"
