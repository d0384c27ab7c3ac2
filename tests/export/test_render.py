"""The export plan and the Compose document, without Docker: names, mounts, ports, replicas, health checks."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.export.support import SERVICES, copy_example, thriftbox
from tests.serve_support import cli_env, thriftbox_cmd
from thriftbox.errors import ConfigError, ThriftboxError
from thriftbox.export import compose, kubernetes
from thriftbox.export.model import ExportPlan, plan_export
from thriftbox.project.file import read_project_file
from thriftbox.runtime.docker.image import base_image, image_tag
from thriftbox.runtime.docker.plan import dns_name
from thriftbox.runtime.docker.wheelhouse import runtime_requirements
from thriftbox.supervisor.config import ServeConfig
from thriftbox.supervisor.projectfile import config_from_project


def example_plan(root: Path, **overrides: Any) -> ExportPlan:
    config = config_from_project(read_project_file(root / "thriftbox.toml"), root, **overrides)
    return plan_export(config, "example/mocks:1")


def test_plan_runs_each_mock_as_the_docker_runtime_names_it(tmp_path: Path) -> None:
    root = copy_example(tmp_path)
    plan = example_plan(root)
    assert {m.service_id: m.name for m in plan.mocks} == SERVICES
    assert all(m.name == dns_name(m.service_id) for m in plan.mocks)
    assert {m.service_id: (m.port, m.replicas) for m in plan.mocks} == {
        "users.Users": (9190, 1),
        "posts.Posts": (9191, 2),
        "ads.Ads": (9192, 1),
    }
    users = next(m for m in plan.mocks if m.service_id == "users.Users")
    assert users.command[:3] == ("host", "--bind", "0.0.0.0")
    assert ("--service", "users.Users=9190") in zip(users.command, users.command[1:], strict=False)
    assert [(m.target, m.role) for m in plan.mounts] == [
        ("/project/idl", "idl"),
        ("/project/mocks", "mocks"),
    ]


def test_ports_are_the_ones_serve_would_use(tmp_path: Path) -> None:
    root = copy_example(tmp_path)
    (root / "thriftbox.toml").write_text('[serve]\npaths = ["idl"]\nport = 9300\n')
    plan = plan_export(config_from_project(read_project_file(root / "thriftbox.toml"), root))
    # numbered from the first port in sorted order, remembered in .thriftbox/ports.json as serve does
    assert {m.service_id: m.port for m in plan.mocks} == {
        "ads.Ads": 9300,
        "posts.Posts": 9301,
        "users.Users": 9302,
    }
    assert '"posts.Posts": 9301' in (root / ".thriftbox" / "ports.json").read_text()
    assert plan.image == image_tag(base_image(), runtime_requirements())  # what `image build` builds


def test_included_folder_outside_the_idl_keeps_its_place(tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "common.thrift").write_text("struct Id { 1: i64 value }\n")
    (tmp_path / "app" / "idl").mkdir(parents=True)
    (tmp_path / "app" / "idl" / "a.thrift").write_text(
        'include "../../shared/common.thrift"\nservice A { common.Id get() }\n'
    )
    plan = plan_export(ServeConfig(paths=[tmp_path / "app" / "idl"], root=tmp_path / "app"), "x:1")
    assert sorted((m.target, m.role) for m in plan.mounts) == [
        ("/project/app/idl", "idl"),
        ("/project/shared", "extra"),
    ]
    doc = compose.render(plan, tmp_path / "app")
    assert sorted(doc["services"]["a-a"]["volumes"]) == [
        "../shared:/project/shared:ro",
        "./idl:/project/app/idl:ro",
    ]


def test_compose_document_for_compose_and_swarm(tmp_path: Path) -> None:
    root = copy_example(tmp_path)
    doc = compose.render(example_plan(root), root / "deploy")
    assert doc["version"] == "3.8"
    assert set(doc["services"]) == set(SERVICES.values())
    assert doc["networks"] == {"thriftbox": {"attachable": True}}
    for name, service in doc["services"].items():
        assert "build" not in service
        assert service["image"] == "example/mocks:1"
        assert service["networks"] == ["thriftbox"]
        assert service["volumes"] == ["../idl:/project/idl:ro", "../mocks:/project/mocks:ro"]
        assert service["deploy"]["endpoint_mode"] == "dnsrr"
        assert service["healthcheck"]["test"][:5] == ["CMD", "python3", "-m", "thriftbox", "probe"]
        (port,) = service["ports"]
        assert port["mode"] == "host"
        replicas = service["deploy"]["replicas"]
        assert replicas == (2 if name == "posts-posts" else 1)
        # two replicas on one machine cannot share a host port: the engine picks one for each
        assert port.get("published") == (None if replicas > 1 else port["target"])


def test_export_compose_writes_a_file_docker_compose_accepts(tmp_path: Path) -> None:
    root = copy_example(tmp_path)
    result = thriftbox(root, "export", "compose", "-o", "compose.yaml", "--image", "example/mocks:1")
    assert "wrote compose.yaml (3 mock(s), image example/mocks:1)" in result.stderr
    text = (root / "compose.yaml").read_text()
    assert text.startswith("# Generated by thriftbox")
    assert yaml.safe_load(text) == compose.render(example_plan(root), root)
    checked = subprocess.run(
        ["docker-compose", "-f", str(root / "compose.yaml"), "config", "-q"], capture_output=True, text=True
    )
    if checked.returncode == 127 or "not found" in checked.stderr:  # pragma: no cover - no compose installed
        pytest.skip("docker-compose is not installed")
    assert checked.returncode == 0, checked.stderr


def test_unknown_service_in_the_project_file_is_reported_at_its_line(tmp_path: Path) -> None:
    root = copy_example(tmp_path)
    toml = root / "thriftbox.toml"
    toml.write_text(toml.read_text() + '\n[services."users.Userz"]\nreplicas = 3\n')
    with pytest.raises(ConfigError) as caught:
        example_plan(root)
    assert caught.value.location is not None
    assert "did you mean 'users.Users'" in (caught.value.hint or "")


def test_baked_exports_mount_nothing(tmp_path: Path) -> None:
    root = copy_example(tmp_path)
    plan = example_plan(root)
    doc = compose.render(plan, root, baked=True)
    assert all("volumes" not in service for service in doc["services"].values())
    files = kubernetes.render(plan, baked=True)
    assert "configmaps.yaml" not in files
    assert "configmaps.yaml" not in files["kustomization.yaml"][0]["resources"]
    deployment = files["users-users.yaml"][0]
    assert deployment["spec"]["template"]["spec"]["volumes"] == []


def test_baked_without_an_image_and_a_bad_project_file_are_usage_errors(tmp_path: Path) -> None:
    root = copy_example(tmp_path)
    proc = subprocess.run(
        thriftbox_cmd("export", "compose", "--baked"), cwd=root, env=cli_env(), capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "--baked needs --image" in proc.stderr
    (root / "thriftbox.toml").write_text('[serve]\npaths = ["idl"]\nreplica = 2\n')
    proc = subprocess.run(
        thriftbox_cmd("export", "kubernetes"), cwd=root, env=cli_env(), capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "thriftbox.toml:3:1" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (root / "k8s").exists()  # nothing written half-way


def test_a_configmap_over_one_mebibyte_is_refused_with_the_bake_hint(tmp_path: Path) -> None:
    root = copy_example(tmp_path)
    (root / "idl" / "notes.txt").write_text("x" * 1_100_000)  # every file of a folder goes in its ConfigMap
    with pytest.raises(ConfigError, match="more than a ConfigMap holds") as caught:
        kubernetes.render(example_plan(root))
    assert "--bake" in (caught.value.hint or "")


def test_a_broken_stub_file_stops_the_export_at_its_line(tmp_path: Path) -> None:
    root = copy_example(tmp_path)
    (root / "mocks" / "ads.yaml").write_text("service: Ads\nmethods:\n  adsFr: []\n")
    with pytest.raises(ThriftboxError) as caught:
        example_plan(root)
    assert caught.value.location is not None
    assert caught.value.location.path.name == "ads.yaml"
