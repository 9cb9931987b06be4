"""``modelplane render`` on hand-written manifests: the README recipe and the demo fleet.

Hand-written InferenceClusters carry no status; render derives it from the
InferenceClasses given alongside, as ``modelplane schedule`` does, and says so.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from modelplane_adapters.cli.main import main
from modelplane_core import api
from modelplane_core.demo import fleet_yaml


def split_demo(tmp_path: Path) -> tuple[str, str]:
    """The demo's ModelDeployment chat in one file, the whole demo fleet in another."""
    documents = [d.data for d in api.parse_documents(fleet_yaml())]
    (chat,) = [
        d for d in documents if d["kind"] == "ModelDeployment" and d["metadata"]["name"] == "chat"
    ]
    deployment = tmp_path / "deployment.yaml"
    deployment.write_text(yaml.safe_dump(chat))
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(fleet_yaml())
    return str(deployment), str(fleet)


def replicas(out: str) -> dict[str, str]:
    resources = yaml.safe_load(out)["resources"]
    return {
        key: r["manifest"]["spec"]["clusterName"]
        for key, r in resources.items()
        if r["manifest"]["kind"] == "ModelReplica"
    }


def test_clusters_without_status_get_their_pools_from_their_classes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deployment, fleet = split_demo(tmp_path)
    assert main(["render", deployment, "--required", fleet]) == 0
    out, err = capsys.readouterr()
    # Two replicas of chat, on two of the three status-less clusters.
    placed = replicas(out)
    assert len(placed) == 2
    assert set(placed.values()) <= {"demo-us-east", "demo-us-west", "demo-eu-central"}
    assert yaml.safe_load(out)["conditions"][0]["status"] == "True"
    assert "InferenceClusters without a status (demo-us-east, demo-us-west, demo-eu-central)" in err


def test_what_cannot_be_derived_is_said(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    deployment, fleet = split_demo(tmp_path)
    without_classes = [
        d.data for d in api.parse_documents(fleet_yaml()) if d.data["kind"] != "InferenceClass"
    ]
    Path(fleet).write_text(yaml.safe_dump_all(without_classes))
    assert main(["render", deployment, "--required", fleet]) == 0
    out, err = capsys.readouterr()
    assert replicas(out) == {}
    assert (
        "note: InferenceCluster demo-us-east: pool 'gpu-l4' (spec.nodePools[0].className): "
        "InferenceClass 'demo-l4' does not exist"
    ) in err


def test_the_demo_renders_without_any_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", "--demo"]) == 0
    out, _ = capsys.readouterr()
    assert yaml.safe_load(out)["composite"]["metadata"] == {"name": "chat", "namespace": "ml-team"}
    assert len(replicas(out)) == 2
    assert main(["render"]) == 2
    assert "give XR.yaml, or --demo" in capsys.readouterr().err


def test_numbers_a_function_request_cannot_carry_are_input_errors_with_a_location(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deployment, fleet = split_demo(tmp_path)
    text = Path(deployment).read_text().replace("replicas: 2", "replicas: 9007199254740993")
    Path(deployment).write_text(text)
    assert main(["render", deployment, "--required", fleet]) == 2
    err = capsys.readouterr().err
    assert f"{deployment}:1: spec.replicas: 9007199254740993 is beyond 2**53" in err
    assert "Traceback" not in err
