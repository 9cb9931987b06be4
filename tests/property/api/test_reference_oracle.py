"""The reference oracle itself: it must reject what the reference's API server rejects.

A differential test is only as good as its oracle; these cases pin each step
of the API server's handling that ``reference_xrd`` models.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.property.api.reference_xrd import _rule_errors, reference_problems

CEL = 'device.capacity["gpu.nvidia.com"].memory.compareTo(quantity("20Gi")) >= 0'


def deployment(**spec: Any) -> dict[str, Any]:
    member = {
        "nodeSelector": {"devices": [{"name": "gpu", "selectors": [{"cel": CEL}]}]},
        "template": {"spec": {"containers": [{"name": "engine", "image": "vllm"}]}},
    }
    return {
        "apiVersion": "modelplane.ai/v1alpha1",
        "kind": "ModelDeployment",
        "metadata": {"name": "qwen", "namespace": "ml-team"},
        "spec": {"replicas": 1, "engines": [{"name": "qwen", "members": [member]}]} | spec,
    }


def problems(manifest: dict[str, Any]) -> list[str]:
    return [str(r) for r in reference_problems(manifest)]


def test_defaults_apply_before_rules() -> None:
    # The member has no role; the shape rule reads members[0].role, which the
    # server defaults to Standalone before any rule runs.
    assert problems(deployment()) == []


def test_bounds_and_types_are_checked() -> None:
    assert problems(deployment(replicas=11)) == [
        "spec.replicas: 11 is greater than the maximum of 10"
    ]
    assert problems(deployment(replicas="1")) == ["spec.replicas: '1' is not of type 'integer'"]
    assert problems(deployment(replicas=2.0)) == []  # an integral number is an integer


def test_unknown_fields_are_rejected_as_with_strict_field_validation() -> None:
    assert problems(deployment(replicaz=1)) == ["spec.replicaz: unknown field"]
    manifest = deployment()
    manifest["spec"]["engines"][0]["members"][0]["nodeSelectr"] = {}
    assert problems(manifest) == ["spec.engines[0].members[0].nodeSelectr: unknown field"]


def test_nulls_are_pruned_then_defaulted() -> None:
    manifest = deployment(serving=None)
    manifest["spec"]["engines"][0]["copies"] = None  # pruned, then defaulted to 1
    assert problems(manifest) == []
    assert problems(deployment(replicas=None)) == ["spec: 'replicas' is a required property"]


def test_cel_rules_run_on_the_node_they_are_attached_to() -> None:
    manifest = deployment(serving={"mode": "PrefillDecode"})
    assert problems(manifest) == [
        "spec: PrefillDecode serving requires exactly two engines (one Prefill, one Decode)",
        "spec: PrefillDecode serving requires exactly one engine with phase Prefill",
        "spec: PrefillDecode serving requires exactly one engine with phase Decode",
    ]
    manifest = deployment()
    manifest["spec"]["engines"][0]["members"][0]["worker"] = {"nodes": 1}
    assert problems(manifest) == [
        "spec.engines[0].members[0]: worker may only be set on a Worker member"
    ]


def test_list_map_keys_must_be_unique() -> None:
    manifest = deployment()
    manifest["spec"]["engines"].append(copy.deepcopy(manifest["spec"]["engines"][0]))
    assert problems(manifest) == ["spec.engines[1]: Duplicate value"]


def test_integers_must_fit_int64() -> None:
    cluster = {
        "apiVersion": "modelplane.ai/v1alpha1",
        "kind": "InferenceCluster",
        "metadata": {"name": "c"},
        "spec": {
            "cluster": {"source": "Existing", "existing": {"secretRef": {"name": "kc"}}},
            "nodePools": [{"name": "gpu", "className": "l4", "nodeCount": 2**63}],
        },
    }
    assert problems(cluster) == ["spec.nodePools[0].nodeCount: integer out of the int64 range"]


def test_only_spec_and_status_are_the_xrd_s() -> None:
    manifest = deployment()
    manifest["metadata"] = {"name": "Not A DNS Name!"}  # ObjectMeta is not the XRD's to check
    assert problems(manifest) == []
    assert problems(manifest | {"extra": 1}) == ["extra: unknown field"]
    assert problems({"apiVersion": "modelplane.ai/v1alpha1", "kind": "Nope"}) == [
        "kind: the reference serves no such kind"
    ]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"a": 1}, ["root: a must be 2"]),
        ({"a": 2}, []),
    ],
)
def test_transition_rules_are_skipped_and_errors_fail_a_rule(
    data: dict[str, Any], expected: list[str]
) -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"type": "integer"}},
        "x-kubernetes-validations": [
            {"rule": "self.a == oldSelf.a", "message": "a is immutable"},
            {"rule": "self.a == 2", "message": "a must be 2"},
        ],
    }
    assert [str(e) for e in _rule_errors(data, schema, "root")] == expected
    # A rule that cannot evaluate (a missing field read without has()) fails.
    failing = {"type": "object", "x-kubernetes-validations": [{"rule": "self.b == 1"}]}
    assert [str(e) for e in _rule_errors({}, failing, "root")] == ["root: failed rule: self.b == 1"]
