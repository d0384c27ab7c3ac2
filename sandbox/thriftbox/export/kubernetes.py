"""An :class:`~thriftbox.export.model.ExportPlan` as Kubernetes manifests for ``kubectl apply -k DIR``.

Per mock a Deployment (replicas from the project file) and a Service (TCP, port named ``thrift``, the mock's DNS
name, so ``users-users:9190`` works in the namespace as on the Docker runtime's network); the IDL and stub
folders as ConfigMaps (a ConfigMap holds at most 1 MiB), mounted read-only where the Compose export mounts the
folders. The readiness probe makes a real Thrift call (``thriftbox probe``); liveness is a TCP connect, cheaper.
Every object carries the ``app.kubernetes.io/*`` labels. Files: ``configmaps.yaml``, ``<mock>.yaml`` and
``kustomization.yaml`` listing them.
"""

from __future__ import annotations

import re
from typing import Any

from thriftbox import about
from thriftbox.errors import ConfigError
from thriftbox.export.model import ExportPlan, MockExport, Mount, RealExport

Document = dict[str, Any]
KUSTOMIZATION = "kustomization.yaml"
CONFIGMAPS = "configmaps.yaml"
PORT_NAME = "thrift"
REQUESTS = {"cpu": "50m", "memory": "64Mi"}
CONFIGMAP_LIMIT = 1024 * 1024  # what the API server stores in one ConfigMap (etcd's object limit)


def render(plan: ExportPlan, *, baked: bool = False) -> dict[str, list[Document]]:
    """File name -> its documents: the ConfigMaps, a Deployment and a Service per mock, the kustomization.
    ``baked``: the image holds the folders (``image build --bake``), so there are no ConfigMaps."""
    files: dict[str, list[Document]] = {}
    mounts = () if baked else plan.mounts
    maps = {mount.target: configmap(plan, mount, index) for index, mount in enumerate(mounts)}
    if maps:
        files[CONFIGMAPS] = list(maps.values())
    for mock in plan.mocks:
        files[f"{mock.name}.yaml"] = [deployment(plan, mock, maps), service(plan, mock)]
    for real in plan.real:
        files[f"{real.name}.yaml"] = real_documents(plan, real)
    files[KUSTOMIZATION] = [
        {
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": list(files),
        }
    ]
    return files


def labels(plan: ExportPlan, name: str, component: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/instance": f"{plan.project}-{name}"[:63].rstrip("-"),
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": plan.project,
        "app.kubernetes.io/version": about.__version__,
        "app.kubernetes.io/managed-by": "thriftbox",
    }


def _selector(plan: ExportPlan, mock: MockExport) -> dict[str, str]:
    every = labels(plan, mock.name, "mock")
    return {k: every[k] for k in ("app.kubernetes.io/name", "app.kubernetes.io/instance")}


def _key(path: str) -> str:
    """A ConfigMap key for a relative path (keys are flat: ``[-._a-zA-Z0-9]+``); the path comes back by items."""
    return re.sub(r"[^-._a-zA-Z0-9]", "_", path.replace("/", "__"))


def configmap(plan: ExportPlan, mount: Mount, index: int) -> Document:
    name = f"{plan.project}-{mount.role}-{index}"
    data = {_key(rel): text for rel, text in plan.files(mount).items()}
    size = sum(len(k) + len(v.encode()) for k, v in data.items())
    if size > CONFIGMAP_LIMIT:
        raise ConfigError(
            f"{mount.source}: {size // 1024} KiB of files, more than a ConfigMap holds (1 MiB)",
            hint="bake the files into the image instead: thriftbox image build --bake --tag T, then "
            "export kubernetes --image T",
        )
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "labels": labels(plan, name, mount.role)},
        "data": data,
    }


