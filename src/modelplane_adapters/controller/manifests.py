"""The controller flavour of ``modelplane package build``: CRDs, RBAC, a Deployment.

The CRDs come from the same place as the XRDs (:func:`modelplane_core.api.openapi_schema`
and each kind's ``kind_info``), so the controller serves exactly the API the
Crossplane package serves. Two additions, both under ``status``, because here
the controller (not Crossplane) owns the status: ``observedGeneration`` at the
top level (and in each condition, which the schema already allows), and the
status subresource itself. Printer columns, short names, categories and the
ModelDeployment scale subresource are carried over unchanged.

The ClusterRole allows what :mod:`.kinds` watches: our two groups in full
(including ``/status`` and ``/finalizers``, which owner references with
``blockOwnerDeletion`` need), every composed group, Secrets read-only (a
ModelCache's credentials), Events create; the Lease is a namespaced Role.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Final

from modelplane_adapters.controller.kinds import COMPOSED, REQUIRED, group_of
from modelplane_adapters.crossplane.package import PackageFile, _yaml
from modelplane_core import api

CRD_API_VERSION: Final = "apiextensions.k8s.io/v1"
NAMESPACE: Final = "modelplane-system"
NAME: Final = "modelplane-controller"
HEALTH_PORT: Final = 8081
METRICS_PORT: Final = 8080
WRITE: Final = ["get", "list", "watch", "create", "update", "patch", "delete"]
READ: Final = ["get", "list", "watch"]


def crd_for(cls: type[api.Resource]) -> dict[str, Any]:
    info = cls.kind_info
    names: dict[str, Any] = {
        "kind": info.kind,
        "listKind": f"{info.kind}List",
        "plural": info.plural,
        "singular": info.kind.lower(),
    }
    if info.short_names:
        names["shortNames"] = list(info.short_names)
    if info.categories:
        names["categories"] = list(info.categories)
    schema = copy.deepcopy(api.openapi_schema(cls))
    schema["properties"]["status"].setdefault("properties", {})["observedGeneration"] = {
        "type": "integer",
        "format": "int64",
        "description": "The metadata.generation the controller last reconciled.",
    }
    subresources: dict[str, Any] = {"status": {}}
    if info.scale is not None:
        spec_path, status_path = info.scale
        subresources["scale"] = {"specReplicasPath": spec_path, "statusReplicasPath": status_path}
    columns = [
        {
            "name": "Synced",
            "type": "string",
            "jsonPath": '.status.conditions[?(@.type=="Synced")].status',
        },
        {
            "name": "Ready",
            "type": "string",
            "jsonPath": '.status.conditions[?(@.type=="Ready")].status',
        },
        *(
            {"name": c.name, "type": c.type, "jsonPath": c.json_path}
            for c in info.printer_columns or ()
        ),
        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    ]
    version = {
        "name": info.version,
        "served": True,
        "storage": True,
        "schema": {"openAPIV3Schema": schema},
        "subresources": subresources,
        "additionalPrinterColumns": columns,
    }
    return {
        "apiVersion": CRD_API_VERSION,
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{info.plural}.{info.group}"},
        "spec": {"group": info.group, "names": names, "scope": info.scope, "versions": [version]},
    }


def crds() -> list[dict[str, Any]]:
    return [crd_for(cls) for cls in sorted(api.KINDS, key=lambda c: c.kind_info.plural)]


def cluster_role() -> dict[str, Any]:
    ours = sorted({c.kind_info.group for c in api.KINDS})
    composed = sorted({group_of(v) for v, _k in COMPOSED} - {""} - set(ours))
    core_composed = sorted({k.lower() + "s" for v, k in COMPOSED if v == "v1"})
    core_required = sorted({k.lower() + "s" for v, k in REQUIRED if v == "v1"})
    required = sorted({group_of(v) for v, _k in REQUIRED} - {""} - set(composed) - set(ours))
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": NAME},
        "rules": [
            {"apiGroups": ours, "resources": ["*"], "verbs": WRITE},
            {"apiGroups": composed, "resources": ["*"], "verbs": WRITE},
            {"apiGroups": [""], "resources": core_composed, "verbs": WRITE},
            {"apiGroups": [""], "resources": core_required, "verbs": READ},
            {"apiGroups": required, "resources": ["*"], "verbs": READ},
            {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "patch"]},
        ],
    }


def rbac(namespace: str = NAMESPACE) -> list[dict[str, Any]]:
    subject = {"kind": "ServiceAccount", "name": NAME, "namespace": namespace}
    return [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": NAME, "namespace": namespace},
        },
        cluster_role(),
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": NAME},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": NAME,
            },
            "subjects": [subject],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": f"{NAME}-leader-election", "namespace": namespace},
            "rules": [
                {
                    "apiGroups": ["coordination.k8s.io"],
                    "resources": ["leases"],
                    "verbs": ["get", "create", "update"],
                }
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": f"{NAME}-leader-election", "namespace": namespace},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "Role",
                "name": f"{NAME}-leader-election",
            },
            "subjects": [subject],
        },
    ]


def deployment(image: str, namespace: str = NAMESPACE) -> dict[str, Any]:
    """Two replicas, one leading; probes and metrics on the Pod IP (hence 0.0.0.0)."""
    labels = {"app.kubernetes.io/name": NAME, "app.kubernetes.io/part-of": "modelplane"}
    env = [
        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
    ]
    container = {
        "name": "controller",
        "image": image,
        "args": [
            "--leader-elect",
            f"--health-address=0.0.0.0:{HEALTH_PORT}",
            f"--metrics-address=0.0.0.0:{METRICS_PORT}",
        ],
        "env": env,
        "ports": [
            {"name": "metrics", "containerPort": METRICS_PORT, "protocol": "TCP"},
            {"name": "health", "containerPort": HEALTH_PORT, "protocol": "TCP"},
        ],
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": "health"}, "periodSeconds": 10},
        "readinessProbe": {"httpGet": {"path": "/readyz", "port": "health"}, "periodSeconds": 5},
        "resources": {
            "requests": {"cpu": "500m", "memory": "512Mi"},
            "limits": {"memory": "2Gi"},
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        },
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": NAME, "namespace": namespace, "labels": labels},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app.kubernetes.io/name": NAME}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "serviceAccountName": NAME,
                    "terminationGracePeriodSeconds": 30,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": 65532,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [container],
                },
            },
        },
    }


def namespace_manifest(namespace: str = NAMESPACE) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}


def controller_image(registry: str, version: str) -> str:
    return f"{registry.rstrip('/')}/{NAME}:v{version.lstrip('v')}"


def dockerfile() -> str:
    return """\
