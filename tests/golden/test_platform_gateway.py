"""Golden InferenceGateway compositions for the example gateway."""

from __future__ import annotations

from modelplane_core import api
from modelplane_core.compose import inference_gateway
from modelplane_core.compose.composition import Observed
from tests.golden_support import as_yaml, assert_golden
from tests.unit.compose.platform.fixtures import converge, example, schema_problems


def test_example_gateway() -> None:
    gateway = example("concepts", "inference-gateway.yaml")
    first = inference_gateway.compose(Observed(composite=gateway))
    _, ready = converge(inference_gateway.compose, Observed(composite=gateway))
    assert schema_problems(first) == []
    assert schema_problems(ready) == []
    assert_golden("platform/gateway-first-pass", as_yaml(api.to_dict(gateway), first.to_dict()))
    assert_golden("platform/gateway-ready", as_yaml(ready.to_dict()))


def test_getting_started_gateway_composes_the_same() -> None:
    concepts = example("concepts", "inference-gateway.yaml")
    getting_started = example("getting-started", "inference-gateway.yaml")
    _, one = converge(inference_gateway.compose, Observed(composite=concepts))
    _, other = converge(inference_gateway.compose, Observed(composite=getting_started))
    assert one.to_dict() == other.to_dict()
