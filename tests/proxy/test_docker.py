"""``serve --runtime docker --proxy ID=127.0.0.1:PORT --record`` as a user runs it: the container reaches a backend
that listens on this machine's loopback only (through serve's relay), Apache clients get the backend's answers,
the recording lands in the user's mocks/recorded owned like the folder, and replay in a container answers the same.
Two container starts in all (each costs seconds)."""

from __future__ import annotations

import os
import re
import signal
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import yaml
from thrift.Thrift import TApplicationException

from tests.docker_support import leftovers, mock_image, wait_until
from tests.proxy.support import SID, apache, client, journal, project, provider
from tests.serve_support import serve
from thriftbox.project.layout import project_name

pytestmark = pytest.mark.docker

OWNER = (4321, 4322)  # not this test's user: the recorded file must get the folder's owner, not root's


def listening(port: int) -> bool:
    """Whether any socket of this machine listens on TCP ``port`` (IPv4 or IPv6)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as fh:
            next(fh)
            for line in fh:
                fields = line.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    return True
    return False


def reloads(text: str) -> int:
    return len(re.findall(r"reloaded", text))


def test_proxy_record_and_replay_in_containers(engine: Any, tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("giving the mocks folder another owner needs root")
    gen = apache(tmp_path)
    root = project(tmp_path / "p")
    os.chown(root / "mocks", *OWNER)
    recorded = root / "mocks" / "recorded" / f"{SID}.yaml"
    label = f"thriftbox.project={project_name(root)}"
    image = ("--runtime", "docker", "--base-image", mock_image().base)
    with ExitStack() as running_provider:
        backend = running_provider.enter_context(provider(tmp_path))
        proxy = ("--proxy", f"{SID}=127.0.0.1:{backend}", "--record")
        with serve(root, ["idl"], "--mocks", "mocks", "--watch", *image, *proxy) as served:
            assert "nothing is recorded" not in served.output()
            args = engine.containers.get(f"thriftbox-{project_name(root)}-people-people").attrs["Args"]
            relay = args[args.index("--proxy") + 1].split(",")[0]
            relay_port = int(relay.split("/")[0].rsplit(":", 1)[1])
            assert relay.endswith(
                f"/127.0.0.1:{backend}"
            )  # the backend as configured travels beside the relay
            assert listening(relay_port)
            answers = {}
            for protocol, framing in (("binary", "buffered"), ("compact", "framed")):
                with client(gen, served.port(SID), protocol, framing) as people:
                    for pid in (1, 2, 3):
                        answers[pid] = people.getPerson(pid)
                        assert answers[pid].name == f"person-{pid}"
                        assert answers[pid].apiToken == f"tok-{pid}"
                    with pytest.raises(gen.ttypes.NotFound) as missing:
                        people.getPerson(7)
                    assert (missing.value.message, missing.value.id) == ("no person 7", 7)
                    assert people.add(2, 40) == 42
            proxied = [e["proxied"] for e in journal(served) if e.get("proxied")]
            assert {p["backend"] for p in proxied} == {f"127.0.0.1:{backend}"}  # not the relay's address
            wait_until(lambda: recorded.exists() and "add" in recorded.read_text(), 10, "the recording")
            time.sleep(2.0)  # the reload the write caused is over
            settled = reloads(served.output())
            time.sleep(3.0)
            assert reloads(served.output()) == settled, "writing the recording must not cause a reload loop"
            assert settled >= 1, served.output()  # the container's write through the mount was seen here
            assert (recorded.stat().st_uid, recorded.stat().st_gid) == OWNER
            assert (recorded.parent.stat().st_uid, recorded.parent.stat().st_gid) == OWNER

            running_provider.close()  # the backend goes away: a clear error, and the mock keeps serving
            with client(gen, served.port(SID)) as people:
                errors = []
                for _ in range(2):  # the first may take a pooled connection the backend's exit closed
                    t0 = time.monotonic()
                    with pytest.raises(TApplicationException) as failed:
                        people.getPerson(1)
                    assert time.monotonic() - t0 < 5
                    errors.append(failed.value)
            assert errors[-1].type == TApplicationException.INTERNAL_ERROR
            assert re.fullmatch(
                rf"proxy backend 127\.0\.0\.1:{backend}: connection (refused|reset)", errors[-1].message
            )
            served.wait_for_output(f"the backend 127.0.0.1:{backend} refused the connection")
            served.proc.send_signal(signal.SIGTERM)  # `kill`, `docker stop`: cleaned up as on Ctrl-C
            assert served.proc.wait(timeout=30) == 0
    assert not listening(relay_port)
    assert leftovers(engine, label) == []

    doc = yaml.safe_load(recorded.read_text())
    by_id = {r["when"]["id"]: r for r in doc["methods"]["getPerson"]}
    assert by_id[2]["return"]["name"] == "person-2"
    # replay in a container, without --proxy and without the provider
    with serve(root, ["idl"], "--mocks", "mocks", *image) as served, client(gen, served.port(SID)) as people:
        got = people.getPerson(2)
        assert (got.id, got.name, got.email) == (answers[2].id, answers[2].name, answers[2].email)
        with pytest.raises(gen.ttypes.NotFound):
            people.getPerson(7)
        served.interrupt()
    assert leftovers(engine, label) == []


def test_a_container_speaks_theader_inside_tls_to_a_backend_on_loopback(engine: Any, tmp_path: Path) -> None:
    """Through the relay the container's TLS checks the backend's own name (127.0.0.1 in its certificate), not
    the relay's address; the CA file is mounted into the container."""
    from tests.tls_support import make_pki

    gen = apache(tmp_path)
    pki = make_pki(tmp_path / "pki")
    root = project(tmp_path / "p")
    with provider(tmp_path, "compact", "header", (pki.server, pki.server_key)) as backend:
        (root / "thriftbox.toml").write_text(
            f'[services."{SID}"]\nproxy = "127.0.0.1:{backend}"\nproxy_protocol = "compact"\n'
            f'proxy_framing = "header"\nproxy_ca = "{pki.ca}"\n'
        )
        with serve(root, ["idl"], "--runtime", "docker") as served, client(gen, served.port(SID)) as people:
            assert "runtime: docker" in served.output()
            assert people.getPerson(6) == gen.ttypes.Person(
                id=6, name="person-6", email="p6@example.org", apiToken="tok-6"
            )
            with pytest.raises(gen.ttypes.NotFound):
                people.getPerson(21)
            [entry] = [e for e in journal(served) if e.get("proxied") and e["args"] == {"id": 6}]
            assert entry["proxied"]["backend"] == f"127.0.0.1:{backend}"  # the backend, not the relay
    assert leftovers(engine, f"thriftbox.project={project_name(root)}") == []
