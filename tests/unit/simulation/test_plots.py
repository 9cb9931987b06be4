"""Plots of a run: what each figure draws, read back from its artists.

The steps are built by hand so every expected value can be worked out on
paper: a plot is checked by the data on its lines and bands and by its
legend, never by pixels.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pytest

from modelplane_core.simulation import plots
from modelplane_core.simulation.metrics import ClusterRow, DeploymentRow, PoolRow, StepMetrics

pytest.importorskip("matplotlib", reason="plots need matplotlib: pip install -e '.[plot]'")

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def step(
    index: int,
    hours: float,
    *,
    pools: Sequence[PoolRow] = (),
    clusters: Sequence[ClusterRow] = (),
    deployments: Sequence[DeploymentRow] = (),
    events: tuple[str, ...] = (),
) -> StepMetrics:
    return StepMetrics(
        step=index,
        time=hours * 3600,
        events=events,
        rounds=1,
        composer_calls=0,
        seconds=0.0,
        converged=True,
        deployments=tuple(deployments),
        pools=tuple(pools),
        clusters=tuple(clusters),
        services=(),
        created=(),
        deleted=(),
    )


def pool(cluster: str, name: str, nodes: int, used: int) -> PoolRow:
    return PoolRow(
        cluster=cluster, pool=name, nodes=nodes, used=used, gpus_per_node=1, gpus_claimed=used
    )


def axes_of(figure: Figure) -> Axes:
    (axes,) = figure.axes
    return axes


def series(axes: Axes) -> dict[str, list[float]]:
    """Each labelled solid or dashed line's y values, by label."""
    return {
        str(line.get_label()): [float(y) for y in line.get_ydata()]
        for line in axes.get_lines()
        if line.get_linestyle() != ":"
    }


def event_marks(axes: Axes) -> list[float]:
    return [float(line.get_xdata()[0]) for line in axes.get_lines() if line.get_linestyle() == ":"]


def legend(axes: Axes) -> list[str]:
    box = axes.get_legend()
    assert box is not None
    return [t.get_text() for t in box.get_texts()]


def test_a_small_fleet_gets_one_line_per_pool() -> None:
    steps = [
        step(0, 0, pools=[pool("east", "gpu-l4", 2, 0), pool("west", "gpu-l40s", 4, 0)]),
        step(
            1,
            1,
            pools=[pool("east", "gpu-l4", 2, 1), pool("west", "gpu-l40s", 4, 4)],
            events=("scale",),
        ),
    ]
    axes = axes_of(plots.pool_utilisation(steps))
    assert series(axes) == {
        "east/gpu-l4": [0.0, 50.0],
        "west/gpu-l40s": [0.0, 100.0],
        "whole fleet": [0.0, 500 / 6],  # (1 + 4) used of (2 + 4) published, in percent
    }
    assert event_marks(axes) == [1.0]
    assert axes.get_ylim() == (0, 105)
    assert axes.yaxis.get_major_formatter()(50, 0) == "50%"


def test_a_large_fleet_adds_up_pools_of_the_same_name() -> None:
    # 14 clusters with an L4 pool (2 nodes each), the first 7 also with an H100 pool (1 node).
    # All 7 H100 nodes are used; 3 clusters use both L4 nodes and the rest none.
    pools = [pool(f"c{i:02d}", "gpu-l4", 2, 2 if i < 3 else 0) for i in range(14)]
    pools += [pool(f"c{i:02d}", "gpu-h100", 1, 1) for i in range(7)]
    axes = axes_of(plots.pool_utilisation([step(0, 0, pools=pools)]))
    assert series(axes) == {
        "gpu-h100 (7 clusters)": [100.0],
        "gpu-l4 (14 clusters)": [600 / 28],
        "whole fleet": [1300 / 35],  # (6 + 7) used of (28 + 7) published
    }


def test_a_fleet_with_many_pool_names_shows_the_middle_half_of_pools() -> None:
    # 13 pools, all named differently, used 0/4, 1/4, ... : the quartiles are read off sorted.
    pools = [pool(f"c{i:02d}", f"pool-{i:02d}", 4, min(i, 4)) for i in range(13)]
    axes = axes_of(plots.pool_utilisation([step(0, 0, pools=pools), step(1, 2, pools=pools)]))
    assert list(series(axes)) == ["whole fleet"]
    assert legend(axes) == ["middle half of 13 pools", "whole fleet"]
    (band,) = axes.collections
    ys = sorted({round(float(y), 6) for path in band.get_paths() for _, y in path.vertices})
    # Percentages sorted: 0, 25, 50, 75, then nine 100s; index round(.25*12)=3 -> 75, 9 -> 100.
    assert ys == [75.0, 100.0]


