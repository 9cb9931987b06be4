"""The mutation strategies reach both sides of the boundaries the differential test probes.

A mutation strategy that only ever produced rejected manifests would make the
differential test pass without comparing anything interesting; these checks
find, for each domain strategy, an accepted and a rejected outcome.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, find, settings
from hypothesis import strategies as st

from modelplane_core import api
from tests.property.api.mutations import (
    minimal,
    roles_mutation,
    serving_mutation,
    sites,
    values_for,
)
from tests.property.api.reference_xrd import reference_accepts, reference_schema

CEL = 'device.capacity["gpu.nvidia.com"].memory.compareTo(quantity("20Gi")) >= 0'
BASE: dict[str, Any] = {
    "apiVersion": "modelplane.ai/v1alpha1",
    "kind": "ModelDeployment",
    "metadata": {"name": "qwen", "namespace": "ml-team"},
    "spec": {
        "replicas": 1,
        "engines": [
            {
                "name": "qwen",
                "members": [
                    {
                        "role": "Standalone",
                        "nodeSelector": {"devices": [{"name": "gpu", "selectors": [{"cel": CEL}]}]},
                        "template": {"spec": {"containers": [{"name": "engine", "image": "vllm"}]}},
                    }
                ],
            }
        ],
    },
}
SEARCH = settings(
    max_examples=2000, database=None, deadline=None, suppress_health_check=list(HealthCheck)
)


def we_accept(manifest: dict[str, Any]) -> bool:
    try:
        return api.validate(api.from_dict(manifest)) == []
    except api.ValidationError:
        return False


def outcome(
    strategy: Callable[[dict[str, Any]], st.SearchStrategy[str]],
) -> st.SearchStrategy[dict[str, Any]]:
    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        manifest = copy.deepcopy(BASE)
        draw(strategy(manifest))
        return manifest

    return build()


@pytest.mark.parametrize(
    ("strategy", "wanted"),
    [
        (serving_mutation, lambda m: m["spec"].get("serving", {}).get("mode") == "PrefillDecode"),
        (roles_mutation, lambda m: len(m["spec"]["engines"][0]["members"]) == 2),
    ],
)
def test_domain_strategies_produce_accepted_and_rejected_manifests(
    strategy: Callable[[dict[str, Any]], st.SearchStrategy[str]],
    wanted: Callable[[dict[str, Any]], bool],
) -> None:
    for accepted in (True, False):
        found = find(
            outcome(strategy),
            lambda m, a=accepted: wanted(m) and reference_accepts(m) == a == we_accept(m),
            settings=SEARCH,
        )
        assert wanted(found)


def test_sites_include_absent_optional_fields_and_values_cross_bounds() -> None:
    schema = reference_schema("modelplane.ai/v1alpha1", "ModelDeployment")
    assert schema is not None
    found = {s.path: s for s in sites(BASE["spec"], schema["properties"]["spec"], ("spec",))}
    assert found[("spec", "replicas")].present
    assert not found[("spec", "modelCacheRef")].present
    assert not found[("spec", "engines", 0, "members", 0, "worker")].present
    replicas = values_for(found[("spec", "replicas")].schema, 1)
    assert all(v in replicas for v in (0, 1, 10, 11, None, "3", 2.5))
    assert minimal(found[("spec", "engines", 0, "members", 0, "worker")].schema) == {"nodes": 1}
