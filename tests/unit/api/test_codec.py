"""The wire codec: strict scalars, wire paths, all errors at once, stable round trips."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from modelplane_core import api


def deployment(**spec_overrides: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "replicas": 1,
        "engines": [
            {
                "name": "qwen",
                "members": [
                    {
                        "role": "Standalone",
                        "nodeSelector": {
                            "devices": [
                                {"name": "gpu", "selectors": [{"cel": 'device.driver == "x"'}]}
                            ]
                        },
                        "template": {
                            "spec": {
                                "containers": [{"name": "engine", "image": "vllm/vllm-openai"}]
                            }
                        },
                    }
                ],
            }
        ],
    }
    spec.update(spec_overrides)
    return {
        "apiVersion": "modelplane.ai/v1alpha1",
        "kind": "ModelDeployment",
        "metadata": {"name": "qwen", "namespace": "ml-team"},
        "spec": spec,
    }


def errors_of(data: Any) -> list[tuple[str, str]]:
    with pytest.raises(api.ValidationError) as info:
        api.from_dict(data)
    return [(e.path, e.message) for e in info.value.errors]


def test_decodes_to_frozen_typed_objects_with_defaults() -> None:
    obj = api.from_dict(deployment())
    assert isinstance(obj, api.ModelDeployment)
    member = obj.spec.engines[0].members[0]
    assert (obj.spec.engines[0].copies, member.role, member.node_selector.devices[0].count) == (
        1,
        "Standalone",
        1,
    )
    with pytest.raises(AttributeError):
        obj.spec.replicas = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (2.5, "expected an integer, got number 2.5"),
        ("3", "expected an integer, got string '3'"),
        (True, "expected an integer, got boolean True"),
        (None, "expected an integer, got null"),
    ],
)
def test_integers_are_strict(value: Any, message: str) -> None:
    assert errors_of(deployment(replicas=value)) == [("spec.replicas", message)]


def test_integral_floats_are_exact_integers() -> None:
    # JSON and protobuf Struct cannot tell 2 from 2.0; nothing is lost converting it.
    obj = api.from_dict(deployment(replicas=2.0))
    assert obj.spec.replicas == 2
    assert isinstance(obj.spec.replicas, int)


def test_strings_are_strict() -> None:
    data = deployment()
    data["spec"]["engines"][0]["members"][0]["template"]["spec"]["containers"][0]["image"] = 3
    assert errors_of(data) == [
        (
            "spec.engines[0].members[0].template.spec.containers[0].image",
            "expected a string, got number 3",
        )
    ]


def test_a_string_is_not_a_list_and_a_list_is_not_an_object() -> None:
    data = deployment(engines="qwen")
    assert errors_of(data) == [("spec.engines", "expected an array, got string 'qwen'")]
    data = deployment(clusterSelector=["a"])
    assert errors_of(data) == [("spec.clusterSelector", "expected an object, got array")]


def test_enums_name_the_allowed_values() -> None:
    data = deployment()
    data["spec"]["engines"][0]["members"][0]["role"] = "Boss"
    assert errors_of(data) == [
        (
            "spec.engines[0].members[0].role",
            "unsupported value 'Boss': must be one of Standalone, Leader, Worker",
        )
    ]


def test_unknown_fields_are_rejected_with_their_path_and_the_allowed_ones() -> None:
    data = deployment()
    data["spec"]["engines"][0]["members"][0]["nodeSelectr"] = {}
    [(path, message)] = errors_of(data)
    assert path == "spec.engines[0].members[0].nodeSelectr"
    assert message.startswith("unknown field (allowed here: ")
    assert "nodeSelector" in message


def test_missing_required_fields_are_reported_at_their_path() -> None:
    data = deployment()
    del data["spec"]["engines"][0]["members"][0]["template"]["spec"]["containers"][0]["image"]
    del data["spec"]["replicas"]
    assert sorted(errors_of(data)) == [
        (
            "spec.engines[0].members[0].template.spec.containers[0].image",
            "required field is missing",
        ),
        ("spec.replicas", "required field is missing"),
    ]


def test_every_problem_is_reported_at_once() -> None:
    data = deployment(replicas="two", bogus=1, clusterSelector={"matchLabels": {"a": 1}})
    data["spec"]["engines"][0]["copies"] = 1.5
    paths = [path for path, _ in errors_of(data)]
    assert sorted(paths) == [
        "spec.bogus",
        "spec.clusterSelector.matchLabels[a]",
        "spec.engines[0].copies",
        "spec.replicas",
    ]


def test_dispatch_on_api_version_and_kind() -> None:
    assert errors_of({"kind": "ModelDeployment"}) == [("apiVersion", "required field is missing")]
    [(path, message)] = errors_of({"apiVersion": "modelplane.ai/v1alpha1", "kind": "ModelDeploy"})
    assert path == "kind"
    assert message.startswith(
        "unknown Modelplane kind 'ModelDeploy'; did you mean ModelDeployment? known kinds are "
    )
    assert errors_of({"apiVersion": "modelplane.ai/v2", "kind": "ModelDeployment"}) == [
        ("apiVersion", "ModelDeployment is served as modelplane.ai/v1alpha1, not modelplane.ai/v2")
    ]
    [(path, message)] = errors_of({"apiVersion": "v1", "kind": "Namespace"})
    assert "not a Modelplane kind" in message
    assert errors_of([1]) == [("", "a manifest must be an object, got list")]


def test_other_api_groups_decode_as_unstructured() -> None:
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ml-team"}}
    obj = api.decode(namespace)
    assert isinstance(obj, api.Unstructured)
    assert (obj.kind, obj.name, api.to_dict(obj), api.validate(obj)) == (
        "Namespace",
        "ml-team",
        namespace,
        [],
    )


def test_to_dict_omits_unset_optionals_and_round_trips() -> None:
    data = deployment()
    encoded = api.to_dict(api.from_dict(data))
    assert "status" not in encoded
    assert "clusterSelector" not in encoded["spec"]
    assert encoded["spec"]["engines"][0]["copies"] == 1  # defaults are written out
    assert api.from_dict(encoded) == api.from_dict(data)
    assert api.to_dict(api.from_dict(copy.deepcopy(encoded))) == encoded


def test_camel_case_on_the_wire_snake_case_in_python() -> None:
    data = {
        "apiVersion": "modelplane.ai/v1alpha1",
        "kind": "ModelCache",
        "metadata": {"name": "c", "namespace": "ml"},
        "spec": {"source": "HuggingFace", "huggingFace": {"repo": "a/b", "sizeGiB": 10}},
    }
    cache = api.from_dict(data)
    assert isinstance(cache, api.ModelCache)
    assert cache.spec.hugging_face is not None
    assert cache.spec.hugging_face.size_gib == 10
    assert api.to_dict(cache)["spec"]["huggingFace"]["sizeGiB"] == 10


def test_device_attributes_keep_their_wire_names() -> None:
    attribute = api.DeviceAttribute(int=3)
    assert (attribute.int, attribute.set_fields()) == (3, ["int"])
    assert api.to_dict(
        api.InferenceClass(
            metadata=api.ObjectMeta(name="c"),
            spec=api.InferenceClassSpec(
                devices=(
                    api.Device(
                        name="gpu",
                        driver="gpu.nvidia.com",
                        device_class_name="gpu.nvidia.com",
                        attributes={"cores": attribute, "mig": api.DeviceAttribute(bool=False)},
                    ),
                )
            ),
        )
    )["spec"]["devices"][0]["attributes"] == {"cores": {"int": 3}, "mig": {"bool": False}}


def test_null_means_unset_where_a_field_has_a_default_as_on_the_api_server() -> None:
    # The API server prunes such nulls and applies the default; so does the codec.
    data = deployment(serving=None, clusterSelector=None)
    engine = data["spec"]["engines"][0]
    engine.update(copies=None, phase=None)
    engine["members"][0].update(role=None, worker=None)
    engine["members"][0]["nodeSelector"]["devices"][0]["count"] = None
    obj = api.from_dict(data)
    assert isinstance(obj, api.ModelDeployment)
    member = obj.spec.engines[0].members[0]
    assert (obj.spec.engines[0].copies, obj.spec.engines[0].phase, member.role) == (
        1,
        None,
        "Standalone",
    )
    assert member.node_selector is not None
    assert member.node_selector.devices[0].count == 1
    assert (obj.spec.serving, obj.spec.cluster_selector) == (None, None)
    assert api.to_dict(obj) == api.to_dict(api.from_dict(deployment()))


def test_null_in_a_required_field_is_reported_as_the_wrong_type() -> None:
    data = deployment(replicas=None)
    data["spec"]["engines"][0]["members"][0]["template"]["spec"]["containers"][0]["image"] = None
    data["spec"]["engines"][0]["name"] = None
    assert errors_of(data) == [
        ("spec.replicas", "expected an integer, got null"),
        ("spec.engines[0].name", "expected a string, got null"),
        (
            "spec.engines[0].members[0].template.spec.containers[0].image",
            "expected a string, got null",
        ),
    ]


def test_null_map_entries_are_rejected_not_dropped() -> None:
    # Dropping a null selector entry would silently widen where a deployment may land.
    data = deployment(clusterSelector={"matchLabels": {"region": None}})
    assert errors_of(data) == [
        ("spec.clusterSelector.matchLabels[region]", "expected a string, got null")
    ]


def test_wrong_values_are_shown_briefly() -> None:
    data = deployment(replicas="x" * 200)
    [(path, message)] = errors_of(data)
    assert path == "spec.replicas"
    assert message.startswith("expected an integer, got string 'xxx")
    assert message.endswith("...")
    assert len(message) < 120


def test_non_string_keys_are_named_as_yaml_writes_them() -> None:
    # YAML keys need not be strings; an unknown one must be reported, not crash the sort.
    data = deployment()
    data["spec"].update({2: "x", None: "y", True: "z"})
    assert sorted(path for path, _ in errors_of(data)) == ["spec.2", "spec.null", "spec.true"]
