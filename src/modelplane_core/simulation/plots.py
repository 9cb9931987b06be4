"""Plots of a simulation run: pool utilisation, replicas per cluster, shortfall.

matplotlib is an optional extra (``pip install 'modelplane[plot]'``), imported
only when a plot is drawn. Each function returns a Figure and never writes a
file: the caller decides where it goes (``modelplane simulate --plot DIR``
saves PNGs; a notebook just displays them). Large fleets are summarised
rather than drawn as one line per pool or cluster, which nobody can read.

Every plot marks the moments an event was applied (a dotted line) and says
which event it was, so a reader can tie a change in a curve to the drain or
scale that caused it. Lines that coincide stay visible: each line is drawn
thinner than the one before it and in its own dash pattern, so a line lying
on another shows as a pattern inside it rather than hiding it. A run asked to
go ``until`` a time after its last step is drawn to that time: nothing
changed after the last step, and the plot says so instead of stopping short.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

import attrs

from modelplane_core.simulation.metrics import StepMetrics

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# Above this many pools or clusters, a plot summarises (pools by name, clusters as "others").
MAX_SERIES: Final = 12
# Above this many event moments, the marks are drawn but not each labelled.
MAX_EVENT_LABELS: Final = 12
EVENT_LABEL_CHARS: Final = 40
# Dash patterns for lines, cycled; dotted (":") is kept for the event marks.
_DASHES: Final[tuple[str | tuple[int, tuple[int, ...]], ...]] = (
    "-",
    "--",
    "-.",
    (0, (8, 2, 2, 2, 2, 2)),
)


def _figure(title: str, ylabel: str) -> tuple[Figure, Axes]:
    from matplotlib.figure import Figure  # noqa: PLC0415 - optional dependency

    figure = Figure(figsize=(9, 4.5), layout="constrained")
    axes: Axes = figure.subplots()
    axes.set_title(title)
    axes.set_xlabel("simulated time (hours)")
    axes.set_ylabel(ylabel)
    axes.grid(alpha=0.3)
    return figure, axes


def _through(steps: Sequence[StepMetrics], until: float | None) -> list[StepMetrics]:
    """``steps``, held at their last state to ``until`` when that is later."""
    if not steps or until is None or until <= steps[-1].time:
        return list(steps)
    held = attrs.evolve(steps[-1], time=until, events=(), created=(), deleted=())
    return [*steps, held]


def _hours(steps: Sequence[StepMetrics]) -> list[float]:
    return [s.time / 3600 for s in steps]


def _line_style(index: int, count: int) -> dict[str, Any]:
    """Line ``index`` of ``count``: later lines thinner and differently dashed (see module doc)."""
    width = 1.2 + 2.4 * (count - 1 - index) / max(count - 1, 1)
    return {"linewidth": width, "linestyle": _DASHES[index % len(_DASHES)]}


def _mark_events(axes: Axes, steps: Sequence[StepMetrics]) -> None:
    """A dotted line at every step that applied events, labelled with what happened."""
    marked = [s for s in steps[1:] if s.events]
    label_each = len(marked) <= MAX_EVENT_LABELS
    for count, step in enumerate(marked):
        hours = step.time / 3600
        legend = "event" if label_each else f"event ({len(marked)}; see the timeline)"
        axes.axvline(
            hours,
            color="grey",
            linestyle=":",
            linewidth=1,
            label=legend if count == 0 else "_nolegend_",
        )
        if label_each:
            axes.text(
                hours,
                0.98,
                f" {_event_label(step.events)}",
                transform=axes.get_xaxis_transform(),
                rotation=90,
                va="top",
                ha="right",
                fontsize="x-small",
                color="dimgrey",
            )


def _event_label(events: Sequence[str]) -> str:
    first = events[0]
    shown = first if len(first) <= EVENT_LABEL_CHARS else first[: EVENT_LABEL_CHARS - 1] + "…"
    return shown + (f" (+{len(events) - 1} more)" if len(events) > 1 else "")


def _finish(axes: Axes, steps: Sequence[StepMetrics]) -> None:
    """Event marks, the time axis over the whole run, and the legend outside the plot."""
    _mark_events(axes, steps)
    if steps:
        axes.set_xlim(0, max(steps[-1].time / 3600, 1e-9))
    if axes.get_legend_handles_labels()[0]:
        axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")


def _middle(values: list[float], fraction: float) -> float:
    """The value ``fraction`` of the way up ``values`` once sorted (a simple quantile)."""
    ordered = sorted(values)
    return ordered[round(fraction * (len(ordered) - 1))]


def _percent(used: int, nodes: int) -> float:
    return 100 * used / nodes if nodes else 0.0


def pool_utilisation(steps: Sequence[StepMetrics], *, until: float | None = None) -> Figure:
    """Percent of published nodes in use over time: per pool, per pool name, or a spread.

    Up to ``MAX_SERIES`` pools get a line each. Beyond that, pools that share a
    name across clusters are added up, one line per name: pools named after
    their hardware (``gpu-l40s`` in the tour, ``gpu-h100-8x`` in the synthetic
    fleet) then show which kind of capacity runs out. With too many names, the
    middle half of pools is drawn as a band; a min-max band says nothing, as in
    any busy fleet some pool is full and some is empty at every moment.
    """
    from matplotlib.ticker import PercentFormatter  # noqa: PLC0415 - optional dependency

    steps = _through(steps, until)
    figure, axes = _figure("Pool utilisation", "nodes in use (% of published)")
    hours = _hours(steps)
    keys = sorted({(p.cluster, p.pool) for s in steps for p in s.pools})
    names = sorted({pool for _, pool in keys})
    total = [_percent(sum(p.used for p in s.pools), sum(p.nodes for p in s.pools)) for s in steps]
    if len(keys) <= MAX_SERIES:
        for index, key in enumerate(keys):
            series = []
            for step in steps:
                pool = next((p for p in step.pools if (p.cluster, p.pool) == key), None)
                series.append(_percent(pool.used, pool.nodes) if pool is not None else 0.0)
            axes.plot(
                hours,
                series,
                drawstyle="steps-post",
                label="/".join(key),
                **_line_style(index, len(keys)),
            )
    elif len(names) <= MAX_SERIES:
        for index, name in enumerate(names):
            series = []
            for step in steps:
                pools = [p for p in step.pools if p.pool == name]
                series.append(_percent(sum(p.used for p in pools), sum(p.nodes for p in pools)))
            clusters = len({cluster for cluster, pool in keys if pool == name})
            axes.plot(
                hours,
                series,
                drawstyle="steps-post",
                label=f"{name} ({clusters} clusters)",
                **_line_style(index, len(names)),
            )
    else:
        ratios = [[_percent(p.used, p.nodes) for p in s.pools if p.nodes] or [0.0] for s in steps]
        axes.fill_between(
            hours,
            [_middle(r, 0.25) for r in ratios],
            [_middle(r, 0.75) for r in ratios],
            step="post",
            alpha=0.2,
            label=f"middle half of {len(keys)} pools",
        )
    axes.plot(
        hours,
        total,
        drawstyle="steps-post",
        color="black",
        linestyle=(0, (3, 3)),
        linewidth=1,
        label="whole fleet",
    )
    axes.set_ylim(0, 105)
    axes.yaxis.set_major_formatter(PercentFormatter(100))
    _finish(axes, steps)
    return figure


def replicas_per_cluster(steps: Sequence[StepMetrics], *, until: float | None = None) -> Figure:
    """ModelReplicas hosted by each cluster over time, stacked (the busiest ones when large).

    Each band has its own colour (the default cycle repeats after ten, which
    makes two clusters look like one) and the legend lists them top to bottom
    as they are stacked, outside the plot so it hides nothing.
    """
    steps = _through(steps, until)
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
    if steps:
        axes.set_xlim(0, max(steps[-1].time / 3600, 1e-9))
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


def shortfall(steps: Sequence[StepMetrics], *, until: float | None = None) -> Figure:
    """Replicas wanted but not placed, and placed but not ready, over time."""
    steps = _through(steps, until)
    figure, axes = _figure("Shortfall", "replicas")
    hours = _hours(steps)
    unplaced = [sum(d.shortfall for d in s.deployments) for s in steps]
    starting = [sum(max(d.placed - d.ready, 0) for d in s.deployments) for s in steps]
    lines = (("wanted, not placed", unplaced), ("placed, not ready", starting))
    for index, (label, series) in enumerate(lines):
        axes.plot(
            hours, series, drawstyle="steps-post", label=label, **_line_style(index, len(lines))
        )
    _finish(axes, steps)
    return figure


ALL: Final = {
    "pool-utilisation": pool_utilisation,
    "replicas-per-cluster": replicas_per_cluster,
    "shortfall": shortfall,
}
