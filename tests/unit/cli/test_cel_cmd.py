"""``modelplane cel check|match``: verdicts, positions and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modelplane_adapters.cli.main import main
from tests.support import shared_path

CLASSES = """\
apiVersion: modelplane.ai/v1alpha1
kind: InferenceClass
metadata: {name: h100}
spec:
  devices:
  - name: gpu
    driver: gpu.nvidia.com
    deviceClassName: gpu.nvidia.com
    count: 8
    attributes:
      architecture: {string: Hopper}
    capacity:
      memory: {value: 80Gi}
  - name: nic
    claim: Synthetic
    driver: nic.nvidia.com
    attributes:
      linkType: {string: infiniband}
---
apiVersion: modelplane.ai/v1alpha1
kind: InferenceClass
metadata: {name: l4}
spec:
  devices:
  - name: gpu
    driver: gpu.nvidia.com
    deviceClassName: gpu.nvidia.com
    attributes:
      architecture: {string: Ada}
    capacity:
      memory: {value: 22Gi}
"""

HOPPER = 'device.attributes["gpu.nvidia.com"].architecture == "Hopper"'


def test_check_ok_prints_cost(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cel", "check", HOPPER]) == 0
    out, _ = capsys.readouterr()
    assert out.startswith("ok (estimated cost ")


def test_check_error_points_at_the_problem(capsys: pytest.CaptureFixture[str]) -> None:
    expression = 'device.capacity["gpu.nvidia.com"].memory.sign() == 1'
    assert main(["cel", "check", expression]) == 1
    _, err = capsys.readouterr()
    first, source, caret = err.splitlines()
    assert first.startswith("error: 1:42: sign() is a global function")
    assert source == expression
    assert caret == " " * 41 + "^"


def test_check_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cel", "check", "-o", "json", "device.nope"]) == 1
    payload = json.loads(capsys.readouterr().out)
    assert payload["ok"] is False
    assert (payload["line"], payload["column"]) == (1, 8)
    assert "undefined field 'nope'" in payload["error"]


def test_match_reports_every_device(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "classes.yaml"
    path.write_text(CLASSES)
    assert main(["cel", "match", HOPPER, str(path)]) == 0
    out, _ = capsys.readouterr()
    first, nic, last = out.splitlines()
    assert first == "h100/gpu: matched"
    # The NIC has no gpu.nvidia.com domain: an unknown id is an error, reported with its name.
    assert nic.startswith("h100/nic: error (")
    assert "architecture" in nic
    assert last == "l4/gpu: not matched"


def test_match_none_exits_one_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "classes.yaml"
    path.write_text(CLASSES)
    expression = 'device.capacity["gpu.nvidia.com"].memory.isGreaterThan(quantity("100Gi"))'
    assert main(["cel", "match", "-o", "json", expression, str(path)]) == 1
    rows = json.loads(capsys.readouterr().out)["devices"]
    assert [(r["inferenceClass"], r["device"], r["result"]) for r in rows] == [
        ("h100", "gpu", "not matched"),
        ("h100", "nic", "error"),  # no gpu.nvidia.com capacity: an unknown id
        ("l4", "gpu", "not matched"),
    ]


def test_match_unreadable_file_exits_two(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["cel", "match", HOPPER, str(tmp_path / "missing.yaml")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_match_on_the_documentation_classes(capsys: pytest.CaptureFixture[str]) -> None:
    concepts = shared_path("examples", "concepts")
    files = sorted(str(p) for p in concepts.glob("inference-class-*.yaml"))
    expression = 'device.capacity["gpu.nvidia.com"].memory.compareTo(quantity("20Gi")) >= 0'
    assert main(["cel", "match", "-o", "json", expression, *files]) == 0
    rows = json.loads(capsys.readouterr().out)["devices"]
    gpu_rows = [r for r in rows if r["driver"] == "gpu.nvidia.com"]
    assert gpu_rows, "the documentation classes publish GPUs"
    assert all(r["result"] == "matched" for r in gpu_rows)


def test_match_against_the_demo_fleet(capsys: pytest.CaptureFixture[str]) -> None:
    wide = 'device.capacity["gpu.nvidia.com"].memory.compareTo(quantity("40Gi")) >= 0'
    assert main(["cel", "match", wide, "--demo"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "demo-l4/gpu: not matched",
        "demo-l40s/gpu: matched",
    ]
    assert main(["cel", "match", wide]) == 2
    assert "give FILEs" in capsys.readouterr().err
