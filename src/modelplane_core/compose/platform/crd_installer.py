"""Installing upstream CRD bundles that ship as release manifests rather than Helm charts.

The Gateway API and the Gateway API Inference Extension publish their CRDs
as release assets (``standard-install.yaml``, ``v1-manifests.yaml``), not as
charts, and Modelplane does not vendor other projects' CRDs. A Job on the
workload cluster applies the pinned assets with server-side apply, which
also upgrades them when the pin moves: the Job's name carries a hash of the
URLs, so a new version is a new Job and a finished Job is never re-run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from modelplane_core.compose.names import child_name, short_hash

NAME: Final = "modelplane-crd-installer"
FIELD_MANAGER: Final = "modelplane"
# A Job is done when it reports Complete (the applied object's own condition).
COMPLETE_CEL: Final = (
    "has(object.status.conditions) && object.status.conditions.exists(c, "
    'c.type == "Complete" && c.status == "True")'
)


def job_name(urls: Sequence[str]) -> str:
    return child_name(NAME, short_hash("\n".join(urls), 10))


def service_account(namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": NAME, "namespace": namespace},
    }


def cluster_role() -> dict[str, Any]:
    """Just enough to server-side apply CRDs and the admission policies bundled with them."""
    verbs = ["get", "list", "create", "patch", "update"]
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": NAME},
        "rules": [
            {
                "apiGroups": ["apiextensions.k8s.io"],
                "resources": ["customresourcedefinitions"],
                "verbs": verbs,
            },
            {
                "apiGroups": ["admissionregistration.k8s.io"],
                "resources": [
                    "validatingadmissionpolicies",
                    "validatingadmissionpolicybindings",
                ],
                "verbs": verbs,
            },
        ],
    }


def cluster_role_binding(namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": NAME},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": NAME},
        "subjects": [{"kind": "ServiceAccount", "name": NAME, "namespace": namespace}],
    }


def job(*, namespace: str, image: str, urls: Sequence[str]) -> dict[str, Any]:
    """A Job applying every manifest at ``urls`` with server-side apply."""
    args = ["apply", "--server-side", "--force-conflicts", f"--field-manager={FIELD_MANAGER}"]
    for url in urls:
        args.extend(["-f", url])
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": job_name(urls), "namespace": namespace},
        "spec": {
            "backoffLimit": 6,
            "template": {
                "spec": {
                    "serviceAccountName": NAME,
                    "restartPolicy": "OnFailure",
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": 65532,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [
                        {
                            "name": "apply",
                            "image": image,
                            "command": ["kubectl"],
                            "args": args,
                            # kubectl caches discovery under $HOME.
                            "env": [{"name": "HOME", "value": "/tmp"}],
                            "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
                            "securityContext": {
                                "allowPrivilegeEscalation": False,
                                "readOnlyRootFilesystem": True,
                                "capabilities": {"drop": ["ALL"]},
                            },
                        }
                    ],
                    "volumes": [{"name": "tmp", "emptyDir": {}}],
                }
            },
        },
    }
