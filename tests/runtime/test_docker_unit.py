"""The Docker runtime without an engine: names, labels, mounts, copying for remote engines, the image's
ingredients, and how the SDK's errors reach the user. The SDK is replaced by spec'd mocks (or pointed at an
address where nothing answers)."""

from __future__ import annotations

import io
import json
import tarfile
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any
from unittest.mock import MagicMock, patch

import docker
import docker.errors
import pytest
import requests
from docker.models.containers import Container, ContainerCollection
from docker.models.images import ImageCollection
from docker.models.networks import NetworkCollection

import thriftbox
from thriftbox.control import client as control
from thriftbox.errors import MockStartError, PortInUse, RuntimeUnavailable
from thriftbox.runtime.base import MockSpec, Project
from thriftbox.runtime.docker import image, wheelhouse
from thriftbox.runtime.docker import plan as names
from thriftbox.runtime.docker import sdk as rt

IDL = Path(__file__).parent / "docker_fixtures" / "idl"


def project(tmp_path: Path, **kw: Any) -> Project:
    return Project(root=tmp_path, name="shop", idl_dirs=(IDL,), **kw)


# -- names, labels, mounts -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service_id", "dns"),
    [
        ("users.Users", "users-users"),
        ("hive_metastore.ThriftHiveMetastore", "hive-metastore-thrifthivemetastore"),
        ("a..B__c", "a-b-c"),
    ],
)
def test_dns_names_are_valid_labels(service_id: str, dns: str) -> None:
    assert names.dns_name(service_id) == dns
    assert names.container_name("shop", service_id) == f"thriftbox-shop-{dns}"


def test_long_service_ids_stay_distinct_dns_labels() -> None:
    a, b = names.dns_name("x" * 80 + ".A"), names.dns_name("x" * 80 + ".B")
    assert a != b
    assert max(len(a), len(b)) <= 63


def test_plan_labels_ports_and_command(tmp_path: Path) -> None:
    plan = names.plan_container(
        project(tmp_path, seed=7), MockSpec("users.Users", 9091), session="s1", version="9.9"
    )
    assert plan.name == "thriftbox-shop-users-users"
    assert plan.network == "thriftbox-shop"
    assert plan.alias == "users-users"
    assert plan.labels[names.LABEL_SERVICE] == "users.Users"
    assert plan.labels[names.LABEL_PROJECT] == "shop"
    assert plan.labels[names.LABEL_VERSION] == "9.9"
    assert plan.labels[names.LABEL_SESSION] == "s1"
    # the service keeps its number on the host; the control endpoint gets a random loopback port
    assert plan.ports() == {"9091/tcp": ("127.0.0.1", 9091), f"{names.CONTROL_PORT}/tcp": ("127.0.0.1", None)}
    cmd = plan.command
    assert cmd[0] == "host"
    assert cmd[cmd.index("--service") + 1] == "users.Users=9091"
    assert cmd[cmd.index("--bind") + 1] == "0.0.0.0"
    assert cmd[cmd.index("--seed") + 1] == "7"
    assert cmd[cmd.index("--idl") + 1] == str(IDL.resolve())


def test_control_port_moves_when_the_service_uses_it(tmp_path: Path) -> None:
    plan = names.plan_container(
        project(tmp_path), MockSpec("a.A", names.CONTROL_PORT), session="s", version="1"
    )
    assert plan.control_port != names.CONTROL_PORT
    assert f"{plan.control_port}/tcp" in plan.ports()