# Generated by `modelplane package build`; do not edit.
# The Modelplane controller image. Build it from the repository root:
#   docker build -f OUTDIR/controller/Dockerfile -t <registry>/modelplane-controller .
ARG PYTHON_VERSION=3.11
FROM python:${PYTHON_VERSION}-slim AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY src ./src
RUN python -m venv /venv && /venv/bin/pip install --no-cache-dir '.[controller]'

FROM python:${PYTHON_VERSION}-slim
COPY --from=build /venv /venv
ENV PATH=/venv/bin:$PATH PYTHONUNBUFFERED=1
USER 65532:65532
EXPOSE 8080 8081
ENTRYPOINT ["modelplane", "controller", "run"]
"""


def controller_files(registry: str, version: str) -> list[PackageFile]:
    """The ``controller/`` tree of the package: apply crds.yaml, then install.yaml."""
    image = controller_image(registry, version)
    return [
        _yaml("controller/crds.yaml", crds()),
        _yaml(
            "controller/install.yaml",
            [namespace_manifest(), *rbac(), deployment(image)],
        ),
        PackageFile("controller/Dockerfile", dockerfile()),
    ]


def write_controller(outdir: Path, *, registry: str, version: str) -> list[Path]:
    """Write the ``controller/`` tree under ``outdir``; returns the files written."""
    written = []
    for file in controller_files(registry, version):
        path = outdir / file.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(file.text, encoding="utf-8")
        written.append(path)
    return written
