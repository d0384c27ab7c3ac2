"""serve --proxy against a real provider (Apache's Python thrift, generated code), called by Apache clients."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.proxy.support import SID, apache, client, journal, project, provider
from tests.serve_support import cli_env, serve, thriftbox_cmd


@pytest.mark.parametrize(
    ("protocol", "framing", "mux"),
    [("binary", "buffered", None), ("compact", "framed", None), ("binary", "framed", "People")],
)
def test_forward_returns_exactly_what_the_provider_answers(
    tmp_path: Path, protocol: str, framing: str, mux: str | None
) -> None:
    gen = apache(tmp_path)
    root = project(tmp_path / "p")
    with (
        provider(tmp_path) as backend,
        serve(root, ["idl"], "--proxy", f"{SID}=127.0.0.1:{backend}") as served,
    ):
        mock = served.port(SID)
        with client(gen, backend) as direct, client(gen, mock, protocol, framing, mux) as proxied:
            for pid in (3, 5, 12, 40):
                assert proxied.getPerson(pid) == direct.getPerson(pid)
            assert proxied.getPerson(5).name == "person-5"
            assert proxied.add(40, 2) == direct.add(40, 2) == 42
            assert proxied.greet("ana", 3) == direct.greet("ana", 3)
            for pid in (7, -1):
                with pytest.raises(gen.ttypes.NotFound) as got:
                    proxied.getPerson(pid)
                with pytest.raises(gen.ttypes.NotFound) as expected:
                    direct.getPerson(pid)
                assert got.value == expected.value
                assert got.value.message == f"no person {pid}"
        entries = [e for e in journal(served) if e["method"] == "getPerson"]
    assert entries
    assert all(e["source"] == "proxy" for e in entries)
    assert entries[0]["proxied"]["backend"] == f"127.0.0.1:{backend}"
    assert entries[0]["proxied"]["latency_ms"] > 5  # the provider takes 10 ms or more
    assert entries[0]["violations"] == []


def test_a_required_field_the_backend_leaves_out_is_passed_through_and_named(tmp_path: Path) -> None:
    gen = apache(tmp_path)
    root = project(tmp_path / "p")
    with (
        provider(tmp_path) as backend,
        serve(root, ["idl"], "--proxy", f"{SID}=127.0.0.1:{backend}") as served,
    ):
        with client(gen, served.port(SID)) as proxied:
            person = proxied.broken(9)
            assert (person.id, person.name) == (9, None)  # the client gets the answer as the backend gave it
            assert proxied.getPerson(2).name == "person-2"
        broken = [e for e in journal(served) if e["method"] == "broken"]
        assert len(broken) == 1
        assert any("broken.success.name" in v for v in broken[0]["violations"]), broken[0]["violations"]
        listed = subprocess.run(
            thriftbox_cmd("journal", "--violations"),
            cwd=root,
            env=cli_env(),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    assert "people.People.broken" in listed
    assert "broken.success.name" in listed
    assert "getPerson" not in listed  # only calls that break the IDL


def test_fallback_asks_the_stub_rules_first_then_the_backend(tmp_path: Path) -> None:
    gen = apache(tmp_path)
    root = project(tmp_path / "p")
    (root / "mocks" / "people.yaml").write_text(
        "service: People\nmethods:\n  getPerson:\n    - when: {id: 3}\n      return: {id: 3, name: from-the-stub}\n"
    )
    with (
        provider(tmp_path) as backend,
        serve(
            root,
            ["idl"],
            "--mocks",
            "mocks",
            "--proxy",
            f"{SID}=127.0.0.1:{backend}",
            "--proxy-mode",
            "fallback",
        ) as served,
    ):
        with client(gen, served.port(SID), "compact", "framed") as proxied:
            assert proxied.getPerson(3).name == "from-the-stub"
            assert proxied.getPerson(4).name == "person-4"
            assert proxied.add(1, 2) == 3
        sources = {(e["method"], e["args"].get("id")): e["source"] for e in journal(served)}
    assert sources[("getPerson", 3)] == "stub"
    assert sources[("getPerson", 4)] == "proxy"


def test_a_proxying_serve_runs_its_mocks_where_the_backend_is_reachable(tmp_path: Path) -> None:
    gen = apache(tmp_path)
    root = project(tmp_path / "p")
    with (
        provider(tmp_path) as backend,
        serve(root, ["idl"], "--runtime", "auto", "--proxy", f"{SID}=127.0.0.1:{backend}") as served,
        client(gen, served.port(SID)) as proxied,
    ):
        # a container would see its own loopback, not this machine's: auto picks the process runtime
        assert "runtime: process (proxying: backends are reached from here)" in served.output()
        assert proxied.getPerson(8).name == "person-8"
