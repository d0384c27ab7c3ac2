"""``thriftbox export kubernetes``: every object valid against the Kubernetes schemas (kubernetes-validate,
offline, strict), rendered by ``kubectl kustomize``, with the Services, probes, ConfigMaps and labels a cluster
needs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tests.export.support import SERVICES, copy_example, thriftbox

PORTS = {"users-users": 9190, "posts-posts": 9191, "ads-ads": 9192}


@pytest.fixture
def exported(tmp_path: Path) -> tuple[Path, Path]:
    root = copy_example(tmp_path)
    thriftbox(root, "export", "kubernetes", "-o", "k8s", "--image", "registry.example/team/mocks:1")
    return root, root / "k8s"


def objects(folder: Path) -> list[dict[str, Any]]:
    docs = []
    for path in sorted(folder.glob("*.yaml")):
        if path.name != "kustomization.yaml":
            docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def test_every_object_is_valid_for_kubernetes(exported: tuple[Path, Path]) -> None:
    _, folder = exported
    docs = objects(folder)
    assert sorted(d["kind"] for d in docs) == ["ConfigMap"] * 2 + ["Deployment"] * 3 + ["Service"] * 3
    version = kubernetes_validate.latest_version()
    for doc in docs:
        kubernetes_validate.validate(doc, version, strict=True)  # raises on any unknown or wrong field


def test_services_deployments_probes_and_labels(exported: tuple[Path, Path]) -> None:
    _, folder = exported
    docs = objects(folder)
    services = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Service"}
    deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
    assert set(services) == set(deployments) == set(SERVICES.values())  # the Docker runtime's DNS names
    for name, svc in services.items():
        assert svc["spec"]["ports"] == [
            {"name": "thrift", "port": PORTS[name], "targetPort": "thrift", "protocol": "TCP"}
        ]
        pod = deployments[name]["spec"]["template"]
        assert svc["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
        (container,) = pod["spec"]["containers"]
        assert container["image"] == "registry.example/team/mocks:1"
        assert container["ports"] == [{"name": "thrift", "containerPort": PORTS[name], "protocol": "TCP"}]
        assert container["readinessProbe"]["exec"]["command"] == [
            "python3", "-m", "thriftbox", "probe", f"127.0.0.1:{PORTS[name]}",
        ]  # fmt: skip
        assert container["livenessProbe"]["tcpSocket"] == {"port": "thrift"}
        assert container["resources"]["requests"] == {"cpu": "50m", "memory": "64Mi"}
        for obj in (svc, deployments[name], pod):
            labels = obj["metadata"]["labels"]
            assert labels["app.kubernetes.io/name"] == name
            assert labels["app.kubernetes.io/managed-by"] == "thriftbox"
            assert labels["app.kubernetes.io/component"] == "mock"
    assert deployments["posts-posts"]["spec"]["replicas"] == 2  # replicas = 2 in thriftbox.toml
    assert deployments["users-users"]["spec"]["replicas"] == 1


def test_idl_and_stubs_are_configmaps_mounted_where_the_mock_reads_them(exported: tuple[Path, Path]) -> None:
    root, folder = exported
    docs = objects(folder)
    maps = {d["metadata"]["name"]: d for d in docs if d["kind"] == "ConfigMap"}
    idl = next(m for n, m in maps.items() if "-idl-" in n)
    stubs = next(m for n, m in maps.items() if "-mocks-" in n)
    assert idl["data"]["users.thrift"] == (root / "idl" / "users.thrift").read_text()
    assert stubs["data"]["users.yaml"] == (root / "mocks" / "users.yaml").read_text()
    users = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "users-users")
    pod = users["spec"]["template"]["spec"]
    mounts = {m["name"]: m for m in pod["containers"][0]["volumeMounts"]}
    by_map = {v["configMap"]["name"]: mounts[v["name"]] for v in pod["volumes"]}
    idl_mount = by_map[idl["metadata"]["name"]]
    assert (idl_mount["mountPath"], idl_mount["readOnly"]) == ("/project/idl", True)
    args = pod["containers"][0]["args"]
    assert args[args.index("--idl") + 1] == "/project/idl"
    assert (
        args[args.index("--mocks") + 1] == by_map[stubs["metadata"]["name"]]["mountPath"] == "/project/mocks"
    )


def test_nested_folders_become_configmap_items_with_their_paths(tmp_path: Path) -> None:
    root = copy_example(tmp_path)
    (root / "idl" / "v2").mkdir()
    (root / "idl" / "v2" / "extra.thrift").write_text("struct Extra { 1: i32 x }\n")
    thriftbox(root, "export", "kubernetes", "-o", "k8s")
    users = yaml.safe_load_all((root / "k8s" / "users-users.yaml").read_text())
    deployment = next(iter(users))
    items = [i for v in deployment["spec"]["template"]["spec"]["volumes"] for i in v["configMap"]["items"]]
    assert {"key": "v2__extra.thrift", "path": "v2/extra.thrift"} in items


def test_kubectl_kustomize_renders_the_folder(exported: tuple[Path, Path]) -> None:
    _, folder = exported
    kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text())
    assert sorted(kustomization["resources"]) == sorted(
        p.name for p in folder.glob("*.yaml") if p.name != "kustomization.yaml"
    )
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed: `kubectl kustomize` not tried")
    rendered = subprocess.run([kubectl, "kustomize", str(folder)], capture_output=True, text=True, timeout=60)
    assert rendered.returncode == 0, rendered.stderr
    kinds = sorted(d["kind"] for d in yaml.safe_load_all(rendered.stdout) if d)
    assert kinds == ["ConfigMap"] * 2 + ["Deployment"] * 3 + ["Service"] * 3
