"""Validate composed manifests against the real schemas, for any kind a composer emits.

* Built-in Kubernetes kinds: the ``kubernetes-validate`` package in strict mode
  (unknown fields are errors), Kubernetes 1.35.
* CRD kinds (LeaderWorkerSet, Gateway API, InferencePool, provider-kubernetes,
  provider-helm, Crossplane, KEDA): the upstream CRDs in ``../shared/schemas``
  with ``jsonschema``; unknown fields are reported too, since the API server
  would silently prune them and hide a bug.
* Modelplane kinds: the schemas this project exports (``api.openapi_schema``)
  and ``api.validate``.
* A provider-kubernetes ``Object`` is validated itself and so is the manifest it
  wraps, recursively.

Usage: ``assert validate_manifest(m) == []`` (skips when ../shared is absent).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

from modelplane_core import api
from tests.support import shared_path

KUBERNETES_VERSION = "1.35.0"
WRAPPER_KINDS = {("kubernetes.m.crossplane.io", "Object"), ("kubernetes.crossplane.io", "Object")}


@functools.cache
def _crd_index(root: Path) -> dict[tuple[str, str, str], dict[str, Any]]:
    index: dict[tuple[str, str, str], dict[str, Any]] = {}
    for path in sorted(root.rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if not isinstance(doc, dict) or doc.get("kind") != "CustomResourceDefinition":
                continue
            group = doc["spec"]["group"]
            kind = doc["spec"]["names"]["kind"]
            for version in doc["spec"]["versions"]:
                index[(group, version["name"], kind)] = version["schema"]["openAPIV3Schema"]
    return index


def crd_schema(api_version: str, kind: str) -> dict[str, Any] | None:
    group, _, version = api_version.rpartition("/")
    return _crd_index(shared_path("schemas")).get((group, version, kind))


def validate_manifest(manifest: Mapping[str, Any]) -> list[str]:
    """Every schema problem of ``manifest`` (and of anything it wraps), as readable strings."""
    return list(_problems(manifest, ""))


def _problems(manifest: Mapping[str, Any], where: str) -> Iterator[str]:
    api_version = str(manifest.get("apiVersion", ""))
    kind = str(manifest.get("kind", ""))
    label = f"{where}{kind or '<no kind>'}"
    group = api_version.rpartition("/")[0]
    if api.kind_class(api_version, kind) is not None:
        try:
            obj = api.from_dict(dict(manifest))
        except api.ValidationError as exc:
            yield from (f"{label}: {e}" for e in exc.errors)
            return
        yield from (f"{label}: {e}" for e in api.validate(obj))
        return
    schema = crd_schema(api_version, kind)
    if schema is not None:
        yield from _crd_problems(manifest, schema, label)
    else:
        try:
            kubernetes_validate.validate(dict(manifest), KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(p) for p in exc.path)
            yield f"{label}: {path}: {exc.message}"
        except kubernetes_validate.SchemaNotFoundError:
            yield f"{label}: no schema known for {api_version} {kind}"
    if (group, kind) in WRAPPER_KINDS:
        inner = manifest.get("spec", {}).get("forProvider", {}).get("manifest")
        if isinstance(inner, Mapping):
            yield from _problems(inner, f"{label} > ")


def _crd_problems(manifest: Mapping[str, Any], schema: dict[str, Any], label: str) -> Iterator[str]:
    body = {k: v for k, v in manifest.items() if k not in ("apiVersion", "kind", "metadata")}
    strict = _strict(schema)
    top = dict(strict)
    top_props = dict(top.get("properties", {}))
    for key in ("apiVersion", "kind", "metadata"):
        top_props.pop(key, None)
    top["properties"] = top_props
    validator = jsonschema.Draft7Validator(top)
    for error in sorted(validator.iter_errors(body), key=lambda e: list(e.path)):
        path = ".".join(str(p) for p in error.absolute_path)
        yield f"{label}: {path}: {error.message}"
    metadata = manifest.get("metadata")
    if metadata is not None and not isinstance(metadata, Mapping):
        yield f"{label}: metadata: must be an object"


def _strict(schema: Any) -> Any:
    """Forbid properties a structural schema does not declare (the server would prune them)."""
    if isinstance(schema, list):
        return [_strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _strict(v) for k, v in schema.items()}
    if (
        out.get("type") == "object"
        and "properties" in out
        and "additionalProperties" not in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out
