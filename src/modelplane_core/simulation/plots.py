"""Plots of a simulation run: pool utilisation, replicas per cluster, shortfall.

matplotlib is an optional extra (``pip install 'modelplane[plot]'``), imported
only when a plot is drawn. Each function returns a Figure and never writes a
file: the caller decides where it goes (``modelplane simulate --plot DIR``
saves PNGs; a notebook just displays them). Large fleets are summarised
rather than drawn as one line per pool or cluster, which nobody can read.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from modelplane_core.simulation.metrics import StepMetrics

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# Above this many series, plot the fleet as a whole (and its extremes) instead.
MAX_SERIES: Final = 12


def _figure(title: str, ylabel: str) -> tuple[Figure, Axes]:
    from matplotlib.figure import Figure  # noqa: PLC0415 - optional dependency

    figure = Figure(figsize=(9, 4.5), layout="constrained")
    axes: Axes = figure.subplots()
    axes.set_title(title)
    axes.set_xlabel("simulated time (hours)")
    axes.set_ylabel(ylabel)
    axes.grid(alpha=0.3)
    return figure, axes


def _hours(steps: Sequence[StepMetrics]) -> list[float]:
    return [s.time / 3600 for s in steps]


def pool_utilisation(steps: Sequence[StepMetrics]) -> Figure:
    """Nodes used / published per pool over time (fleet total and spread when large)."""
    figure, axes = _figure("Pool utilisation", "nodes used / nodes published")
    hours = _hours(steps)
    keys = sorted({(p.cluster, p.pool) for s in steps for p in s.pools})
    ratio: dict[tuple[str, str], list[float]] = defaultdict(list)
    for step in steps:
        by_key = {(p.cluster, p.pool): p for p in step.pools}
        for key in keys:
            pool = by_key.get(key)
            ratio[key].append(pool.used / pool.nodes if pool is not None and pool.nodes else 0.0)
    total = [sum(p.used for p in s.pools) / max(sum(p.nodes for p in s.pools), 1) for s in steps]
    if len(keys) <= MAX_SERIES:
        for key in keys:
            axes.plot(hours, ratio[key], drawstyle="steps-post", label="/".join(key))
    else:
        low = [min(ratio[k][i] for k in keys) for i in range(len(steps))]
        high = [max(ratio[k][i] for k in keys) for i in range(len(steps))]
        axes.fill_between(hours, low, high, step="post", alpha=0.2, label="min-max over pools")
    axes.plot(hours, total, drawstyle="steps-post", color="black", linewidth=2, label="fleet")
    axes.set_ylim(0, 1.05)
    axes.legend(loc="best", fontsize="small")
    return figure


def replicas_per_cluster(steps: Sequence[StepMetrics]) -> Figure:
    """ModelReplicas hosted by each cluster over time (the busiest ones when large)."""
    figure, axes = _figure("Replicas per cluster", "replicas")
    hours = _hours(steps)
    clusters = sorted({c.cluster for s in steps for c in s.clusters})
    counts = {
        name: [next((c.replicas for c in s.clusters if c.cluster == name), 0) for s in steps]
        for name in clusters
    }
    shown = sorted(clusters, key=lambda n: (-max(counts[n], default=0), n))[:MAX_SERIES]
    series = [counts[name] for name in sorted(shown)]
    labels = sorted(shown)
    others = [sum(counts[n][i] for n in clusters if n not in shown) for i in range(len(steps))]
    if any(others):
        series.append(others)
        labels.append(f"{len(clusters) - len(shown)} other clusters")
    if series:
        axes.stackplot(hours, *series, labels=labels, step="post")
        axes.legend(loc="upper left", fontsize="small")
    return figure


def shortfall(steps: Sequence[StepMetrics]) -> Figure:
    """Replicas wanted but not placed, and placed but not ready, over time."""
    figure, axes = _figure("Shortfall", "replicas")
    hours = _hours(steps)
    unplaced = [sum(d.shortfall for d in s.deployments) for s in steps]
    starting = [sum(max(d.placed - d.ready, 0) for d in s.deployments) for s in steps]
    axes.plot(hours, unplaced, drawstyle="steps-post", label="wanted, not placed")
    axes.plot(hours, starting, drawstyle="steps-post", label="placed, not ready")
    axes.legend(loc="best", fontsize="small")
    return figure


ALL: Final = {
    "pool-utilisation": pool_utilisation,
    "replicas-per-cluster": replicas_per_cluster,
    "shortfall": shortfall,
}
