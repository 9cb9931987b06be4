"""Plots of a simulation run: pool utilisation, replicas per cluster, shortfall.

matplotlib is an optional extra (``pip install 'modelplane[plot]'``), imported
only when a plot is drawn. Each function returns a Figure and never writes a
file: the caller decides where it goes (``modelplane simulate --plot DIR``
saves PNGs; a notebook just displays them). Large fleets are summarised
rather than drawn as one line per pool or cluster, which nobody can read.
Every plot marks the moments an event was applied (a dotted line), so a
reader can tie a change in a curve to the drain or scale that caused it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from modelplane_core.simulation.metrics import StepMetrics

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# Above this many pools or clusters, a plot summarises (pools by name, clusters as "others").
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


def _mark_events(axes: Axes, steps: Sequence[StepMetrics]) -> None:
    """A dotted line at every step that applied events (after the initial manifests)."""
    for count, step in enumerate(s for s in steps[1:] if s.events):
        axes.axvline(
            step.time / 3600,
            color="grey",
            linestyle=":",
            linewidth=1,
            label="event" if count == 0 else "_nolegend_",
        )


def _middle(values: list[float], fraction: float) -> float:
    """The value ``fraction`` of the way up ``values`` once sorted (a simple quantile)."""
    ordered = sorted(values)
    return ordered[round(fraction * (len(ordered) - 1))]


def pool_utilisation(steps: Sequence[StepMetrics]) -> Figure:
    """Nodes used / published over time: per pool, per pool name, or a spread when large.

    Up to ``MAX_SERIES`` pools get a line each. Beyond that, pools that share a
    name across clusters are added up, one line per name: pools named after
    their hardware (``gpu-l40s`` in the tour, ``gpu-h100-8x`` in the synthetic
    fleet) then show which kind of capacity runs out. With too many names, the
    middle half of pools is drawn as a band; a min-max band says nothing, as in
    any busy fleet some pool is full and some is empty at every moment.
    """
    figure, axes = _figure("Pool utilisation", "nodes used / nodes published")
    hours = _hours(steps)
    keys = sorted({(p.cluster, p.pool) for s in steps for p in s.pools})
    names = sorted({pool for _, pool in keys})
    total = [sum(p.used for p in s.pools) / max(sum(p.nodes for p in s.pools), 1) for s in steps]
    if len(keys) <= MAX_SERIES:
        for key in keys:
            series = []
            for step in steps:
                pool = next((p for p in step.pools if (p.cluster, p.pool) == key), None)
                series.append(pool.used / pool.nodes if pool is not None and pool.nodes else 0.0)
            axes.plot(hours, series, drawstyle="steps-post", label="/".join(key))
    elif len(names) <= MAX_SERIES:
        for name in names:
            series = []
            for step in steps:
                pools = [p for p in step.pools if p.pool == name]
                series.append(sum(p.used for p in pools) / max(sum(p.nodes for p in pools), 1))
            clusters = len({cluster for cluster, pool in keys if pool == name})
            axes.plot(hours, series, drawstyle="steps-post", label=f"{name} ({clusters} clusters)")
    else:
        ratios = [[p.used / p.nodes for p in s.pools if p.nodes] or [0.0] for s in steps]
        axes.fill_between(
            hours,
            [_middle(r, 0.25) for r in ratios],
            [_middle(r, 0.75) for r in ratios],
            step="post",
            alpha=0.2,
            label=f"middle half of {len(keys)} pools",
        )
    axes.plot(
        hours, total, drawstyle="steps-post", color="black", linestyle="--", label="whole fleet"
    )
    _mark_events(axes, steps)
    axes.set_ylim(0, 1.05)
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    return figure


def replicas_per_cluster(steps: Sequence[StepMetrics]) -> Figure:
    """ModelReplicas hosted by each cluster over time, stacked (the busiest ones when large).

    Each band has its own colour (the default cycle repeats after ten, which
    makes two clusters look like one) and the legend lists them top to bottom
    as they are stacked, outside the plot so it hides nothing.
    """
    figure, axes = _figure("Replicas per cluster", "replicas")
    hours = _hours(steps)
    clusters = sorted({c.cluster for s in steps for c in s.clusters})
    counts = {name: [0] * len(steps) for name in clusters}
    for index, step in enumerate(steps):
        for cluster in step.clusters:
            counts[cluster.cluster][index] = cluster.replicas
    shown = sorted(sorted(clusters, key=lambda n: (-max(counts[n], default=0), n))[:MAX_SERIES])
    series = [counts[name] for name in shown]
    labels = list(shown)
    colours: list[str | tuple[float, float, float, float]] = [_colour(i) for i in range(len(shown))]
    hidden = sorted(set(clusters) - set(shown))
    others = [sum(column) for column in zip(*(counts[n] for n in hidden), strict=True)]
    if any(others):
        series.append(others)
        labels.append(f"{len(hidden)} other clusters")
        colours.append("lightgrey")
    bands = (
        axes.stackplot(hours, *series, labels=labels, colors=colours, step="post") if series else []
    )
    _mark_events(axes, steps)
    handles, names = axes.get_legend_handles_labels()
    stacked = len(bands)  # the bands come first: list them top to bottom, then the rest
    if handles:
        axes.legend(
            handles[:stacked][::-1] + handles[stacked:],
            names[:stacked][::-1] + names[stacked:],
            loc="upper left",
            bbox_to_anchor=(1.01, 1),
            fontsize="small",
        )
    return figure


def _colour(index: int) -> tuple[float, float, float, float]:
    """Twenty distinct colours: tab20's ten strong hues first, then their light pairs."""
    from matplotlib import colormaps  # noqa: PLC0415 - optional dependency

    slot = index % 20
    rgba: tuple[float, float, float, float] = colormaps["tab20"](slot * 2 % 20 + slot // 10)
    return rgba


def shortfall(steps: Sequence[StepMetrics]) -> Figure:
    """Replicas wanted but not placed, and placed but not ready, over time."""
    figure, axes = _figure("Shortfall", "replicas")
    hours = _hours(steps)
    unplaced = [sum(d.shortfall for d in s.deployments) for s in steps]
    starting = [sum(max(d.placed - d.ready, 0) for d in s.deployments) for s in steps]
    axes.plot(hours, unplaced, drawstyle="steps-post", label="wanted, not placed")
    axes.plot(hours, starting, drawstyle="steps-post", label="placed, not ready")
    _mark_events(axes, steps)
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    return figure


ALL: Final = {
    "pool-utilisation": pool_utilisation,
    "replicas-per-cluster": replicas_per_cluster,
    "shortfall": shortfall,
}
