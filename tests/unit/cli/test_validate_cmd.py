"""``modelplane validate``: output format and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modelplane_adapters.cli.main import main

GOOD = """\
apiVersion: modelplane.ai/v1alpha1
kind: ModelEndpoint
metadata: {name: together, namespace: ml-team}
spec: {url: "https://api.together.xyz/", rewritePath: /}
---
apiVersion: v1
kind: Namespace
metadata: {name: ml-team}
"""

BAD = """\
apiVersion: modelplane.ai/v1alpha1
kind: ModelService
metadata: {name: qwen, namespace: ml-team}
spec:
  endpoints:
  - selector: {matchLabels: {}}
    weight: 0
---
apiVersion: modelplane.ai/v1alpha1
kind: InferenceCluster
metadata: {name: c1}
spec:
  cluster: {source: EKS}
  nodePools: [{name: gpu, className: l4, nodeCount: "2"}]
"""


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_valid_files_exit_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", write(tmp_path, "good.yaml", GOOD)]) == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert err == "1 Modelplane objects checked, 1 of other API groups skipped: all valid\n"


def test_problems_are_listed_per_object_and_exit_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "bad.yaml", BAD)
    assert main(["validate", path]) == 1
    out, _ = capsys.readouterr()
    assert out.splitlines() == [
        f"{path}: ModelService ml-team/qwen: spec.endpoints[0].weight: must be at least 1 (got 0)",
        f"{path}: ModelService ml-team/qwen: spec.endpoints[0].selector.matchLabels: "
        "selector.matchLabels must name at least one label; an empty selector would route to "
        "every endpoint in the namespace",
        f"{path}: InferenceCluster c1: spec.nodePools[0].nodeCount: expected an integer, "
        "got string '2'",
    ]


def test_json_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "bad.yaml", BAD)
    assert main(["validate", "-o", "json", path]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is False
    assert [o["object"] for o in report["objects"]] == [
        "ModelService ml-team/qwen",
        "InferenceCluster c1",
    ]
    assert report["objects"][1]["line"] == 9


def test_unreadable_files_and_yaml_syntax_errors_exit_two(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = write(tmp_path, "broken.yaml", "spec:\n  a: [1,\n")
    assert main(["validate", broken]) == 2
    assert capsys.readouterr().err.startswith(f"{broken}:3:1: YAML syntax error: ")
    assert main(["validate", str(tmp_path / "missing.yaml")]) == 2
    assert "cannot read: No such file or directory" in capsys.readouterr().err


def test_demo_fleet_is_valid(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--demo"]) == 0
    assert "all valid" in capsys.readouterr().err


def test_no_files_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate"]) == 2
    assert "give one or more FILEs" in capsys.readouterr().err


CLASS_WITH_BAD_VERSION = """\
apiVersion: modelplane.ai/v1alpha1
kind: InferenceClass
metadata: {name: h100}
spec:
  devices:
  - name: gpu
    driver: gpu.nvidia.com
    deviceClassName: gpu.nvidia.com
    attributes:
      driverVersion: {version: "1.0.0-"}
"""

DEPLOYMENT_WITH_SELECTOR = """\
apiVersion: modelplane.ai/v1alpha1
kind: ModelDeployment
metadata: {{name: qwen, namespace: ml-team}}
spec:
  replicas: 1
  engines:
  - name: qwen
    members:
    - role: Standalone
      nodeSelector:
        devices:
        - name: gpu
          selectors: [{{cel: '{cel}'}}]
      template:
        spec:
          containers: [{{name: engine, image: vllm/vllm-openai:v0.23.0}}]
"""


def test_the_checks_composers_make_are_run_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Both pass the API schema; the composers refuse them (DRA semver, CEL compilation).
    version = write(tmp_path, "class.yaml", CLASS_WITH_BAD_VERSION)
    assert main(["validate", version]) == 1
    out = capsys.readouterr().out
    assert "spec.devices[0].attributes[driverVersion].version: invalid version '1.0.0-'" in out
    selector = write(
        tmp_path, "deployment.yaml", DEPLOYMENT_WITH_SELECTOR.format(cel="device.driver ==")
    )
    assert main(["validate", selector]) == 1
    out = capsys.readouterr().out
    assert (
        "spec.engines[0].members[0].nodeSelector.devices[0].selectors[0].cel: syntax error" in out
    )
    fine = write(tmp_path, "fine.yaml", DEPLOYMENT_WITH_SELECTOR.format(cel='device.driver == "a"'))
    assert main(["validate", fine]) == 0


CLOUD_CLUSTERS = """\
apiVersion: infrastructure.modelplane.ai/v1alpha1
kind: AKSCluster
metadata: {name: aks, namespace: modelplane-system}
spec:
  location: westeurope
  networking: {vnetCidr: 10.0.0.0/16, subnetCidr: 10.9.0.0/20}
  nodePools:
  - {name: system, role: System, vmSize: Standard_D4s_v5, nodeCount: 1, minNodeCount: 1,
     maxNodeCount: 2}
  - {name: a100, role: GPU, vmSize: Standard_NC24ads_A100_v4, nodeCount: 5, minNodeCount: 1,
     maxNodeCount: 4, gpu: {acceleratorType: nvidia-a100}}
---
apiVersion: infrastructure.modelplane.ai/v1alpha1
kind: VultrCluster
metadata: {name: vke, namespace: modelplane-system}
spec:
  region: ewr
  nodePools:
  - {name: l40s, role: GPU, plan: vcg-l40s-16c-180g-48vram, nodeCount: 3, maxNodeCount: 2,
     gpu: {acceleratorType: nvidia-l40s}}
"""


def test_the_cloud_composers_checks_are_run_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Networks and pool sizes the API accepts but a cloud composer would not build."""
    path = write(tmp_path, "clusters.yaml", CLOUD_CLUSTERS)
    assert main(["validate", path]) == 1
    out = capsys.readouterr().out
    assert "spec.networking.subnetCidr: 10.9.0.0/20 is not inside vnetCidr 10.0.0.0/16" in out
    assert (
        "spec.nodePools[1].nodeCount: 5 must lie between minNodeCount 1 and maxNodeCount 4" in out
    )
    assert "VultrCluster modelplane-system/vke: spec.nodePools[0].nodeCount: 3 exceeds" in out


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("", "the input has no YAML documents"),
        ("# only a comment\n---\n", "the input has no YAML documents"),
        ("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n", "1 documents, all of other"),
    ],
)
def test_nothing_to_validate_is_not_all_valid(
    text: str, said: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "input.yaml", text)
    assert main(["validate", path]) == 1
    err = capsys.readouterr().err
    assert f"no Modelplane objects in {path}: {said}" in err
    assert "all valid" not in err
    assert main(["validate", "-o", "json", path]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is False
    assert said in report["error"]
