"""Golden InferenceClass verdicts for the example classes."""

from __future__ import annotations

import pytest

from modelplane_core import api
from modelplane_core.compose import inference_class
from modelplane_core.compose.composition import Observed
from tests.golden_support import as_yaml, assert_golden
from tests.unit.compose.platform.fixtures import example

CLASSES = {
    "class-gke-l4": "inference-class-gke-l4.yaml",
    "class-eks-l4": "inference-class-eks-l4.yaml",
    "class-h100-byo": "inference-class-h100-byo.yaml",
    "class-nebius-h100": "inference-class-nebius-h100.yaml",
}


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_example_class(name: str) -> None:
    cls = example("concepts", CLASSES[name])
    composition = inference_class.compose(Observed(composite=cls))
    assert composition.ready is True
    assert_golden(f"platform/{name}", as_yaml(api.to_dict(cls), composition.to_dict()))
