"""``modelplane schedule``: a fleet dry run over manifests, its outputs and exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from modelplane_adapters.cli.main import main

PLATFORM = """\
apiVersion: modelplane.ai/v1alpha1
kind: InferenceClass
metadata: {name: h100}
spec:
  devices:
  - name: gpu
    driver: gpu.nvidia.com
    deviceClassName: gpu.nvidia.com
    count: 8
    capacity:
      memory: {value: 80Gi}
---
apiVersion: modelplane.ai/v1alpha1
kind: InferenceCluster
metadata:
  name: byo
  labels: {region: us-east}
spec:
  cluster:
    source: Existing
    existing:
      secretRef: {name: byo-kubeconfig}
  nodePools:
  - name: gpu-h100
    className: h100
    nodeCount: 1
"""

DOWN_CLUSTER = """\
apiVersion: modelplane.ai/v1alpha1
kind: InferenceCluster
metadata: {name: down}
spec:
  cluster:
    source: Existing
    existing:
      secretRef: {name: down-kubeconfig}
status:
  gateway: {address: 10.0.0.9}
  gpuPools:
  - name: gpu-h100
    nodes: 4
    devices:
    - name: gpu
      driver: gpu.nvidia.com
      deviceClassName: gpu.nvidia.com
      count: 8
      capacity:
        memory: {value: 80Gi}
  conditions:
  - {type: Ready, status: "False", reason: Unreachable}
"""


def deployment(name: str, replicas: int = 1, memory: str = "40Gi") -> str:
    return f"""\
apiVersion: modelplane.ai/v1alpha1
kind: ModelDeployment
metadata: {{name: {name}, namespace: ml-team}}
spec:
  replicas: {replicas}
  engines:
  - name: main
    members:
    - role: Standalone
      nodeSelector:
        devices:
        - name: gpu
          count: 1
          selectors:
          - cel: device.capacity["gpu.nvidia.com"].memory.compareTo(quantity("{memory}")) >= 0
      template:
        spec:
          containers:
          - name: engine
            image: vllm/vllm-openai:v0.23.0