def test_folders_are_mounted_read_only_never_single_files(tmp_path: Path) -> None:
    inc = tmp_path / "inc"
    inc.mkdir()
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    given = Project(
        root=tmp_path, name="shop", idl_dirs=(IDL / "users.thrift",), include_dirs=(inc,), mocks_dir=stubs
    )
    plan = names.plan_container(given, MockSpec("users.Users", 9090), session="s", version="1")
    assert plan.binds() == {
        str(IDL.resolve()): {"bind": str(IDL.resolve()), "mode": "ro"},
        str(inc.resolve()): {"bind": str(inc.resolve()), "mode": "ro"},
        str(stubs.resolve()): {"bind": str(stubs.resolve()), "mode": "ro"},
        # the only writable mount: what the host keeps across a restart of its container (host.persist)
        str(tmp_path / ".thriftbox" / "hosts" / "users-users"): {"bind": "/thriftbox/state", "mode": "rw"},
    }
    assert cmd_value(plan.command, "--state-dir") == "/thriftbox/state"
    cmd = plan.command
    # a single .thrift file is served from inside its mounted folder
    assert cmd[cmd.index("--idl") + 1] == str(IDL.resolve() / "users.thrift")
    assert cmd[cmd.index("--mocks") + 1] == str(stubs.resolve())


def test_tls_files_are_mounted_read_only_one_by_one(tmp_path: Path) -> None:
    """The certificate, key and client CA, not the folder that holds them (it may hold other keys), read-only at
    fixed paths the host's command line names; the key's content never appears in the plan."""
    keys = tmp_path / "keys"
    keys.mkdir()
    for name in ("server.pem", "server.key", "ca.pem", "unrelated.key"):
        (keys / name).write_text(f"-----{name}-----\n")
    given = project(
        tmp_path, tls_cert=keys / "server.pem", tls_key=keys / "server.key", tls_client_ca=keys / "ca.pem"
    )
    plan = names.plan_container(given, MockSpec("users.Users", 9090), session="s", version="1")
    binds = plan.binds()
    assert binds[str(keys / "server.pem")] == {"bind": "/thriftbox/tls/cert.pem", "mode": "ro"}
    assert binds[str(keys / "server.key")] == {"bind": "/thriftbox/tls/key.pem", "mode": "ro"}
    assert binds[str(keys / "ca.pem")] == {"bind": "/thriftbox/tls/client-ca.pem", "mode": "ro"}
    assert str(keys) not in binds
    assert str(keys / "unrelated.key") not in binds
    cmd = plan.command
    assert cmd[cmd.index("--tls-cert") + 1] == "/thriftbox/tls/cert.pem"
    assert cmd[cmd.index("--tls-key") + 1] == "/thriftbox/tls/key.pem"
    assert cmd[cmd.index("--tls-client-ca") + 1] == "/thriftbox/tls/client-ca.pem"
    assert "-----server.key-----" not in repr(plan)
    without = names.plan_container(project(tmp_path), MockSpec("users.Users", 9090), session="s", version="1")
    assert "--tls-cert" not in without.command


def test_folders_that_would_cover_the_image_move_under_thriftbox_src() -> None:
    assert names.container_path(Path("/home/ann/shop/idl")) == "/home/ann/shop/idl"
    assert names.container_path(Path("/usr")) == "/thriftbox/src/usr"
    assert names.container_path(Path("/")) == "/thriftbox/src"
    assert names.container_path(Path("/opt/thriftbox/x")) == "/thriftbox/src/opt/thriftbox/x"


@pytest.mark.parametrize(
    ("docker_host", "remote"),
    [
        (None, None),
        ("unix:///var/run/docker.sock", None),
        ("tcp://127.0.0.1:2375", None),
        ("tcp://build-box.internal:2376", "build-box.internal"),
        ("ssh://ann@10.1.2.3", "10.1.2.3"),
    ],
)
def test_remote_engines_are_told_apart(docker_host: str | None, remote: str | None) -> None:
    assert names.remote_engine_host(docker_host) == remote


# -- the SDK, mocked -------------------------------------------------------------------------------------------


