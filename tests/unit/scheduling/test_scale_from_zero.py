"""Autoscaled pools: the scheduler may use up to maxNodes, and says what must scale up."""

from __future__ import annotations

import attrs

from modelplane_core import api
from modelplane_core.scheduling import FleetPass, schedule
from tests.scheduling_fixtures import cluster, deployment, pool, replica, where


def autoscaled(nodes: int, max_nodes: int | None) -> api.GpuPool:
    return attrs.evolve(pool("default", nodes=nodes), max_nodes=max_nodes)


def test_a_pool_scaled_to_zero_takes_replicas_and_reports_the_scale_up() -> None:
    result = schedule(deployment(replicas=2), [cluster("a", autoscaled(0, 3))], [])
    assert where(result) == [("a", 0), ("a", 1)]
    assert [p.scale_up for p in result.placements] == [(("default", 1),), (("default", 1),)]
    assert result.summary() == "2/2 replicas scheduled on 1 cluster; scaling up a/default +2"


def test_only_nodes_beyond_the_current_ones_are_scale_up() -> None:
    result = schedule(deployment(replicas=3), [cluster("a", autoscaled(2, 4))], [])
    assert [p.scale_up for p in result.placements] == [(), (), (("default", 1),)]


def test_the_maximum_is_a_hard_limit() -> None:
    result = schedule(deployment(replicas=3), [cluster("a", autoscaled(0, 2))], [])
    assert result.placed == 2
    assert "insufficient nodes in pool default (need 1, free 0)" in result.summary()
    assert "scaling up a/default +2" in result.summary()


def test_a_fixed_pool_offers_its_nodes_only() -> None:
    for fixed in (autoscaled(1, None), autoscaled(2, 1)):  # no max, or a max below nodes
        result = schedule(deployment(replicas=3), [cluster("a", fixed)], [])
        assert result.placed == fixed.nodes
        assert all(p.scale_up == () for p in result.placements)


def test_running_replicas_count_before_scale_up_is_reported() -> None:
    running = [replica("other", "a", 0)]
    fleet = FleetPass.of([cluster("a", autoscaled(1, 3))], running)
    result = fleet.schedule(deployment())
    assert result.placements[0].scale_up == (("default", 1),)  # the 1 node is taken
