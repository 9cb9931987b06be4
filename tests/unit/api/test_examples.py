"""Every documentation manifest loads, validates clean and round-trips."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelplane_core import api
from tests.support import SHARED, shared_path


def example_files() -> list[Path]:
    root = SHARED / "examples"
    return sorted(root.rglob("*.yaml")) if root.exists() else []


@pytest.mark.parametrize(
    "path", example_files() or [None], ids=lambda p: str(p.relative_to(SHARED)) if p else "none"
)
def test_example_loads_validates_and_round_trips(path: Path | None) -> None:
    if path is None:
        shared_path("examples")  # skips with a reason on a fresh clone
        return
    objects = api.load_yaml(path.read_text())
    ours = [o for o in objects if not isinstance(o, api.Unstructured)]
    assert ours or objects, f"{path} holds no documents"
    for obj in ours:
        assert api.validate(obj) == [], f"{path}: {type(obj).__name__} {obj.metadata.name}"
        assert api.load_yaml(api.dump_yaml([obj])) == [obj]
        assert api.from_dict(api.to_dict(obj)) == obj


def test_examples_cover_every_seed_kind() -> None:
    shared_path("examples")
    kinds = {
        type(o).__name__
        for path in example_files()
        for o in api.load_yaml(path.read_text())
        if not isinstance(o, api.Unstructured)
    }
    assert {
        "ModelDeployment",
        "ModelReplica",
        "ModelService",
        "ModelEndpoint",
        "ModelCache",
        "InferenceClass",
        "InferenceCluster",
        "InferenceGateway",
        "ServingStack",
        "GKECluster",
        "EKSCluster",
    } <= kinds
