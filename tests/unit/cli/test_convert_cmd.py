"""``modelplane convert``: ModelDeployments between the seeds' and the v0.3 layout."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from modelplane_adapters.cli.main import main
from modelplane_core import api

TEMPLATE = """\
apiVersion: v1
kind: Namespace
metadata: {name: ml-team}
---
apiVersion: modelplane.ai/v1alpha1
kind: ModelDeployment
metadata: {name: glm-air, namespace: ml-team}
spec:
  replicas: 1
  template:
    metadata:
      labels: {tier: prod}
    spec:
      clusterSelector: {matchLabels: {modelplane.ai/region: us}}
      engines:
      - name: glm
        members:
        - nodeSelector:
            devices:
            - name: gpu
              selectors: [{cel: 'device.driver == "gpu.nvidia.com"'}]
          template:
            spec:
              containers: [{name: engine, image: ghcr.io/ggml-org/llama.cpp:server-cuda}]
"""


def run(
    tmp_path: Path, text: str, *args: str, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    path = tmp_path / "in.yaml"
    path.write_text(text)
    code = main(["convert", str(path), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_converts_to_the_seeds_layout_moving_fields_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(tmp_path, TEMPLATE, "--to", "engines", capsys=capsys)
    assert (code, err) == (0, "")
    namespace, deployment = yaml.safe_load_all(out)
    assert namespace == {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ml-team"}}
    spec = deployment["spec"]
    assert list(spec) == ["replicas", "clusterSelector", "replicaLabels", "engines"]
    assert spec["replicaLabels"] == {"tier": "prod"}
    # Nothing the user did not write appears (no defaults such as role or count).
    assert spec["engines"][0]["members"][0].keys() == {"nodeSelector", "template"}


def test_converting_there_and_back_gives_the_original(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, seeds, _ = run(tmp_path, TEMPLATE, "--to", "engines", capsys=capsys)
    code, back, _ = run(tmp_path, seeds, "--to", "template", capsys=capsys)
    assert code == 0
    assert list(yaml.safe_load_all(back)) == list(yaml.safe_load_all(TEMPLATE))
    # Converting to the layout a document already has changes nothing.
    _, same, _ = run(tmp_path, TEMPLATE, "--to", "template", capsys=capsys)
    assert list(yaml.safe_load_all(same)) == list(yaml.safe_load_all(TEMPLATE))
    assert api.load_yaml(back)[1] == api.load_yaml(seeds)[1]


def test_an_invalid_deployment_prints_nothing_and_names_every_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = TEMPLATE.replace("labels: {tier: prod}", "labels: {modelplane.ai/x: y}").replace(
        "replicas: 1", "replicas: 0"
    )
    code, out, err = run(tmp_path, bad, "--to", "engines", capsys=capsys)
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        f"{tmp_path / 'in.yaml'}:5: ModelDeployment ml-team/glm-air: spec.replicas: must be at "
        "least 1 (got 0)",
        f"{tmp_path / 'in.yaml'}:5: ModelDeployment ml-team/glm-air: "
        "spec.template.metadata.labels[modelplane.ai/x]: label keys must not use the reserved "
        "modelplane.ai/ prefix",
    ]


def test_unreadable_input_and_a_missing_layout_are_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["convert", str(tmp_path / "absent.yaml"), "--to", "engines"]) == 2
    assert "cannot read" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["convert", str(tmp_path / "absent.yaml")])
    assert exit_info.value.code == 2
