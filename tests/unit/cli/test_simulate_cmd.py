"""``modelplane simulate``: the built-in tour, scenario files, outputs, plots and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modelplane_adapters.cli.main import main
from tests.simulation_fixtures import deployment, small_fleet

SCENARIO = {
    "name": "small",
    "manifests": [*small_fleet(), deployment("chat", 2)],
    "events": [{"at": "1h", "taint": {"cluster": "west", "key": "drain"}}],
}


def write(tmp_path: Path, data: object) -> str:
    path = tmp_path / "scenario.yaml"
    path.write_text(json.dumps(data))  # JSON is YAML
    return str(path)


def test_the_built_in_tour_prints_its_timeline_and_final_placement(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["simulate"]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0].startswith("Scenario getting-started-tour: ")
    assert (
        " 0h30m00s  > apply ModelDeployment ml-team/qwen-demo, ModelService ml-team/qwen" in lines
    )
    assert any(line.endswith("> outage of cluster eks-eu-central") for line in lines)
    assert any("- replica ml-team/qwen-demo-eks-us-east-0-" in line for line in lines)
    assert lines[-6].split() == ["DEPLOYMENT", "REPLICA", "CLUSTER", "POOLS", "READY"]
    assert [line.split()[2] for line in lines[-5:-2]] == [
        "eks-eu-central",
        "eks-us-west",
        "eks-us-west",
    ]
    assert lines[-1].startswith("service ml-team/qwen: http://")
    assert "3/3 replicas ready" in err


def test_a_scenario_file_and_json_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["simulate", "-o", "json", write(tmp_path, SCENARIO)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["scenario"], report["converged"], report["failure"]) == ("small", True, None)
    assert [p["cluster"] for p in report["placements"]] == ["east", "east"]  # west was drained
    drained = [m for m in report["timeline"] if m["time"] == 3600]
    assert drained[0] == {
        "time": 3600,
        "kind": "event",
        "text": "taint cluster west drain:NoExecute",
    }
    assert {
        "time": 3600,
        "kind": "deleted",
        "text": "replica ml-team/chat-west-0-cfc14 removed",
    } in drained
    assert sorted(report["metrics"]) == ["clusters", "deployments", "pools", "services", "steps"]


def test_until_stops_the_run_early(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "-o", "json", "--until", "30m", write(tmp_path, SCENARIO)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert max(m["time"] for m in report["timeline"]) <= 1800
    assert [p["cluster"] for p in report["placements"]] == ["east", "west"]


def test_plots_are_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plots = tmp_path / "plots"
    assert main(["simulate", "--plot", str(plots), write(tmp_path, SCENARIO)]) == 0
    written = sorted(p.name for p in plots.iterdir())
    assert written == ["pool-utilisation.png", "replicas-per-cluster.png", "shortfall.png"]
    for name in written:
        assert (plots / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"wrote {plots / 'shortfall.png'}" in capsys.readouterr().err


def test_an_invalid_scenario_lists_every_problem_and_exits_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, {"name": "bad", "events": [{"at": "soon", "scale": {}}]})
    assert main(["simulate", path]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"{path}: events[0].at: 'soon' is not a duration: use seconds or a string like 90s, "
        "15m, 1h30m",
        f"{path}: events[0].scale.deployment: is required: a non-empty string (namespace/name)",
        f"{path}: events[0].scale.replicas: is required: an integer >= 0",
    ]


@pytest.mark.parametrize("args", [["missing.yaml"], ["--until", "later"]])
def test_unreadable_input_and_bad_options_exit_two(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["simulate", *args]) == 2


@pytest.mark.parametrize("until", ["3600", "3600.0", "1h", "60m"])
def test_until_takes_seconds_or_a_duration(
    until: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["simulate", "-o", "json", "--until", until, write(tmp_path, SCENARIO)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert max(m["time"] for m in report["timeline"]) == 3600  # the 1h taint is the last event


def test_a_run_that_settles_early_is_reported_and_plotted_to_until(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from modelplane_core.simulation import plots

    drawn: list[float | None] = []
    original = plots.shortfall

    def spy(steps: object, *, until: float | None = None) -> object:
        drawn.append(until)
        return original(steps, until=until)  # type: ignore[arg-type]

    monkeypatch.setitem(plots.ALL, "shortfall", spy)
    scenario = write(tmp_path, SCENARIO)
    assert main(["simulate", "--until", "6h", "--plot", str(tmp_path / "p"), scenario]) == 0
    err = capsys.readouterr().err
    assert "nothing changed from then to t=6h00m00s" in err
    assert drawn == [6 * 3600]
