"""One CompositeResourceDefinition per kind, generated from the API types.

Everything here comes from the kind's class — its ``kind_info`` (group,
version, plural, scope, short names, categories, printer columns, scale
subresource) and :func:`modelplane_core.api.openapi_schema` (the schema, with
defaults, limits and CEL rules) — so the API a cluster serves cannot drift from
the one the core decodes, validates and composes.

XRDs are ``apiextensions.crossplane.io/v2``: Namespaced or Cluster scoped
composites without claims, with Crossplane's own fields under
``spec.crossplane``. The scale subresource on ModelDeployment needs Crossplane
v2.3 or later, which the package's ``crossplane.version`` constraint states.
"""

from __future__ import annotations

from typing import Any, Final

from modelplane_core import api

XRD_API_VERSION: Final = "apiextensions.crossplane.io/v2"


def xrd_name(cls: type[api.Resource]) -> str:
    """``<plural>.<group>``: the name Kubernetes requires for the CRD Crossplane generates."""
    info = cls.kind_info
    return f"{info.plural}.{info.group}"


def xrd_for(cls: type[api.Resource]) -> dict[str, Any]:
    """The XRD of ``cls``; its default composition is the one of the same name."""
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
    version: dict[str, Any] = {"name": info.version, "served": True, "referenceable": True}
    if info.printer_columns:
        version["additionalPrinterColumns"] = [
            {"name": column.name, "type": column.type, "jsonPath": column.json_path}
            for column in info.printer_columns
        ]
    if info.scale is not None:
        spec_path, status_path = info.scale
        # No labelSelectorPath: the replicas' pods run on remote workload clusters,
        # so no HorizontalPodAutoscaler here could select them; scale by kubectl or
        # external metrics (KEDA) instead.
        version["subresources"] = {
            "scale": {"specReplicasPath": spec_path, "statusReplicasPath": status_path}
        }
    version["schema"] = {"openAPIV3Schema": api.openapi_schema(cls)}
    return {
        "apiVersion": XRD_API_VERSION,
        "kind": "CompositeResourceDefinition",
        "metadata": {"name": xrd_name(cls)},
        "spec": {
            "group": info.group,
            "names": names,
            "scope": info.scope,
            "defaultCompositionRef": {"name": xrd_name(cls)},
            "versions": [version],
        },
    }