def test_replicas_per_cluster_stacks_the_busiest_and_groups_the_rest() -> None:
    # 15 clusters hosting 1..15 replicas: the 12 busiest are drawn, the 3 quietest grouped.
    clusters = [
        ClusterRow(cluster=f"c{i:02d}", ready=True, replicas=i + 1, ready_replicas=i + 1)
        for i in range(15)
    ]
    drained = [
        ClusterRow(
            cluster=c.cluster, ready=True, replicas=0 if c.cluster == "c14" else 2, ready_replicas=0
        )
        for c in clusters
    ]
    figure = plots.replicas_per_cluster(
        [step(0, 0, clusters=clusters), step(1, 1, clusters=drained, events=("drain",))]
    )
    axes = axes_of(figure)
    shown = [f"c{i:02d}" for i in range(3, 15)]
    # Listed top to bottom as stacked: the group is on top, the first name at the bottom.
    assert legend(axes) == ["3 other clusters", *reversed(shown), "event"]
    bands = axes.collections
    assert len(bands) == 13
    colours = {tuple(band.get_facecolor()[0]) for band in bands}
    assert len(colours) == 13, "two bands share a colour"
    # The top band's upper edge peaks at the fleet total before the drain: 1 + 2 + ... + 15.
    top = max(float(y) for path in bands[-1].get_paths() for _, y in path.vertices)
    assert top == sum(range(1, 16))
    assert event_marks(axes) == [1.0]


def test_shortfall_counts_unplaced_and_starting_replicas() -> None:
    def row(name: str, wanted: int, placed: int, ready: int) -> DeploymentRow:
        return DeploymentRow(
            deployment=name, wanted=wanted, placed=placed, ready=ready, reason=None
        )

    steps = [
        step(0, 0, deployments=[row("a", 3, 0, 0), row("b", 1, 0, 0)]),
        step(1, 0.5, deployments=[row("a", 3, 2, 0), row("b", 1, 1, 1)]),
        step(2, 1, deployments=[row("a", 3, 2, 2), row("b", 1, 1, 1)], events=("drain",)),
    ]
    axes = axes_of(plots.shortfall(steps))
    assert series(axes) == {
        "wanted, not placed": [4.0, 1.0, 1.0],
        "placed, not ready": [0.0, 2.0, 0.0],
    }
    assert event_marks(axes) == [1.0]


def test_no_steps_draws_empty_figures() -> None:
    for draw in plots.ALL.values():
        axes = axes_of(draw([]))
        assert event_marks(axes) == []


def test_coinciding_lines_stay_visible() -> None:
    # Two pools used alike draw the same line; the later must not hide the earlier.
    steps = [
        step(0, 0, pools=[pool("a", "gpu", 2, 0), pool("b", "gpu", 2, 0)]),
        step(1, 1, pools=[pool("a", "gpu", 2, 2), pool("b", "gpu", 2, 2)], events=("scale",)),
    ]
    axes = axes_of(plots.pool_utilisation(steps))
    first, second = [line for line in axes.get_lines() if line.get_label() in ("a/gpu", "b/gpu")]
    assert list(first.get_ydata()) == list(second.get_ydata())
    assert second.get_linewidth() < first.get_linewidth()  # drawn on top, thinner
    assert second.get_linestyle() != first.get_linestyle()
    shortfall = axes_of(plots.shortfall([step(0, 0)]))
    wanted, starting = [line for line in shortfall.get_lines() if line.get_linestyle() != ":"]
    assert starting.get_linewidth() < wanted.get_linewidth()


def test_each_event_mark_says_what_happened() -> None:
    steps = [
        step(0, 0, pools=[pool("a", "gpu", 2, 0)]),
        step(1, 1, pools=[pool("a", "gpu", 2, 1)], events=("outage of cluster eks-eu-central",)),
        step(2, 2, pools=[pool("a", "gpu", 2, 2)], events=("scale ml-team/qwen to 3", "drain a")),
    ]
    for draw in plots.ALL.values():
        axes = axes_of(draw(steps))
        labels = [(float(t.get_position()[0]), t.get_text().strip()) for t in axes.texts]
        assert labels == [
            (1.0, "outage of cluster eks-eu-central"),
            (2.0, "scale ml-team/qwen to 3 (+1 more)"),
        ]


def test_many_events_are_marked_and_counted_not_each_labelled() -> None:
    steps = [step(0, 0)] + [step(i, i, events=(f"event {i}",)) for i in range(1, 30)]
    axes = axes_of(plots.shortfall(steps))
    assert len(event_marks(axes)) == 29
    assert len(axes.texts) == 0
    assert "event (29; see the timeline)" in legend(axes)


def test_a_run_is_drawn_until_the_time_asked_for() -> None:
    steps = [
        step(0, 0, pools=[pool("a", "gpu", 2, 0)]),
        step(1, 1, pools=[pool("a", "gpu", 2, 1)], events=("scale",)),
    ]
    for draw in plots.ALL.values():
        axes = axes_of(draw(steps, until=6 * 3600))
        assert axes.get_xlim() == (0.0, 6.0)
    axes = axes_of(plots.pool_utilisation(steps, until=6 * 3600))
    (line,) = [line for line in axes.get_lines() if line.get_label() == "a/gpu"]
    assert list(line.get_xdata()) == [0.0, 1.0, 6.0]
    assert list(line.get_ydata()) == [0.0, 50.0, 50.0]  # held from the last step
    assert event_marks(axes) == [1.0]  # holding adds no event
    early = axes_of(plots.pool_utilisation(steps, until=1800))
    assert early.get_xlim() == (0.0, 1.0)  # never cut before the last step
