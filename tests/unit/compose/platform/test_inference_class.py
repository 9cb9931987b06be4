"""InferenceClass: the device contract is checked where it is written."""

from __future__ import annotations

import attrs
import pytest

from modelplane_core import api
from modelplane_core.compose import inference_class
from modelplane_core.compose.composition import Observed
from modelplane_core.compose.platform.device_contract import (
    class_problems,
    device_problems,
    quantity_problem,
    semver_problem,
)
from tests.unit.compose.platform.fixtures import (
    condition_of,
    example,
    gpu_device,
)
from tests.unit.compose.platform.fixtures import (
    inference_class as make_class,
)


@pytest.mark.parametrize(
    "value", ["81559Mi", "80Gi", "1.5T", "100", "0.5", ".5", "+1Ki", "1e3", "2E-2", "500m", "12n"]
)
def test_kubernetes_quantities_are_accepted(value: str) -> None:
    assert quantity_problem(value) is None


@pytest.mark.parametrize("value", ["80 GB", "80GB", "Gi", "", "1.2.3", "80gi", "1Kib", "e3"])
def test_malformed_quantities_are_named(value: str) -> None:
    problem = quantity_problem(value)
    assert problem is not None
    assert repr(value) in problem


def test_a_negative_capacity_is_rejected() -> None:
    assert "negative" in (quantity_problem("-1Gi") or "")


@pytest.mark.parametrize("value", ["9.0.0", "0.1.0", "1.2.3-rc.1", "1.0.0+build.5", "10.20.30"])
def test_semantic_versions_are_accepted(value: str) -> None:
    assert semver_problem(value) is None


@pytest.mark.parametrize("value", ["9.0", "v9.0.0", "09.0.0", "9.0.0-", "", "9.0.0.0"])
def test_non_semver_versions_are_named(value: str) -> None:
    assert semver_problem(value) is not None


@pytest.mark.parametrize(
    "name", ["concepts/inference-class-gke-l4.yaml", "concepts/inference-class-h100-byo.yaml"]
)
def test_example_classes_are_accepted_and_ready(name: str) -> None:
    cls = example(*name.split("/"))
    composition = inference_class.compose(Observed(composite=cls))
    accepted = condition_of(composition, "Accepted")
    assert (accepted.status, accepted.reason) == ("True", "Available")
    assert composition.ready is True
    assert composition.resources == ()
    assert composition.events == ()
    for device in cls.spec.devices:
        assert device.name in (accepted.message or "")


def test_the_message_says_how_the_class_is_provisioned() -> None:
    byo = inference_class.compose(Observed(composite=make_class("byo")))
    gke = inference_class.compose(Observed(composite=make_class("gke", provider="GKE")))
    assert "no provisioning recipe" in (condition_of(byo, "Accepted").message or "")
    assert "provisions GKE" in (condition_of(gke, "Accepted").message or "")


def test_a_dra_device_without_device_class_is_rejected_with_its_path() -> None:
    cls = make_class("bad", devices=(gpu_device(device_class_name=None),))
    composition = inference_class.compose(Observed(composite=cls))
    accepted = condition_of(composition, "Accepted")
    assert (accepted.status, accepted.reason) == ("False", "InvalidClass")
    assert "spec.devices[0].deviceClassName" in (accepted.message or "")
    assert composition.ready is False
    assert [e.type for e in composition.events] == ["Warning"]


def test_a_synthetic_device_needs_no_device_class() -> None:
    nic = api.Device(name="nic", claim="Synthetic", driver="nic.nvidia.com", count=8)
    cls = make_class("ib", devices=(gpu_device(), nic))
    assert class_problems(cls) == []


def test_every_problem_is_reported_at_once() -> None:
    bad = gpu_device(
        device_class_name=None,
        capacity={"memory": api.DeviceCapacity(value="80 GB")},
        attributes={"cc": api.DeviceAttribute(version="9.0")},
    )
    paths = {p.path for p in class_problems(make_class("bad", devices=(bad,)))}
    assert paths == {
        "spec.devices[0].deviceClassName",
        "spec.devices[0].capacity[memory].value",
        "spec.devices[0].attributes[cc].version",
    }


def test_an_attribute_with_two_values_is_rejected() -> None:
    two = gpu_device(attributes={"arch": api.DeviceAttribute(string="Hopper", int=9)})
    problems = class_problems(make_class("two", devices=(two,)))
    assert any("exactly one of string, version, bool, int" in p.message for p in problems)


def test_a_provisioning_recipe_must_match_its_provider() -> None:
    cls = make_class("gke", provider="GKE")
    assert cls.spec.provisioning is not None
    wrong = attrs.evolve(
        cls,
        spec=attrs.evolve(
            cls.spec, provisioning=attrs.evolve(cls.spec.provisioning, provider="EKS")
        ),
    )
    problems = class_problems(wrong)
    assert [p.path for p in problems] == ["spec.provisioning.eks"]


def test_duplicate_device_names_are_reported_by_the_pool_contract() -> None:
    problems = device_problems((gpu_device(), gpu_device()))
    assert [p.path for p in problems] == ["spec.devices[1].name"]
    assert device_problems(()) != []