def fake_client() -> MagicMock:
    """A Docker SDK client with one container, ``c0ffee``, that ``create`` makes; names are free."""
    client = MagicMock(spec=docker.DockerClient)
    client.containers = MagicMock(spec=ContainerCollection)
    client.images = MagicMock(spec=ImageCollection)
    client.networks = MagicMock(spec=NetworkCollection)
    client.api = MagicMock(spec=docker.APIClient)
    container = MagicMock(spec=Container)
    container.id = "c0ffee"
    client.containers.create.return_value = container
    client.containers.get.return_value = container
    ports = {f"{names.CONTROL_PORT}/tcp": [{"HostIp": "127.0.0.1", "HostPort": "32999"}]}

    def inspect(ref: str) -> dict[str, Any]:
        if ref != "c0ffee":
            raise docker.errors.NotFound(f"no such container: {ref}")
        return {"Id": ref, "Name": "/c", "State": {"Status": "running"}, "NetworkSettings": {"Ports": ports}}

    client.api.inspect_container.side_effect = inspect
    return client


def runtime_with(client: MagicMock, tmp_path: Path, **kw: Any) -> rt.DockerRuntime:
    runtime = rt.DockerRuntime(**kw)
    runtime._engine = rt.SdkEngine(client, "unix:///test.sock")
    runtime.project = project(tmp_path)
    runtime.image_tag = "thriftbox-mock:test"
    return runtime


def test_nothing_touches_the_engine_before_start() -> None:
    with patch.object(rt.docker, "from_env") as from_env:
        runtime = rt.DockerRuntime()
        runtime.stop()
        assert runtime.supervise() == []
    from_env.assert_not_called()


def test_a_container_gets_its_name_labels_alias_mounts_and_ports(tmp_path: Path) -> None:
    client = fake_client()
    runtime = runtime_with(client, tmp_path)
    mock = runtime._launch(runtime._plan(MockSpec("users.Users", 9090)))
    kwargs = client.containers.create.call_args.kwargs
    assert client.containers.create.call_args.args[0] == "thriftbox-mock:test"
    assert kwargs["name"] == "thriftbox-shop-users-users"
    assert kwargs["labels"][names.LABEL_SESSION] == runtime.session
    state = str(tmp_path / ".thriftbox" / "hosts" / "users-users")
    assert kwargs["volumes"] == {
        str(IDL.resolve()): {"bind": str(IDL.resolve()), "mode": "ro"},
        state: {"bind": "/thriftbox/state", "mode": "rw"},
    }
    assert kwargs["ports"]["9090/tcp"] == ("127.0.0.1", 9090)
    assert kwargs["network"] == "thriftbox-shop"
    client.api.create_endpoint_config.assert_called_once_with(aliases=["users-users"])
    client.api.start.assert_called_once_with("c0ffee")
    assert mock.control_url == "http://127.0.0.1:32999"
    assert runtime.control_urls() == {"users.Users": "http://127.0.0.1:32999"}


def test_a_remote_engine_gets_the_folders_copied_in(tmp_path: Path) -> None:
    client = fake_client()
    runtime = runtime_with(client, tmp_path, copy_files=True)
    container = client.containers.create.return_value
    order: list[str] = []
    container.put_archive.side_effect = lambda *_: order.append("copy")
    client.api.start.side_effect = lambda *_: order.append("start")
    runtime._launch(runtime._plan(MockSpec("users.Users", 9090)))
    assert order == ["copy", "start"]  # the host reads the files as soon as it starts
    assert client.containers.create.call_args.kwargs["volumes"] is None
    path, data = container.put_archive.call_args.args
    assert path == "/"
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        copied = set(tar.getnames())
    inside = str(IDL.resolve()).lstrip("/")
    assert {f"{inside}/users.thrift", f"{inside}/common.thrift"} <= copied