"""


def write(tmp_path: Path, name: str, *documents: str) -> str:
    path = tmp_path / name
    path.write_text("---\n".join(documents))
    return str(path)


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    status = main(["schedule", "-o", "json", *args])
    return status, json.loads(capsys.readouterr().out)


def test_a_cluster_without_status_gets_its_pools_from_the_classes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = write(tmp_path, "fleet.yaml", PLATFORM, deployment("chat"))
    status, report = run_json(capsys, files)
    assert status == 0
    [placement] = report["placements"]
    assert (placement["deployment"], placement["cluster"], placement["index"]) == (
        "ml-team/chat",
        "byo",
        0,
    )
    [member] = placement["engines"][0]["members"]
    assert (member["role"], member["pool"], member["nodes"]) == ("Standalone", "gpu-h100", 1)
    assert member["deviceRequests"] == [
        {
            "name": "gpu",
            "count": 1,
            "deviceClassName": "gpu.nvidia.com",
            "selectors": [
                {"cel": 'device.capacity["gpu.nvidia.com"].memory.compareTo(quantity("40Gi")) >= 0'}
            ],
        }
    ]
    assert report["unscheduled"] == []
    assert {k: report["stats"][k] for k in ("deployments", "clusters", "wanted", "placed")} == {
        "deployments": 1,
        "clusters": 1,
        "wanted": 1,
        "placed": 1,
    }


def test_deployments_are_scheduled_in_document_order_each_seeing_the_last(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # One node: whichever deployment comes first takes it.
    files = write(tmp_path, "fleet.yaml", PLATFORM, deployment("first"), deployment("second"))
    status, report = run_json(capsys, files)
    assert status == 1
    assert [p["deployment"] for p in report["placements"]] == ["ml-team/first"]
    [short] = report["unscheduled"]
    assert (short["deployment"], short["wanted"], short["placed"]) == ("ml-team/second", 1, 0)
    assert short["summary"] == (
        "0/1 replicas scheduled; 0/1 clusters available: "
        "1 insufficient nodes in pool gpu-h100 (need 1, free 0)"
    )
    assert short["reasons"] == [
        {
            "cluster": "byo",
            "code": "InsufficientNodes",
            "message": "cluster 'byo': insufficient nodes in pool gpu-h100 (need 1, free 0)",
        }
    ]


def test_a_published_status_is_taken_as_observed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = write(tmp_path, "fleet.yaml", DOWN_CLUSTER, deployment("chat"))
    status, report = run_json(capsys, files)
    assert status == 1
    assert report["placements"] == []
    assert report["unscheduled"][0]["reasons"][0]["code"] == "NotReady"


def test_the_table_explains_every_cluster_not_chosen(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = write(tmp_path, "fleet.yaml", PLATFORM, DOWN_CLUSTER, deployment("big", memory="100Gi"))
    assert main(["schedule", "--explain", files]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        "ml-team/big: 0/1 replicas scheduled; 0/2 clusters available: "
        '1 no pool satisfies engine "main", 1 not ready',
        "  byo: no pool of cluster 'byo' satisfies engine \"main\": pool gpu-h100: member 0 "
        "(Standalone): request 'gpu' matched no device (selector #1 is false for device 'gpu')",
        "  down: cluster 'down' is not Ready",
    ]
    assert err.startswith("0/1 replicas of 1 deployments placed on 2 clusters in ")


def test_an_invalid_object_is_reported_and_nothing_is_scheduled(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = deployment("chat").replace("replicas: 1", "replicas: -1")
    files = write(tmp_path, "fleet.yaml", PLATFORM, bad)
    assert main(["schedule", files]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert f"{files}: ModelDeployment ml-team/chat: spec.replicas:" in err


@pytest.mark.parametrize(
    "args",
    [[], ["--synthetic", "10x10", "x.yaml"], ["--synthetic", "ten"], ["missing.yaml"]],
)
def test_bad_usage_and_unreadable_files_exit_two(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["schedule", *args]) == 2


def test_a_synthetic_fleet_is_reproducible(capsys: pytest.CaptureFixture[str]) -> None:
    first_status, first = run_json(capsys, "--synthetic", "12x15", "--seed", "4")
    second_status, second = run_json(capsys, "--synthetic", "12x15", "--seed", "4")
    _, other = run_json(capsys, "--synthetic", "12x15", "--seed", "5")
    for report in (first, second, other):
        assert report["stats"].pop("seconds") >= 0
        report["stats"].pop("celEvaluations")
    assert (first_status, first) == (second_status, second)
    assert first != other
    assert first["stats"]["clusters"] == 12
    assert first["stats"]["deployments"] == 15


def test_yaml_output_is_the_json_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = write(tmp_path, "fleet.yaml", PLATFORM, deployment("chat"))
    assert main(["schedule", "-o", "yaml", files]) == 0
    from_yaml = yaml.safe_load(capsys.readouterr().out)
    _, from_json = run_json(capsys, files)
    # Timing varies, and CEL evaluations count memo misses (the first run fills the memo).
    for report in (from_yaml, from_json):
        report["stats"].pop("seconds")
        report["stats"].pop("celEvaluations")
    assert from_yaml == from_json


def test_the_demo_fleet_schedules_completely(capsys: pytest.CaptureFixture[str]) -> None:
    status, report = run_json(capsys, "--demo")
    assert status == 0
    assert report["stats"]["wanted"] == report["stats"]["placed"] == 3
    assert report["unscheduled"] == []


def test_nothing_to_schedule_is_not_success(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    only_platform = write(tmp_path, "platform.yaml", PLATFORM)
    assert main(["schedule", only_platform]) == 1
    assert "nothing to schedule" in capsys.readouterr().err
    empty = write(tmp_path, "empty.yaml", "# nothing here\n")
    assert main(["schedule", empty]) == 1
    assert "no Modelplane objects and no ModelDeployment" in capsys.readouterr().err


def test_demo_and_synthetic_are_exclusive(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schedule", "--demo", "--synthetic", "2x2"]) == 2
    assert "not both" in capsys.readouterr().err
