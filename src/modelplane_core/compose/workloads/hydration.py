"""Filling a ModelCache's PVC: a Job that downloads the weights once, and its token.

The token is referenced, never copied into a composed object: the Secret on
the workload cluster is filled by provider-kubernetes from the user's Secret.

The Job is idempotent (a marker file records a finished download, so a rerun
exits at once) and resumable (``hf download`` skips files already present).
The repository and revision reach the script as environment variables, never
spliced into the shell text, so no value a user writes can become a command.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from modelplane_core.compose.workloads.images import HUGGINGFACE_HUB_REQUIREMENT, HYDRATION_IMAGE

ARTIFACT_MOUNT: Final = "/mnt/artifact"
MARKER_FILE: Final = f"{ARTIFACT_MOUNT}/.modelplane-hydrated"
# Readiness of the wrapped Job: it completed.
COMPLETE_CEL: Final = (
    "has(object.status.conditions) && object.status.conditions.exists(c, "
    'c.type == "Complete" && c.status == "True")'
)
# Dropping the Job from the desired state must orphan it, not delete it: its
# ttlSecondsAfterFinished cleans it (and its pod, which pins the PVC) up.
JOB_MANAGEMENT_POLICIES: Final = ("Observe", "Create", "Update", "LateInitialize")
FINISHED_JOB_TTL_SECONDS: Final = 180
JOB_RETRIES: Final = 3

HYDRATION_SCRIPT: Final = f"""set -eu
if [ -f {MARKER_FILE} ]; then
  echo "already hydrated, skipping"
  exit 0
fi
pip install --quiet --no-cache-dir "$HF_HUB_REQUIREMENT"
set -- download "$MODEL_REPO" --local-dir {ARTIFACT_MOUNT}
if [ -n "${{MODEL_REVISION:-}}" ]; then
  set -- "$@" --revision "$MODEL_REVISION"
fi
hf "$@"
touch {MARKER_FILE}
"""


def hydration_job(
    *,
    name: str,
    namespace: str,
    pvc: str,
    repo: str,
    revision: str | None,
    token_secret: tuple[str, str] | None,
    labels: Mapping[str, str],
) -> dict[str, Any]:
    """The Job downloading ``repo`` at ``revision`` into ``pvc``.

    ``token_secret`` is the ``(secret name, key)`` holding a Hugging Face token
    on the cluster, for gated or private repositories.
    """
    env: list[dict[str, Any]] = [
        {"name": "MODEL_REPO", "value": repo},
        {"name": "HF_HUB_REQUIREMENT", "value": HUGGINGFACE_HUB_REQUIREMENT},
        {"name": "HF_HOME", "value": "/tmp/hf-home"},
        {"name": "PIP_DISABLE_PIP_VERSION_CHECK", "value": "1"},
    ]
    if revision:
        env.append({"name": "MODEL_REVISION", "value": revision})
    if token_secret is not None:
        secret, key = token_secret
        env.append(
            {"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}
        )
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
        "spec": {
            "backoffLimit": JOB_RETRIES,
            "ttlSecondsAfterFinished": FINISHED_JOB_TTL_SECONDS,
            "template": {
                "metadata": {"labels": dict(labels)},
                "spec": {
                    "restartPolicy": "OnFailure",
                    "containers": [
                        {
                            "name": "hydrate",
                            "image": HYDRATION_IMAGE,
                            "command": ["/bin/sh", "-c", HYDRATION_SCRIPT],
                            "env": env,
                            "volumeMounts": [{"name": "artifact", "mountPath": ARTIFACT_MOUNT}],
                        }
                    ],
                    "volumes": [{"name": "artifact", "persistentVolumeClaim": {"claimName": pvc}}],
                },
            },
        },
    }


def token_secret(*, name: str, namespace: str, labels: Mapping[str, str]) -> dict[str, Any]:
    """The Secret the Job reads its Hugging Face token from, on one workload cluster.

    It carries no value: the token is never written into a composed object
    (where anyone who can read managed resources, or a render, would see it).
    provider-kubernetes copies it from the user's Secret when it applies the
    manifest; see :func:`token_reference`.
    """
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
        "type": "Opaque",
    }


def token_reference(*, secret: str, namespace: str, key: str) -> dict[str, Any]:
    """A provider-kubernetes reference filling :func:`token_secret` from the user's Secret.

    ``patchesFrom`` reads ``data[key]`` of Secret ``namespace/secret`` on the
    control cluster each time the provider applies the manifest, so the copy
    follows a rotated token. The key is bracketed and quoted: Secret keys may
    hold dots, and an all-digit key would otherwise read as a list index.
    """
    field = f"data['{key}']"
    return {
        "patchesFrom": {
            "apiVersion": "v1",
            "kind": "Secret",
            "name": secret,
            "namespace": namespace,
            "fieldPath": field,
        },
        "toFieldPath": field,
    }
