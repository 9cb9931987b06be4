"""The reference's v0.3 recipes, run here unchanged: validate, schedule and render.

The inputs under ``inputs/v03/`` are our own manifests, written to use every
construct of the reference's published examples in the same shape: a local
fleet of two declared-capacity mock GPU classes on an existing cluster with a
deployment in the seeds' layout, and a two-node Leader/Worker gang in the v0.3
``spec.template`` layout claiming GPUs and EFA interfaces and joining through
``$(MODELPLANE_RANK)`` and ``$(MODELPLANE_LEADER_ADDRESS)``; and three
provisioned clouds (AKS, Vultr, Nebius) from class recipes, with the cloud
composites written by hand beside them, and a cached deployment that device
capacity alone places.

Each scenario must validate with no problem, schedule onto the pool the
example says it lands on, and render through every composer (the deployment,
its replica's workloads, its endpoint and the service); the rendered objects
are the goldens ``ml/deployment-v03-*``, ``ml/replica-v03-*`` and
``schedule/v03-*``. Review them by eye.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from modelplane_adapters.cli.main import main
from modelplane_core import api
from modelplane_core.api.deployment_layout import layout_of
from tests.golden.test_ml_deployments import published, serve
from tests.golden_support import assert_golden

INPUTS = Path(__file__).resolve().parent / "inputs" / "v03"
GATEWAY_ADDRESS = {
    "local-mock-gpus": "172.18.255.200",
    "gang-template": "a1b2.elb.amazonaws.com",
    "clouds": "20.61.0.10",
}


def objects(scenario: str) -> list[Any]:
    found: list[Any] = []
    for path in sorted((INPUTS / scenario).glob("*.yaml")):
        found.extend(api.load_yaml(path.read_text()))
    return found


def files(scenario: str) -> list[str]:
    return [str(p) for p in sorted((INPUTS / scenario).glob("*.yaml"))]


@pytest.mark.parametrize("scenario", sorted(GATEWAY_ADDRESS))
def test_every_manifest_validates_unchanged(
    scenario: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", *files(scenario)]) == 0
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == (
        "",
        f"{len(objects(scenario))} Modelplane objects checked: all valid\n",
    )


@pytest.mark.parametrize("scenario", sorted(GATEWAY_ADDRESS))
def test_the_deployment_schedules_where_the_example_says(
    scenario: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["schedule", "--explain", *files(scenario)]) == 0
    assert_golden(f"schedule/v03-{scenario}", capsys.readouterr().out)


@pytest.mark.parametrize("scenario", sorted(GATEWAY_ADDRESS))
def test_the_deployment_renders_through_every_composer(scenario: str) -> None:
    found = objects(scenario)
    classes = [o for o in found if isinstance(o, api.InferenceClass)]
    clusters = [o for o in found if isinstance(o, api.InferenceCluster)]
    (deployment,) = [o for o in found if isinstance(o, api.ModelDeployment)]
    (service,) = [o for o in found if isinstance(o, api.ModelService)]
    caches = [api.to_dict(o) for o in found if isinstance(o, api.ModelCache)]
    fleet = [published(c, classes, GATEWAY_ADDRESS[scenario]) for c in clusters]
    serve(f"v03-{scenario}", deployment, service, fleet, *caches)


def test_the_gang_keeps_the_v03_layout_and_is_told_its_rank() -> None:
    (deployment,) = [o for o in objects("gang-template") if isinstance(o, api.ModelDeployment)]
    assert deployment.layout == "template"
    assert layout_of(api.to_dict(deployment)) == "template"
    assert deployment.spec.model_cache_ref == api.ModelCacheRef(name="big-coder")
