"""Golden fleet dry runs: every documented ModelDeployment scheduled against its folder's platform.

Each case runs ``modelplane schedule --explain`` on the documentation manifests
(platform files first, deployments last, in the order the tour applies them)
and keeps both what a person reads (the table and explanations) and the JSON
report (placements with resolved device requests, reasons), minus timing and
memo statistics.
Read them by eye: they say where the seeds' deployments land and why not.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modelplane_adapters.cli.main import main
from tests.golden_support import as_yaml, assert_golden
from tests.support import shared_path

CASES = {
    # The getting-started tour: one L4 cluster first, then two A100 regions and a pinned deployment.
    "gke-tour-start": [
        "getting-started/gke/platform.yaml",
        "getting-started/gke/model-deployment.yaml",
    ],
    "gke-tour-scaled": [
        "getting-started/gke/platform.yaml",
        "getting-started/gke/platform-scale.yaml",
        "getting-started/gke/model-deployment.yaml",
        "getting-started/gke/model-deployment-west.yaml",
    ],
    "eks-tour-start": [
        "getting-started/eks/platform.yaml",
        "getting-started/eks/model-deployment.yaml",
    ],
    "eks-tour-scaled": [
        "getting-started/eks/platform.yaml",
        "getting-started/eks/platform-scale.yaml",
        "getting-started/eks/model-deployment.yaml",
        "getting-started/eks/model-deployment-west.yaml",
    ],
    "concepts": [
        "concepts/inference-class-eks-l4.yaml",
        "concepts/inference-class-gke-l4.yaml",
        "concepts/inference-class-h100-byo.yaml",
        "concepts/inference-class-nebius-h100.yaml",
        "concepts/inference-cluster-eks.yaml",
        "concepts/inference-cluster-existing.yaml",
        "concepts/inference-cluster-gke.yaml",
        "concepts/inference-cluster-nebius.yaml",
        "concepts/model-cache.yaml",
        "concepts/model-deployment.yaml",
        "concepts/model-deployment-multinode.yaml",
    ],
    "reference": [
        "reference/inferenceclasses.yaml",
        "reference/inferenceclusters.yaml",
        "reference/modelcaches.yaml",
        "reference/modelreplicas.yaml",
        "reference/modeldeployments.yaml",
    ],
    "overview-without-a-fleet": ["overview/model-deployment.yaml"],
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_documented_deployments_schedule_as_expected(
    case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    files = [str(shared_path("examples", *Path(f).parts)) for f in CASES[case]]
    table_status = main(["schedule", "--explain", *files])
    table = capsys.readouterr().out
    json_status = main(["schedule", "-o", "json", *files])
    report = json.loads(capsys.readouterr().out)
    assert table_status == json_status
    # Timing, and CEL memo misses (the memo outlives one run), vary between runs.
    assert report["stats"].pop("seconds") >= 0
    assert report["stats"].pop("celEvaluations") >= 0
    assert_golden(
        f"schedule/{case}",
        as_yaml({"exitStatus": table_status, "table": table}, report),
    )