def deployment(plan: ExportPlan, mock: MockExport, maps: dict[str, Document]) -> Document:
    volumes, mounts = [], []
    for index, (target, cm) in enumerate(maps.items()):
        keys = list(cm["data"])
        relpaths = {_key(rel): rel for rel in _paths(plan, target)}
        items = [{"key": k, "path": relpaths.get(k, k)} for k in keys]
        volumes.append(
            {"name": f"folder-{index}", "configMap": {"name": cm["metadata"]["name"], "items": items}}
        )
        mounts.append({"name": f"folder-{index}", "mountPath": target, "readOnly": True})
    container = {
        "name": "mock",
        "image": plan.image,
        "imagePullPolicy": "IfNotPresent",
        "args": list(mock.command),
        "ports": [{"name": PORT_NAME, "containerPort": mock.port, "protocol": "TCP"}],
        "readinessProbe": {
            "exec": {"command": mock.probe},
            "initialDelaySeconds": 2,
            "periodSeconds": 5,
            "timeoutSeconds": 3,
        },
        "livenessProbe": {
            "tcpSocket": {"port": PORT_NAME},
            "initialDelaySeconds": 30,
            "periodSeconds": 10,
        },
        "resources": {"requests": dict(REQUESTS)},
        "volumeMounts": mounts,
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": mock.name, "labels": labels(plan, mock.name, "mock")},
        "spec": {
            "replicas": mock.replicas,
            "selector": {"matchLabels": _selector(plan, mock)},
            "template": {
                "metadata": {
                    "labels": labels(plan, mock.name, "mock"),
                    "annotations": {"thriftbox.service": mock.service_id},
                },
                "spec": {"containers": [container], "volumes": volumes},
            },
        },
    }


def _paths(plan: ExportPlan, target: str) -> list[str]:
    return [rel for mount in plan.mounts if mount.target == target for rel in plan.files(mount)]


def service(plan: ExportPlan, mock: MockExport) -> Document:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": mock.name,
            "labels": labels(plan, mock.name, "mock"),
            "annotations": {"thriftbox.service": mock.service_id},
        },
        "spec": {
            "type": "ClusterIP",
            "selector": _selector(plan, mock),
            "ports": [{"name": PORT_NAME, "port": mock.port, "targetPort": PORT_NAME, "protocol": "TCP"}],
        },
    }


def real_documents(plan: ExportPlan, real: RealExport) -> list[Document]:
    """A Deployment and a Service for a real service; its environment already names the mocks' Services.

    Bind mounts (``volumes``) have no counterpart on a cluster: the image must hold what they brought."""
    name = dns_label(real.name)
    selector = {k: v for k, v in labels(plan, name, "real").items() if k.endswith(("/name", "/instance"))}
    ports = [
        {"name": f"port-{inside}", "containerPort": inside, "protocol": "TCP"}
        for _published, inside in real.ports
    ]
    container: dict[str, Any] = {"name": name, "image": real.image, "imagePullPolicy": "IfNotPresent"}
    if real.command:
        container["command"] = list(real.command)
    if real.working_dir:
        container["workingDir"] = real.working_dir
    if real.environment:
        container["env"] = [{"name": k, "value": v} for k, v in sorted(real.environment.items())]
    if ports:
        container["ports"] = ports
    container["resources"] = {"requests": dict(REQUESTS)}
    deployment_doc = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels(plan, name, "real")},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": selector},
            "template": {
                "metadata": {"labels": labels(plan, name, "real")},
                "spec": {"containers": [container]},
            },
        },
    }
    if not ports:
        return [deployment_doc]
    service_doc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "labels": labels(plan, name, "real")},
        "spec": {
            "type": "ClusterIP",
            "selector": selector,
            "ports": [
                {"name": p["name"], "port": p["containerPort"], "targetPort": p["name"], "protocol": "TCP"}
                for p in ports
            ],
        },
    }
    return [deployment_doc, service_doc]


def dns_label(name: str) -> str:
    """A real service's name as a Kubernetes object name (lower case, '-' for '_')."""
    return name.lower().replace("_", "-")
