"""``modelplane simulate [SCENARIO]``: replay a fleet scenario through the real control plane.

Without a file it plays the built-in getting-started tour. The simulation is
the core's (``modelplane_core.simulation``): the real composers behind a small
Crossplane, simulated providers and time. This module reads the scenario,
shows progress, and prints the timeline, the final placement and (with
``--plot``) the charts. Exit status: 0 the run converged, 1 it did not or the
scenario is invalid, 2 the scenario file cannot be read.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from modelplane_adapters.cli.manifests import InputError, read_text
from modelplane_adapters.cli.tables import table_lines


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "simulate",
        help="replay a fleet scenario (default: the getting-started tour) and show what happens",
        description=(
            "Run a scenario of manifests and timed events (cluster added, outage, drain, "
            "scale, ...) through the real composers and scheduler on a simulated fleet, and "
            "print the timeline and final placement. Without SCENARIO, the built-in "
            "getting-started tour runs."
        ),
    )
    parser.add_argument(
        "scenario", nargs="?", metavar="SCENARIO", help="scenario YAML ('-' for stdin)"
    )
    parser.add_argument(
        "--until",
        metavar="T",
        help="run to simulated time T: seconds (3600) or a duration (3h, 90m, 1h30m)",
    )
    parser.add_argument("-o", "--output", choices=("table", "json"), default="table")
    parser.add_argument(
        "--plot", metavar="DIR", help="write PNG charts into DIR (needs matplotlib)"
    )
    parser.set_defaults(handler=run)


def _until(text: str, parse_duration: Any) -> float:
    """``--until``: a plain number is seconds, as in a scenario file; else a duration."""
    try:
        seconds = float(text)
    except ValueError:
        return float(parse_duration(text))
    return float(parse_duration(seconds))


def run(args: argparse.Namespace) -> int:
    from modelplane_core import demo
    from modelplane_core.simulation import ScenarioError, Simulation, parse_duration, parse_scenario

    source = args.scenario or "<built-in getting-started tour>"
    try:
        text = read_text(args.scenario) if args.scenario else demo.tour_yaml()
    except InputError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    try:
        scenario = parse_scenario(text)
        until = _until(args.until, parse_duration) if args.until else scenario.until
    except ScenarioError as exc:
        for problem in exc.errors:
            print(f"{source}: {problem}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"--until: {exc}", file=sys.stderr)
        return 2
    simulation = Simulation.from_scenario(scenario)
    progress = _Progress(until) if sys.stderr.isatty() else None
    simulation.run(until=until, progress=progress)
    if progress is not None:
        progress.done()
    if args.plot and not _plot(simulation, Path(args.plot)):
        return 2
    if args.output == "json":
        print(json.dumps(_report(scenario, simulation), indent=2))
    else:
        _print(scenario, simulation)
    if simulation.failure is not None:
        print(f"modelplane simulate: {simulation.failure}", file=sys.stderr)
        return 1
    return 0


class _Progress:
    """A one-line progress bar on stderr, redrawn at every step."""

    WIDTH = 30

    def __init__(self, until: float | None) -> None:
        self.until = until

    def __call__(self, step: Any) -> None:
        from modelplane_core.simulation import format_time

        if self.until:
            filled = int(self.WIDTH * min(step.time / self.until, 1.0))
            bar = f"[{'=' * filled}{' ' * (self.WIDTH - filled)}] "
        else:
            bar = ""
        print(f"\r{bar}t={format_time(step.time)} step {step.step + 1}", end="", file=sys.stderr)

    def done(self) -> None:
        print("\r" + " " * (self.WIDTH + 40) + "\r", end="", file=sys.stderr)


def _print(scenario: Any, simulation: Any) -> None:
    from modelplane_core.simulation import format_time
    from modelplane_core.simulation.timeline import timeline

    print(
        f"Scenario {scenario.name}" + (f": {scenario.description}" if scenario.description else "")
    )
    print()
    last = None
    marks = {"event": ">", "created": "+", "deleted": "-", "short": "!", "stalled": "!"}
    for moment in timeline(simulation.history):
        when = format_time(moment.time) if moment.time != last else ""
        last = moment.time
        print(f"{when:>9}  {marks.get(moment.kind, ' ')} {moment.text}")
    print()
    rows = [("DEPLOYMENT", "REPLICA", "CLUSTER", "POOLS", "READY")]
    for placement in simulation.placements():
        rows.append(
            (
                placement["deployment"],
                placement["replica"],
                placement["cluster"],
                placement["pools"],
                "yes" if placement["ready"] else "no",
            )
        )
    _table(rows)
    final = simulation.history[-1] if simulation.history else None
    if final is not None:
        print()
        for service in final.services:
            print(
                f"service {service.service}: {service.address or '(no address yet)'} "
                f"-> {service.endpoints} endpoint(s)"
            )
        calls = sum(s.composer_calls for s in simulation.history)
        seconds = sum(s.seconds for s in simulation.history)
        quiet = (
            f"; nothing changed from then to t={format_time(simulation.now)}"
            if simulation.now > final.time
            else ""
        )
        print(
            f"{len(simulation.history)} steps to t={format_time(final.time)}: "
            f"{final.ready}/{final.wanted} replicas ready, "
            f"{calls} composer calls in {seconds:.2f} s{quiet}",
            file=sys.stderr,
        )


def _table(rows: list[tuple[str, ...]]) -> None:
    if len(rows) == 1:
        print("no replicas")
        return
    print("\n".join(table_lines(rows)))


def _report(scenario: Any, simulation: Any) -> dict[str, Any]:
    from modelplane_core.simulation import metrics
    from modelplane_core.simulation.timeline import timeline

    return {
        "scenario": scenario.name,
        "converged": simulation.failure is None,
        "failure": simulation.failure,
        "timeline": [
            {"time": m.time, "kind": m.kind, "text": m.text} for m in timeline(simulation.history)
        ],
        "placements": simulation.placements(),
        "metrics": {table: simulation.rows(table) for table in metrics.TABLES},
    }


def _plot(simulation: Any, directory: Path) -> bool:
    try:
        from modelplane_core.simulation import plots

        directory.mkdir(parents=True, exist_ok=True)
        for name, draw in plots.ALL.items():
            path = directory / f"{name}.png"
            draw(simulation.history, until=simulation.now).savefig(path, dpi=110)
            print(f"wrote {path}", file=sys.stderr)
    except ImportError:
        print(
            "modelplane simulate --plot needs matplotlib: pip install 'modelplane[plot]'",
            file=sys.stderr,
        )
        return False
    except OSError as exc:
        print(f"modelplane simulate: cannot write plots to {directory}: {exc}", file=sys.stderr)
        return False
    return True