def test_a_reload_copies_the_folders_again_then_tells_the_container(tmp_path: Path) -> None:
    client = fake_client()
    runtime = runtime_with(client, tmp_path, copy_files=True)
    runtime._launch(runtime._plan(MockSpec("users.Users", 9090)))
    container = client.containers.get.return_value
    container.reset_mock()
    with patch.object(control, "request_json") as post:
        runtime.reload(["users.Users"], [], [])
    assert [c[0] for c in container.method_calls] == ["exec_run", "put_archive"]
    assert container.exec_run.call_args.args[0][-1] == str(IDL.resolve())  # the old copy goes first
    body = {"reloaded": ["users.Users"], "started": [], "stopped": []}
    assert runtime.project is not None
    token = runtime.project.control_token  # the host token: the container has it in its environment
    post.assert_called_once_with("http://127.0.0.1:32999/reload", "POST", body, timeout=30, token=token)
    environment = client.containers.create.call_args.kwargs["environment"]
    assert environment == {"THRIFTBOX_CONTROL_TOKEN": token}
    assert not any(
        token in part for part in client.containers.create.call_args.args[1]
    )  # not on its command line


def test_a_port_the_engine_cannot_bind_becomes_port_in_use(tmp_path: Path) -> None:
    client = fake_client()
    client.api.start.side_effect = docker.errors.APIError(
        "500 Server Error",
        explanation="driver failed programming external connectivity on endpoint x: "
        "Bind for 127.0.0.1:9090 failed: port is already allocated",
    )
    runtime = runtime_with(client, tmp_path)
    holder = patch.object(rt.SdkEngine, "holder_of", return_value="container other-app")
    with holder, pytest.raises(PortInUse) as info:
        runtime._launch(runtime._plan(MockSpec("users.Users", 9090)))
    assert "port 9090" in info.value.message
    assert "container other-app" in info.value.message


def test_an_exited_container_is_restarted_and_reported(tmp_path: Path) -> None:
    client = fake_client()
    runtime = runtime_with(client, tmp_path)
    runtime._launch(runtime._plan(MockSpec("users.Users", 9090)))
    dead = MagicMock(spec=Container)
    dead.id = "c0ffee"
    dead.attrs = {"Id": "c0ffee", "Names": ["/c"], "State": "exited", "Status": "Exited (137) 1 second ago"}
    client.containers.list.return_value = [dead]
    client.api.start.reset_mock()
    with patch("thriftbox.client.probe.probe", return_value=True) as probe:
        assert runtime.supervise() == ["users.Users: container exited (137), restarted"]
    client.api.start.assert_called_once_with("c0ffee")
    probe.assert_called_with("127.0.0.1", 9090, timeout=0.5)  # reported once it answers again
    assert runtime.status()[0].restarts == 1


def test_losing_the_engine_is_reported_once(tmp_path: Path) -> None:
    client = fake_client()
    runtime = runtime_with(client, tmp_path)
    runtime._launch(runtime._plan(MockSpec("users.Users", 9090)))
    client.containers.list.side_effect = requests.exceptions.ConnectionError("Connection refused")
    lines = runtime.supervise()
    assert len(lines) == 1
    assert "lost the Docker engine at unix:///test.sock" in lines[0]
    assert runtime.supervise() == []


def test_a_failed_build_raises_with_the_log_tail(tmp_path: Path) -> None:
    def lookup(ref: str) -> MagicMock:
        if ref.startswith(image.IMAGE_REPOSITORY):
            raise docker.errors.ImageNotFound(ref)
        return MagicMock()  # the base image is there

    client = fake_client()
    client.images.get.side_effect = lookup
    probe = {"version": [3, 11], "full": "3.11.2", "implementation": "cpython", "machine": "x86_64"}
    probe |= {"libc": "glibc", "libc_version": "2.36", "pip": "23.0"}
    client.containers.run.return_value = json.dumps(probe).encode()
    client.api.build.return_value = iter(
        [
            {"stream": "Step 1/9 : FROM base\n"},
            {"stream": "pip says no\n"},
            {"error": "The command returned 1"},
        ]
    )
    runtime = runtime_with(client, tmp_path, base_image="base:1", on_progress=lambda _: None)
    house = tmp_path / "house"
    house.mkdir()
    with (
        patch.object(wheelhouse, "prepare_wheelhouse", return_value=house),
        patch.object(wheelhouse, "cache_root", return_value=tmp_path),
        pytest.raises(MockStartError) as info,
    ):
        runtime.ensure_image()
    assert "The command returned 1" in info.value.message
    assert "pip says no" in (info.value.hint or "")
    assert client.api.build.call_args.kwargs["network_mode"] == "none"


