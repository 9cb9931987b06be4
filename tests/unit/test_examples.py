"""The project's own example fleet (``examples/``) is valid, schedules, renders and simulates.

These are the files the getting-started guide walks through, so each must do
what the guide says: every manifest valid, every replica placed, every
composite rendered without a Fatal result, the scenario converged.
"""

from __future__ import annotations

import pytest
import yaml

from modelplane_adapters.cli.main import main
from modelplane_core import api
from tests.support import REPO_ROOT

EXAMPLES = REPO_ROOT / "examples"
MANIFESTS = sorted(EXAMPLES.glob("*.yaml"))
# Files holding one object render as that composite (platform.yaml holds the fleet).
COMPOSITES = [p.name for p in MANIFESTS if len(api.parse_documents(p.read_text())) == 1]


def test_every_example_manifest_is_valid(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(EXAMPLES)]) == 0
    assert capsys.readouterr().err == "10 Modelplane objects checked: all valid\n"


def test_every_example_deployment_is_placed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schedule", "-o", "yaml", str(EXAMPLES)]) == 0
    report = yaml.safe_load(capsys.readouterr().out)
    assert report["stats"]["wanted"] == report["stats"]["placed"] == 3
    assert report["unscheduled"] == []


@pytest.mark.parametrize("name", COMPOSITES)
def test_every_example_composite_renders(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("crossplane", reason="render needs the crossplane extra")
    assert main(["render", str(EXAMPLES / name), "--required", str(EXAMPLES)]) == 0
    rendered = yaml.safe_load(capsys.readouterr().out)
    assert rendered["events"] == [] or all(e["severity"] != "Fatal" for e in rendered["events"])
    if name.startswith("model-deployment"):
        kinds = [r["manifest"]["kind"] for r in rendered["resources"].values()]
        assert kinds
        assert set(kinds) == {"ModelReplica"}


def test_the_example_scenario_converges(capsys: pytest.CaptureFixture[str]) -> None:
    scenario = EXAMPLES / "scenarios" / "drain.yaml"
    assert main(["simulate", "-o", "json", str(scenario)]) == 0
    report = yaml.safe_load(capsys.readouterr().out)
    assert report["converged"] is True
    # The drained cluster's replica moved to us-west and stays there after the drain.
    assert {p["cluster"] for p in report["placements"]} == {"eks-us-west"}


def test_examples_are_our_own() -> None:
    """Written for this project: nothing under examples/ is a copy of ../shared."""
    from tests.support import SHARED

    theirs = SHARED / "examples"
    if not theirs.exists():
        pytest.skip(f"{theirs} is not present; nothing to compare against")
    shared_texts = {p.read_text() for p in theirs.rglob("*.yaml")}
    ours = [p for p in EXAMPLES.rglob("*.yaml") if p.read_text() in shared_texts]
    assert ours == []


def test_the_guide_lists_every_example_file() -> None:
    guide = (REPO_ROOT / "examples" / "README.md").read_text()
    for path in sorted(EXAMPLES.rglob("*.yaml")):
        assert f"`{path.relative_to(EXAMPLES)}`" in guide, path


def test_the_three_clouds_scenario_provisions_all_three(capsys: pytest.CaptureFixture[str]) -> None:
    """AKS, VKE and Nebius (through its access bootstrap) come up and serve one model."""
    scenario = EXAMPLES / "scenarios" / "three-clouds.yaml"
    assert main(["simulate", "-o", "json", str(scenario)]) == 0
    report = yaml.safe_load(capsys.readouterr().out)
    assert report["converged"] is True
    assert sorted(p["cluster"] for p in report["placements"]) == [
        "aks-westeurope",
        "nebius-eu-north",
        "vke-ewr",
    ]
    assert all(p["ready"] for p in report["placements"])


def test_the_cloud_composites_validate_and_render(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("crossplane", reason="render needs the crossplane extra")
    folder = EXAMPLES / "infrastructure"
    assert main(["validate", str(folder)]) == 0
    assert capsys.readouterr().err == "2 Modelplane objects checked: all valid\n"
    for path in sorted(folder.glob("*.yaml")):
        assert main(["render", str(path)]) == 0
        rendered = yaml.safe_load(capsys.readouterr().out)
        accepted = next(c for c in rendered["conditions"] if c["type"] == "Accepted")
        assert accepted["status"] == "True", path
