"""ModelDeployment's two wire layouts: the seeds' (spec.engines) and v0.3's (spec.template)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from modelplane_core import api
from modelplane_core.api.deployment_layout import path_in_layout, read_layout, write_layout
from tests.property.api.reference_xrd import schema_problems

ENGINE: dict[str, Any] = {
    "name": "qwen",
    "members": [
        {
            "role": "Leader",
            "nodeSelector": {
                "devices": [{"name": "gpu", "count": 8, "selectors": [{"cel": "true"}]}]
            },
            "template": {"spec": {"containers": [{"name": "engine", "image": "vllm"}]}},
        },
        {
            "role": "Worker",
            "worker": {"nodes": 1},
            "template": {"spec": {"containers": [{"name": "engine", "image": "vllm"}]}},
        },
    ],
}


def seeds_layout() -> dict[str, Any]:
    return {
        "apiVersion": "modelplane.ai/v1alpha1",
        "kind": "ModelDeployment",
        "metadata": {"name": "qwen", "namespace": "ml-team"},
        "spec": {
            "replicas": 2,
            "clusterSelector": {"matchLabels": {"modelplane.ai/region": "us"}},
            "modelCacheRef": {"name": "weights"},
            "replicaLabels": {"tier": "prod"},
            "engines": [copy.deepcopy(ENGINE)],
        },
    }


def template_layout() -> dict[str, Any]:
    return {
        "apiVersion": "modelplane.ai/v1alpha1",
        "kind": "ModelDeployment",
        "metadata": {"name": "qwen", "namespace": "ml-team"},
        "spec": {
            "replicas": 2,
            "template": {
                "metadata": {"labels": {"tier": "prod"}},
                "spec": {
                    "clusterSelector": {"matchLabels": {"modelplane.ai/region": "us"}},
                    "modelCacheRef": {"name": "weights"},
                    "engines": [copy.deepcopy(ENGINE)],
                },
            },
        },
    }


def errors_of(manifest: dict[str, Any]) -> list[str]:
    try:
        obj = api.from_dict(manifest)
    except api.ValidationError as exc:
        return [str(e) for e in exc.errors]
    return [str(e) for e in api.validate(obj)]


def test_both_layouts_are_the_same_deployment_and_each_remembers_its_own() -> None:
    seeds = api.from_dict(seeds_layout())
    template = api.from_dict(template_layout())
    assert isinstance(template, api.ModelDeployment)
    assert isinstance(seeds, api.ModelDeployment)
    assert template == seeds
    assert template.spec.replica_labels == {"tier": "prod"}
    assert (seeds.layout, template.layout) == ("engines", "template")
    assert api.validate(template) == []


def test_each_layout_is_written_back_in_the_layout_it_was_read_in() -> None:
    template = api.to_dict(api.from_dict(template_layout()))
    assert set(template["spec"]) == {"replicas", "template"}
    assert template["spec"]["template"]["metadata"] == {"labels": {"tier": "prod"}}
    assert api.from_dict(template) == api.from_dict(seeds_layout())
    seeds = api.to_dict(api.from_dict(seeds_layout()))
    assert "template" not in seeds["spec"]
    assert seeds["spec"]["replicaLabels"] == {"tier": "prod"}


def test_conversion_moves_fields_and_adds_nothing() -> None:
    converted, layout = read_layout(template_layout())
    assert layout == "template"
    assert converted == seeds_layout()
    assert write_layout(seeds_layout(), "template") == template_layout()
    assert write_layout(seeds_layout(), "engines") == seeds_layout()


@pytest.mark.parametrize("stray", ["engines", "serving", "replicaLabels", "clusterSelector"])
def test_a_deployment_in_both_layouts_is_refused_at_spec_template(stray: str) -> None:
    manifest = template_layout()
    manifest["spec"][stray] = seeds_layout()["spec"].get(stray, {"mode": "Unified"})
    problems = errors_of(manifest)
    assert problems == [
        "spec.template: a ModelDeployment has one layout: set either spec.template (v0.3) or "
        f"spec.{stray} (the seeds' layout), not both"
    ]


def test_structural_errors_name_the_fields_as_written_in_the_template() -> None:
    manifest = template_layout()
    template = manifest["spec"]["template"]
    template["spec"]["engines"][0]["copies"] = "two"
    template["spec"]["serving"] = {"mode": "Split"}
    template["spec"]["replicas"] = 3
    template["metadata"]["annotations"] = {"a": "b"}
    problems = errors_of(manifest)
    assert sorted(problems) == [
        "spec.template.metadata.annotations: unknown field (allowed here: labels)",
        "spec.template.spec.replicas: unknown field (allowed here: clusterSelector, engines, "
        "modelCacheRef, serving, tolerations)",
    ]
    del template["spec"]["replicas"], template["metadata"]["annotations"]
    assert sorted(errors_of(manifest)) == [
        "spec.template.spec.engines[0].copies: expected an integer, got string 'two'",
        "spec.template.spec.serving.mode: unsupported value 'Split': must be one of Unified, "
        "PrefillDecode",
    ]


def test_semantic_errors_name_the_fields_as_written_in_the_template() -> None:
    manifest = template_layout()
    template = manifest["spec"]["template"]
    del template["spec"]["modelCacheRef"]
    template["spec"]["engines"][0]["phase"] = "Decode"
    template["metadata"]["labels"]["modelplane.ai/deployment"] = "other"
    assert errors_of(manifest) == [
        "spec.template.spec: engine phase may only be set when serving.mode is PrefillDecode",
        "spec.template.spec.modelCacheRef: a gang engine (a Leader with Workers) spans several "
        "nodes and requires spec.modelCacheRef, so every pod of the gang mounts the same weights",
        "spec.template.metadata.labels[modelplane.ai/deployment]: label keys must not use the "
        "reserved modelplane.ai/ prefix",
    ]


def test_a_template_without_engines_or_spec_is_refused_where_they_are_missing() -> None:
    manifest = template_layout()
    del manifest["spec"]["template"]["spec"]["engines"]
    assert errors_of(manifest) == ["spec.template.spec.engines: required field is missing"]
    del manifest["spec"]["template"]["spec"]
    assert errors_of(manifest) == ["spec.template.spec: required field is missing"]
    manifest["spec"]["template"] = ["not", "an", "object"]
    assert errors_of(manifest) == ["spec.template: expected an object, got array"]


@pytest.mark.parametrize(
    ("seeds", "template"),
    [
        ("spec", "spec.template.spec"),
        ("spec.replicas", "spec.replicas"),
        ("spec.engines", "spec.template.spec.engines"),
        ("spec.engines[0].name", "spec.template.spec.engines[0].name"),
        ("spec.replicaLabels[a]", "spec.template.metadata.labels[a]"),
        ("spec.servingX", "spec.servingX"),
        ("metadata.name", "metadata.name"),
    ],
)
def test_paths_translate_to_the_template_layout(seeds: str, template: str) -> None:
    assert path_in_layout(seeds, "template") == template
    assert path_in_layout(seeds, "engines") == seeds


def xrd() -> dict[str, Any]:
    return api.openapi_schema("ModelDeployment")


def test_the_xrd_serves_each_layout_and_refuses_a_mix_of_both() -> None:
    assert schema_problems(seeds_layout(), xrd()) == []
    assert schema_problems(template_layout(), xrd()) == []
    mixed = template_layout()
    mixed["spec"]["engines"] = [copy.deepcopy(ENGINE)]
    assert [p.message for p in schema_problems(mixed, xrd())] == [
        "set spec.engines (the seeds' layout) or spec.template.spec.engines (the v0.3 layout), "
        "exactly one",
        "a ModelDeployment has one layout: with spec.template set, clusterSelector, "
        "modelCacheRef, serving, tolerations, replicaLabels and engines belong under "
        "spec.template",
    ]


def test_the_xrd_applies_the_deployment_rules_inside_the_template() -> None:
    manifest = template_layout()
    del manifest["spec"]["template"]["spec"]["modelCacheRef"]
    manifest["spec"]["template"]["metadata"]["labels"] = {"modelplane.ai/x": "y"}
    problems = {(p.path, p.message) for p in schema_problems(manifest, xrd())}
    assert (
        "spec.template.metadata",
        "label keys must not use the reserved modelplane.ai/ prefix",
    ) in problems
    assert any(path == "spec.template.spec.modelCacheRef" for path, _ in problems)
