"""The proxy's parts on their own: backend addresses, the connection pool's bound, the recorder."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml

from tests.proxy.support import HERE, SID, provider
from thriftbox.client.target import ProxyTarget
from thriftbox.errors import ConfigError
from thriftbox.host.proxy import Backend
from thriftbox.idl import load_catalog
from thriftbox.idl.classes import Classes
from thriftbox.stubs.record import MAX_STEPS, Recorder, fit_latency
from thriftbox.wire.app import Success


def test_a_target_is_host_port_with_optional_protocol_framing_and_timeout() -> None:
    assert ProxyTarget.parse("staging:9090") == ProxyTarget("staging", 9090, "binary", "buffered", 5000)
    full = ProxyTarget("10.0.0.1", 9, "compact", "framed", 250)
    assert ProxyTarget.parse(full.spec()) == full
    for bad in ("staging", "staging:http", "staging:0", "h:1,json", "h:1,binary,zlib", "h:1,binary,framed,x"):
        with pytest.raises(ConfigError):
            ProxyTarget.parse(bad)


def test_a_target_may_speak_theader_and_tls_with_its_files() -> None:
    tls = ProxyTarget(
        "api.example", 443, "compact", "header", 900, ca="/c/ca.pem", cert="/c/me.pem", key="/c/k.pem"
    )
    assert tls.tls  # a CA or a client certificate means TLS
    assert tls.spec() == "api.example:443,compact,header,900,tls,ca=/c/ca.pem,cert=/c/me.pem,key=/c/k.pem"
    assert ProxyTarget.parse(tls.spec()) == tls
    assert ProxyTarget.parse("h:1,binary,buffered,5000,tls") == ProxyTarget("h", 1, tls=True)
    assert tls.moved({"/c/ca.pem": "/in/ca.pem"}).ca == "/in/ca.pem"
    for bad in ("h:1,tls,binary", "h:1,binary,buffered,5,tls,pin=x", "h:1,ca="):
        with pytest.raises(ConfigError):
            ProxyTarget.parse(bad)
    with pytest.raises(ConfigError, match="without its certificate"):
        ProxyTarget("h", 1, key="/k.pem")


def test_the_pool_never_holds_more_connections_than_the_mock_has_clients(tmp_path: Path) -> None:
    catalog = load_catalog([HERE])
    classes = Classes(catalog)
    method = catalog.services[SID].methods["slow"]
    args_cls, result_cls = classes.args(SID, "slow"), classes.result(SID, "slow")

    async def run(port: int, clients: int) -> tuple[int, list[object]]:
        backend = Backend(ProxyTarget("127.0.0.1", port), lambda: clients)
        most = 0

        async def watch() -> None:
            nonlocal most
            while True:
                most = max(most, backend.open_connections)
                await asyncio.sleep(0.005)

        watcher = asyncio.create_task(watch())
        done = await asyncio.gather(*(backend.forward(method, args_cls(ms=50), result_cls) for _ in range(8)))
        watcher.cancel()
        backend.close()
        return most, [d.reply for d in done]

    with provider(tmp_path) as port:
        for clients in (1, 3):
            most, replies = asyncio.run(run(port, clients))
            assert replies == [Success("slept 50")] * 8
            assert 1 <= most <= clients


def test_the_recorder_keeps_every_answer_in_order_redacts_secrets_and_fits_latency(tmp_path: Path) -> None:
    rec = Recorder(tmp_path / "recorded", redact=("password", "token", "pin"))
    ok = {"kind": "success", "value": {"id": 1, "name": "a", "authToken": "s3cr3t", "pinCode": 12}}
    newer = {"kind": "success", "value": {"id": 1, "name": "b"}}
    rec.add(SID, "getPerson", {"id": 1}, ok, 10.0)
    rec.add(SID, "getPerson", {"id": 1}, newer, 20.0)
    rec.add(SID, "getPerson", {"id": 2, "password": "x"}, ok, 30.0)
    failed = {"kind": "exception", "field": "notFound", "type": "NotFound", "value": {"message": "{{ no }}"}}
    rec.add(SID, "getPerson", {"id": 7}, failed, 40.0)
    [path] = rec.flush()
    assert rec.flush() == []  # nothing changed since: nothing written (no reload)
    assert [p.name for p in path.parent.iterdir()] == [f"{SID}.yaml"]  # no temporary file left
    rules = yaml.safe_load(path.read_text())["methods"]["getPerson"]
    assert [r["when"] for r in rules] == [{"id": 1}, {"id": 2}, {"id": 7}]  # the password is no condition
    # the backend answered the same call differently: replayed in the order it answered, the last one repeated
    first = {"id": 1, "name": "a", "authToken": "<redacted>"}
    assert rules[0]["sequence"] == [{"return": first}, {"return": newer["value"]}]
    assert rules[0]["repeat"] == "last"
    assert rules[1]["return"] == {"id": 1, "name": "a", "authToken": "<redacted>"}  # pinCode: left out
    assert rules[2]["throw"] == {"NotFound": {"message": "{ { no }}"}}  # no template when replayed
    assert rules[0]["latency_ms"] == fit_latency([10.0, 20.0, 30.0, 40.0]) == {"p50": 25.0, "p90": 37.0}
    assert fit_latency([12.5]) == 12.5
    assert fit_latency([]) is None


def test_a_call_answered_alike_is_one_answer_and_a_long_sequence_keeps_its_latest_last(
    tmp_path: Path,
) -> None:
    rec = Recorder(tmp_path / "recorded")
    one = {"kind": "success", "value": 5}
    for _ in range(3):
        rec.add(SID, "add", {"a": 2, "b": 3}, one, 1.0)
    for n in [1, 1, 2, 3, 3, 3]:  # a counter that stood still twice: the trailing repeats are one step
        rec.add(SID, "add", {"a": 0, "b": 0}, {"kind": "success", "value": n}, 1.0)
    for n in range(MAX_STEPS + 50):
        rec.add(SID, "add", {"a": 9, "b": 9}, {"kind": "success", "value": n}, 1.0)
    [path] = rec.flush()
    rules = {r["when"]["a"]: r for r in yaml.safe_load(path.read_text())["methods"]["add"]}
    assert rules[2]["return"] == 5
    assert "sequence" not in rules[2]
    assert rules[0]["sequence"] == [{"return": 1}, {"return": 1}, {"return": 2}, {"return": 3}]
    long = rules[9]["sequence"]
    assert len(long) == MAX_STEPS
    assert long[: MAX_STEPS - 1] == [{"return": n} for n in range(MAX_STEPS - 1)]  # the first answers
    assert long[-1] == {"return": MAX_STEPS + 49}  # and the latest, repeated from then on


def test_tls_files_given_on_the_command_line_are_found_from_where_serve_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from thriftbox.supervisor.config import ServeConfig

    (tmp_path / "ca.pem").write_text("x")
    monkeypatch.chdir(tmp_path)
    config = ServeConfig(paths=[tmp_path], proxies={SID: "h:1,binary,buffered,100,ca=ca.pem"})
    assert config.proxy_targets[SID].ca == str(tmp_path / "ca.pem")  # absolute: hosts run from elsewhere
    with pytest.raises(ConfigError, match=r"proxy_ca \S+/nope.pem: no such file"):
        _ = ServeConfig(paths=[tmp_path], proxies={SID: "h:1,binary,buffered,100,ca=nope.pem"}).proxy_targets


def test_a_name_with_two_addresses_that_both_refuse_is_a_refused_connection() -> None:
    from thriftbox.host.proxy import reason

    # asyncio.open_connection("localhost", ...) where localhost is ::1 and 127.0.0.1: one OSError for both
    both = OSError(
        "Multiple exceptions: [Errno 111] Connect call failed ('::1', 9, 0, 0), "
        "[Errno 111] Connect call failed ('127.0.0.1', 9)"
    )
    assert reason(both, ProxyTarget("localhost", 9)) == "connection refused"