# -- no engine: real SDK, nothing listening ---------------------------------------------------------------------


def test_no_engine_names_the_address_it_tried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    address = f"unix://{tmp_path}/docker.sock"
    monkeypatch.setenv("DOCKER_HOST", address)
    with pytest.raises(RuntimeUnavailable) as info:
        rt.DockerRuntime().start(project(tmp_path), [MockSpec("users.Users", 9090)])
    assert address in info.value.message
    assert "the socket does not exist" in info.value.message
    assert "--runtime process" in (info.value.hint or "")
    assert rt.engine_available() == (False, f"{address}: the socket does not exist")


def test_a_refused_tcp_engine_is_reported_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:1")
    with pytest.raises(RuntimeUnavailable, match=r"tcp://127\.0\.0\.1:1 \(connection refused\)"):
        rt.down("shop")


# -- the image's ingredients -----------------------------------------------------------------------------------


def test_the_wheel_holds_the_running_code_and_is_reproducible(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = image.build_wheel(tmp_path / "a", ["thriftpy2==0.7.1"])
    second = image.build_wheel(tmp_path / "b", ["thriftpy2==0.7.1"])
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as wheel:
        listed = set(wheel.namelist())
        metadata = wheel.read(f"thriftbox-{thriftbox.__version__}.dist-info/METADATA").decode()
        record = wheel.read(f"thriftbox-{thriftbox.__version__}.dist-info/RECORD").decode()
        runtime_source = wheel.read("thriftbox/runtime/docker/sdk.py")
    assert "thriftbox/__init__.py" in listed
    assert not any("__pycache__" in name for name in listed)
    assert "Requires-Dist: thriftpy2==0.7.1" in metadata
    assert runtime_source == Path(rt.__file__).read_bytes()
    assert all(line.split(",")[0] in listed for line in record.splitlines())


def test_the_tag_follows_code_base_image_and_dependencies() -> None:
    tag = image.image_tag("python:3.11-slim", ["a==1"])
    assert tag.startswith(f"thriftbox-mock:{thriftbox.__version__}-")
    assert image.image_tag("python:3.11-slim", ["a==1"]) == tag
    assert image.image_tag("python:3.12-slim", ["a==1"]) != tag
    assert image.image_tag("python:3.11-slim", ["a==2"]) != tag


def test_wheels_are_built_here_only_for_the_same_python() -> None:
    here = wheelhouse.PythonInfo.local()
    same = wheelhouse.pip_command(here, ["thriftpy2==0.7.1"], Path("/w"))
    assert same[4:7] == ["wheel", "--wheel-dir", "/w"]
    other = wheelhouse.PythonInfo((3, 12), "3.12.1", here.machine, "glibc", "2.36")
    cmd = wheelhouse.pip_command(other, ["thriftpy2==0.7.1"], Path("/w"))
    assert cmd[4:6] == ["download", "--only-binary=:all:"]
    assert cmd[cmd.index("--python-version") + 1] == "3.12"
    platforms = [cmd[i + 1] for i, arg in enumerate(cmd) if arg == "--platform"]
    assert platforms[0] == f"manylinux_2_36_{here.machine}"
    assert f"manylinux2014_{here.machine}" in platforms
    assert wheelhouse.wheelhouse_key(other, ["a==1"]) != wheelhouse.wheelhouse_key(here, ["a==1"])


def test_requirements_are_pinned_to_what_runs_here() -> None:
    pins = wheelhouse.runtime_requirements()
    assert any(p.startswith("thriftpy2==") for p in pins)
    assert all("==" in p for p in pins)


def cmd_value(cmd: list[str], option: str) -> str:
    return cmd[cmd.index(option) + 1]


def test_an_engine_on_another_machine_gets_no_state_folder(tmp_path: Path) -> None:
    given = Project(root=tmp_path, name="shop", idl_dirs=(IDL,))
    plan = names.plan_container(given, MockSpec("users.Users", 9090), session="s", version="1", remote=True)
    assert plan.state_dir is None
    assert "--state-dir" not in plan.command
    assert all(b["mode"] == "ro" for b in plan.binds().values())


def test_a_recording_proxy_gets_the_record_folder_writable_and_dials_the_relay(tmp_path: Path) -> None:
    from thriftbox.client.target import ProxyTarget

    stubs = tmp_path / "mocks"
    (stubs / "recorded").mkdir(parents=True)
    given = Project(
        root=tmp_path,
        name="shop",
        idl_dirs=(IDL,),
        mocks_dir=stubs,
        proxies={"users.Users": ProxyTarget("localhost", 9090)},
        record_dir=stubs / "recorded",
        redact=("pin",),
    )
    relayed = {"users.Users": ProxyTarget("172.18.0.1", 41000, configured="localhost:9090")}
    plan = names.plan_container(
        given, MockSpec("users.Users", 9091), session="s", version="1", proxies=relayed
    )
    recorded = str((stubs / "recorded").resolve())
    assert plan.binds()[str(stubs.resolve())]["mode"] == "ro"
    assert plan.binds()[recorded] == {"bind": recorded, "mode": "rw"}
    cmd = plan.command
    assert cmd[cmd.index("--proxy") + 1] == "users.Users=172.18.0.1:41000/localhost:9090,binary,buffered,5000"
    assert cmd[cmd.index("--record-dir") + 1] == recorded
    assert cmd[cmd.index("--redact") + 1] == "pin"
    # a service that does not proxy records nothing and gets no writable folder
    other = names.plan_container(
        given, MockSpec("orders.Orders", 9092), session="s", version="1", proxies=relayed
    )
    assert "--record-dir" not in other.command
    assert recorded not in other.binds()
    # a remote engine: the folder cannot be mounted from here, the backend is dialled as given
    remote = names.plan_container(given, MockSpec("users.Users", 9091), session="s", version="1", remote=True)
    assert "--record-dir" not in remote.command
    assert remote.command[remote.command.index("--proxy") + 1].startswith("users.Users=localhost:9090,")


def test_a_proxy_s_tls_files_are_mounted_and_named_in_the_container(tmp_path: Path) -> None:
    from thriftbox.client.target import ProxyTarget

    certs = tmp_path / "certs"
    certs.mkdir()
    for name in ("ca.pem", "me.pem", "me.key"):
        (certs / name).write_text(f"-----{name}-----\n")
    target = ProxyTarget(
        "staging", 9443, ca=str(certs / "ca.pem"), cert=str(certs / "me.pem"), key=str(certs / "me.key")
    )
    given = project(tmp_path, proxies={"users.Users": target})
    relayed = {"users.Users": replace(target, host="172.18.0.1", port=41000, configured="staging:9443")}
    plan = names.plan_container(
        given, MockSpec("users.Users", 9091), session="s", version="1", proxies=relayed
    )
    binds = plan.binds()
    inside = {binds[str(certs / n)]["bind"] for n in ("ca.pem", "me.pem", "me.key")}
    assert inside == {
        "/thriftbox/tls/proxy-0.pem",
        "/thriftbox/tls/proxy-1.pem",
        "/thriftbox/tls/proxy-2.pem",
    }
    assert all(binds[str(certs / n)]["mode"] == "ro" for n in ("ca.pem", "me.pem", "me.key"))
    spec = ProxyTarget.parse(plan.command[plan.command.index("--proxy") + 1].partition("=")[2])
    assert spec.tls
    assert {spec.ca, spec.cert, spec.key} == inside  # the container's paths, not this machine's
    assert spec.server_name == "staging"  # TLS checks the backend's name, not the relay's
