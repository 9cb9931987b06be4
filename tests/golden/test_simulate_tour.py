"""Golden run of the built-in getting-started tour: the timeline a newcomer sees, and the end state.

Read it by eye: qwen-demo lands on the L4 cluster, spreads to an L40S region
when scaled, qwen-west is pinned to us-west, the eu-central outage keeps its
replica (only its endpoint leaves the route), the us-east drain removes one
and the fleet runs short until a node is added, and the service address never
changes. Timings (wall-clock seconds, composer calls) are left out: they vary.
"""

from __future__ import annotations

import json

import pytest

from modelplane_adapters.cli.main import main
from tests.golden_support import as_yaml, assert_golden


def test_the_tour(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "-o", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    last_step = max(row["step"] for row in report["metrics"]["steps"])
    final = {
        table: [row for row in report["metrics"][table] if row["step"] == last_step]
        for table in ("deployments", "pools", "clusters", "services")
    }
    assert_golden(
        "simulate/tour",
        as_yaml(
            {
                "scenario": report["scenario"],
                "converged": report["converged"],
                "timeline": [
                    f"{m['time']:>7.0f}s {m['kind']:>10}: {m['text']}" for m in report["timeline"]
                ],
                "placements": report["placements"],
                "final": final,
            }
        ),
    )
