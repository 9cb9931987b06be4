"""Every scheduling rule, one small fleet each — including the reference's bugs, fixed."""

from __future__ import annotations

import pytest

from modelplane_core import api
from modelplane_core.scheduling import CacheFootprint, schedule
from tests.scheduling_fixtures import (
    IB,
    cluster,
    deployment,
    engine,
    gang,
    gpu,
    mem_at_least,
    mem_below,
    member,
    nic,
    pool,
    pools_of,
    replica,
    stamped,
    where,
)

MEM_141 = mem_at_least("141Gi")
MEM_200 = mem_at_least("200Gi")


# --- fill, spread and pack -----------------------------------------------------------


def test_no_clusters_places_nothing_and_says_so() -> None:
    result = schedule(deployment(), [], [])
    assert (where(result), result.shortfall) == ([], 1)
    assert result.summary() == "0/1 replicas scheduled; 0/0 clusters available"


def test_single_ready_cluster_is_picked() -> None:
    result = schedule(deployment(), [cluster("a")], [])
    assert where(result) == [("a", 0)]
    assert result.summary() == "1/1 replicas scheduled on 1 cluster"


def test_replicas_spread_before_packing_and_ties_break_by_name() -> None:
    clusters = [
        cluster("c", pool(nodes=4)),
        cluster("a", pool(nodes=4)),
        cluster("b", pool(nodes=4)),
    ]
    assert where(schedule(deployment(replicas=2), clusters, [])) == [("a", 0), ("b", 0)]
    assert where(schedule(deployment(replicas=4), clusters, [])) == [
        ("a", 0),
        ("a", 1),
        ("b", 0),
        ("c", 0),
    ]


def test_capacity_forces_packing_past_the_spread_preference() -> None:
    # b fits one replica only, so the third goes back to a; with names swapped the
    # spread rule alone would have chosen b again.
    clusters = [cluster("a", pool(nodes=1)), cluster("b", pool(nodes=4))]
    assert where(schedule(deployment(replicas=3), clusters, [])) == [("a", 0), ("b", 0), ("b", 1)]


def test_new_replica_takes_the_lowest_free_index() -> None:
    existing = [replica("my-model", "a", 0), replica("my-model", "a", 2)]
    result = schedule(deployment(replicas=3), [cluster("a", pool(nodes=4))], existing)
    assert where(result) == [("a", 0), ("a", 1), ("a", 2)]
    assert [p.retained for p in result.placements] == [True, False, True]


def test_partial_shortfall_is_reported_as_a_shortfall() -> None:
    result = schedule(
        deployment(replicas=3), [cluster("a", pool(nodes=2)), cluster("b", pool(nodes=0))], []
    )
    assert (result.placed, result.shortfall) == (2, 1)
    codes = {r.cluster: r.code for r in result.reasons}
    assert codes == {"a": "InsufficientNodes", "b": "InsufficientNodes"}
    assert result.summary() == (
        "2/3 replicas scheduled; 0/2 clusters available: "
        "2 insufficient nodes in pool default (need 1, free 0)"
    )


def test_multi_node_engine_needs_enough_nodes_and_copies_multiply() -> None:
    assert where(schedule(deployment(engines=[gang(4)]), [cluster("a", pool(nodes=2))], [])) == []
    fits = deployment(engines=[engine("main", member(), copies=2)])
    assert where(schedule(fits, [cluster("a", pool(nodes=2))], [])) == [("a", 0)]
    too_many = deployment(engines=[engine("main", member(), copies=3)])
    result = schedule(too_many, [cluster("a", pool(nodes=2))], [])
    assert where(result) == []
    assert result.reasons[0].summary == "insufficient nodes in pool default (need 3, free 2)"


# --- retain ------------------------------------------------------------------------


def test_existing_replica_is_retained_where_it_runs() -> None:
    clusters = [cluster("a"), cluster("b")]
    result = schedule(deployment(), clusters, [replica("my-model", "b", 0)])
    assert where(result) == [("b", 0)]
    assert result.placements[0].replica_name == replica("my-model", "b", 0).metadata.name


def test_own_replicas_do_not_count_against_themselves() -> None:
    result = schedule(deployment(), [cluster("a", pool(nodes=1))], [replica("my-model", "a", 0)])
    assert where(result) == [("a", 0)]


def test_degraded_cluster_keeps_its_replica_but_takes_no_new_one() -> None:
    clusters = [cluster("a", ready=False, gateway=None), cluster("b")]
    result = schedule(deployment(replicas=2), clusters, [replica("my-model", "a", 0)])
    assert where(result) == [("a", 0), ("b", 0)]


def test_deleted_cluster_re_places_the_replica_elsewhere() -> None:
    result = schedule(deployment(), [cluster("b")], [replica("my-model", "a", 0)])
    assert where(result) == [("b", 0)]
    assert [(d.code, d.cluster) for d in result.dropped] == [("ClusterGone", "a")]


def test_pinned_pool_that_still_matches_stays_even_when_another_is_better() -> None:
    # Attribute drift is sticky: a healthy replica never moves to improve the picture.
    clusters = [
        cluster(
            "a", pool("frontier", devices=[gpu("200Gi")]), pool("alpha", devices=[gpu("141Gi")])
        )
    ]
    existing = [replica("my-model", "a", 0, (("main", (("Standalone", "frontier", True),)),))]
    assert pools_of(schedule(deployment(), clusters, existing)) == [["frontier"]]


def test_selector_edit_re_places_onto_a_now_matching_pool() -> None:
    clusters = [
        cluster("a", pool("small", devices=[gpu("141Gi")]), pool("big", devices=[gpu("200Gi")]))
    ]
    existing = [replica("my-model", "a", 0, (("main", (("Standalone", "small", True),)),))]
    edited = deployment(engines=[engine("main", member("Standalone", MEM_200))])
    result = schedule(edited, clusters, existing)
    assert (where(result), pools_of(result)) == ([("a", 0)], [["big"]])
    assert result.placements[0].retained is False
    assert [d.code for d in result.dropped] == ["PoolMismatch"]


def test_vanished_pool_drops_the_replica_and_charges_nothing() -> None:
    existing = [
        replica("my-model", "a", 0, (("main", (("Standalone", "frontier", True),)),)),
        replica("my-model", "a", 1, (("main", (("Standalone", "gone", True),)),)),
    ]
    result = schedule(deployment(replicas=2), [cluster("a", pool("frontier", nodes=2))], existing)
    assert (where(result), pools_of(result)) == ([("a", 0), ("a", 1)], [["frontier"], ["frontier"]])
    assert [d.code for d in result.dropped] == ["PoolGone"]


def test_shape_change_re_places() -> None:
    existing = [replica("my-model", "a", 0)]
    now_a_gang = deployment(engines=[gang(2)], cache="weights")
    result = schedule(now_a_gang, [cluster("a", pool(nodes=4))], existing)
    assert where(result) == [("a", 0)]
    assert result.placements[0].retained is False
    assert [d.code for d in result.dropped] == ["ShapeChanged"]


def test_duplicate_identity_keeps_the_lower_name() -> None:
    existing = [
        replica("my-model", "a", 0, name="my-model-zz"),
        replica("my-model", "a", 0, name="my-model-aa"),
    ]
    result = schedule(deployment(), [cluster("a")], existing)
    assert [p.replica_name for p in result.placements] == ["my-model-aa"]
    assert [(d.replica_name, d.code) for d in result.dropped] == [("my-model-zz", "Duplicate")]


def test_malformed_index_label_is_not_read_as_zero() -> None:
    existing = [replica("my-model", "a", 0, index_label="zero")]
    result = schedule(deployment(), [cluster("a")], existing)
    assert [d.code for d in result.dropped] == ["MalformedIdentity"]
    assert [(p.cluster, p.index, p.retained) for p in result.placements] == [("a", 0, False)]


def test_grown_shape_is_kept_when_it_fits_and_re_placed_when_it_does_not() -> None:
    # A pool of 6: the replica was stamped with a 2-node gang; the edit makes it 4.
    old = replica(
        "my-model",
        "a",
        0,
        (("main", (("Leader", "default", True), ("Worker", "default", True))),),
        worker_nodes=1,
    )
    grown = deployment(engines=[gang(4)], cache="w")
    kept = schedule(grown, [cluster("a", pool(nodes=6))], [old])
    assert [(p.index, p.retained, p.nodes) for p in kept.placements] == [(0, True, 4)]
    squeezed = schedule(grown, [cluster("a", pool(nodes=3))], [old])
    assert [d.code for d in squeezed.dropped] == ["GrownShapeDoesNotFit"]
    assert where(squeezed) == []  # never overcommitted by our own placement


# --- scale down -----------------------------------------------------------------------


def test_scale_down_drops_from_the_most_loaded_cluster_highest_index_first() -> None:
    clusters = [cluster("a", pool(nodes=4)), cluster("b", pool(nodes=4))]
    existing = [
        replica("my-model", "a", 0),
        replica("my-model", "a", 1),
        replica("my-model", "b", 3),
    ]
    result = schedule(deployment(replicas=2), clusters, existing)
    assert where(result) == [("a", 0), ("b", 3)]
    assert [(d.cluster, d.index, d.code) for d in result.dropped] == [("a", 1, "ScaledDown")]


def test_scale_down_prefers_a_degraded_cluster_among_equals() -> None:
    clusters = [cluster("a"), cluster("b", ready=False)]
    existing = [replica("my-model", "a", 0), replica("my-model", "b", 0)]
    assert where(schedule(deployment(replicas=1), clusters, existing)) == [("a", 0)]
    healthy = [cluster("a"), cluster("b")]
    assert where(schedule(deployment(replicas=1), healthy, existing)) == [("a", 0)]


# --- the fleet ledger ----------------------------------------------------------------------


def test_other_deployments_consume_nodes_at_their_stamped_cost() -> None:
    other = replica("other-model", "a", 0)
    result = schedule(deployment(), [cluster("a", pool(nodes=1))], [other])
    assert where(result) == []
    assert result.reasons[0].summary == "insufficient nodes in pool default (need 1, free 0)"


def test_replicas_pinned_to_vanished_pools_and_claimless_members_charge_nothing() -> None:
    vanished = replica("other-model", "a", 0, (("main", (("Standalone", "gone", True),)),))
    coordinator = replica(
        "third",
        "a",
        0,
        (("main", (("Leader", "frontier", False), ("Worker", "frontier", True))),),
        worker_nodes=1,
    )
    result = schedule(
        deployment(), [cluster("a", pool("frontier", nodes=2))], [vanished, coordinator]
    )
    assert where(result) == [("a", 0)]


def test_zero_node_pool_and_zero_count_device_host_nothing() -> None:
    assert where(schedule(deployment(), [cluster("a", pool(nodes=0))], [])) == []
    no_gpus = cluster("a", pool(devices=[gpu(count=0)]))
    result = schedule(deployment(), [no_gpus], [])
    assert where(result) == []
    assert result.reasons[0].code == "NoPool"
    assert "published with count 0" in result.reasons[0].detail


# --- device matching -------------------------------------------------------------------------


def test_matching_request_records_pool_and_resolved_device_request() -> None:
    result = schedule(deployment(), [cluster("a", pool("frontier"))], [])
    [placement] = result.placements
    [member_placement] = placement.engines[0].members
    assert member_placement.pool == "frontier"
    assert member_placement.device_requests == (
        api.ResolvedDeviceRequest(
            name="gpu",
            device_class_name="gpu.nvidia.com",
            count=1,
            selectors=(api.DeviceSelector(cel=MEM_141),),
        ),
    )
    assert member_placement.nodes == 1


@pytest.mark.parametrize(
    ("requests", "devices", "placed"),
    [
        pytest.param([("gpu", 1, [MEM_200])], [gpu("141Gi")], False, id="selector-mismatch"),
        pytest.param([("gpu", 8, [MEM_141])], [gpu(count=4)], False, id="count-not-covered"),
        pytest.param(
            [("a", 1, [MEM_141]), ("b", 1, [MEM_141])],
            [gpu(count=1)],
            False,
            id="one-device-two-requests",
        ),
        pytest.param(
            [("a", 5, [MEM_141]), ("b", 5, [MEM_141])], [gpu(count=8)], False, id="counts-add-up"
        ),
        pytest.param(
            [("a", 4, [MEM_141]), ("b", 4, [MEM_141])], [gpu(count=8)], True, id="counts-share"
        ),
        pytest.param(
            # Greedy assignment would give "a" the 200Gi device and reject; exact search fits.
            [("a", 1, [MEM_141]), ("b", 1, [MEM_200])],
            [gpu("200Gi", name="big"), gpu("141Gi", name="small")],
            True,
            id="no-greedy-false-reject",
        ),
    ],
)
def test_device_requests_are_assigned_exactly(
    requests: list[tuple[str, int, list[str]]], devices: list[api.Device], placed: bool
) -> None:
    dep = deployment(engines=[engine("main", member(requests=requests))])
    assert bool(schedule(dep, [cluster("a", pool(devices=devices))], []).placements) is placed


def test_count_is_checked_per_pool_not_summed_across_the_cluster() -> None:
    clusters = [
        cluster("a", pool("four", devices=[gpu(count=4)]), pool("eight", devices=[gpu(count=8)]))
    ]
    result = schedule(deployment(engines=[engine("main", member(count=8))]), clusters, [])
    assert pools_of(result) == [["eight"]]
    assert result.placements[0].engines[0].members[0].device_requests[0].count == 8


def test_synthetic_devices_gate_placement_but_are_never_claimed() -> None:
    requests = [("gpu", 1, [MEM_141]), ("nic", 1, [IB])]
    dep = deployment(engines=[engine("main", member(requests=requests))])
    placed = schedule(dep, [cluster("a", pool(devices=[gpu(), nic()]))], [])
    assert [r.name for r in placed.placements[0].engines[0].members[0].device_requests] == ["gpu"]
    assert where(schedule(dep, [cluster("a", pool(devices=[gpu()]))], [])) == []


def test_an_engine_that_claims_nothing_is_not_placeable() -> None:
    dep = deployment(engines=[engine("main", member(requests=[("nic", 1, [IB])]))])
    result = schedule(dep, [cluster("a", pool(devices=[gpu(), nic()]))], [])
    assert where(result) == []
    assert "no member resolves a claimable (DRA) device" in result.reasons[0].detail


def test_a_member_claimable_elsewhere_is_not_stranded_on_a_synthetic_match() -> None:
    clusters = [
        cluster(
            "a",
            pool("mixed", devices=[gpu("141Gi"), gpu("200Gi", name="syn", claim="Synthetic")]),
            pool("big", devices=[gpu("200Gi")]),
        )
    ]
    dep = deployment(
        engines=[engine("main", member("Leader", MEM_200), member("Worker", MEM_141))], cache="w"
    )
    result = schedule(dep, clusters, [])
    assert pools_of(result) == [["big"]]
    members = result.placements[0].engines[0].members
    assert [len(m.device_requests) for m in members] == [1, 1]


def test_a_member_synthetic_only_everywhere_rides_claimless() -> None:
    dep = deployment(
        engines=[
            engine("main", member("Leader", requests=[("nic", 1, [IB])]), member("Worker", MEM_141))
        ],
        cache="w",
    )
    result = schedule(dep, [cluster("a", pool(devices=[gpu(), nic()]))], [])
    members = result.placements[0].engines[0].members
    assert [(m.device_requests != (), m.nodes) for m in members] == [(False, 0), (True, 1)]


# --- gangs and pools --------------------------------------------------------------------------


def test_every_member_of_an_engine_lands_on_one_pool_satisfying_all() -> None:
    clusters = [
        cluster("a", pool("small", devices=[gpu("141Gi")]), pool("big", devices=[gpu("200Gi")]))
    ]
    dep = deployment(
        engines=[engine("main", member("Leader", MEM_141), member("Worker", MEM_200))], cache="w"
    )
    assert pools_of(schedule(dep, clusters, [])) == [["big"]]
    split = deployment(
        engines=[engine("main", member("Leader", MEM_200), member("Worker", mem_below("200Gi")))],
        cache="w",
    )
    result = schedule(split, clusters, [])
    assert where(result) == []
    assert result.reasons[0].summary == 'no pool satisfies engine "main"'


def test_a_claimless_leader_rides_on_its_gangs_pool_at_zero_cost() -> None:
    dep = deployment(
        engines=[engine("main", member("Leader", claimless=True), member("Worker", MEM_141))],
        cache="w",
    )
    result = schedule(dep, [cluster("a", pool("frontier", nodes=1))], [])
    assert [(m.pool, m.nodes) for m in result.placements[0].engines[0].members] == [
        ("frontier", 0),
        ("frontier", 1),
    ]


def test_engines_are_assigned_pools_exactly_not_first_fit() -> None:
    # First-fit would put e1 (>=141Gi) on the only 200Gi pool that e2 needs.
    clusters = [
        cluster(
            "a",
            pool("a-big", nodes=1, devices=[gpu("200Gi")]),
            pool("b-small", nodes=1, devices=[gpu("141Gi")]),
        )
    ]
    dep = deployment(
        engines=[
            engine("e1", member("Standalone", MEM_141)),
            engine("e2", member("Standalone", MEM_200)),
        ]
    )
    result = schedule(dep, clusters, [])
    assert pools_of(result) == [["b-small", "a-big"]]


def test_engines_on_the_same_pool_share_its_nodes() -> None:
    dep = deployment(engines=[engine("e1"), engine("e2")])
    assert where(schedule(dep, [cluster("a", pool(nodes=1))], [])) == []
    assert pools_of(schedule(dep, [cluster("a", pool(nodes=2))], [])) == [["default", "default"]]


# --- clusters: labels, taints, cache footprint ---------------------------------------------


def test_cluster_selector_and_taints_filter_new_placements() -> None:
    clusters = [
        cluster("a", labels={"region": "us-east"}),
        cluster("b", labels={"region": "us-west"}),
        cluster(
            "c",
            labels={"region": "us-west"},
            taints=[api.Taint(key="maint", value="on", effect="NoSchedule")],
        ),
    ]
    result = schedule(deployment(replicas=3, selector={"region": "us-west"}), clusters, [])
    # b's pool has two nodes; a is outside the selector and c is tainted.
    assert where(result) == [("b", 0), ("b", 1)]
    assert {r.cluster: r.summary for r in result.reasons} == {
        "a": "didn't match clusterSelector",
        "b": "insufficient nodes in pool default (need 1, free 0)",
        "c": "had untolerated taint maint=on:NoSchedule",
    }
    assert result.summary() == (
        "2/3 replicas scheduled; 0/3 clusters available: 1 didn't match clusterSelector, "
        "1 had untolerated taint maint=on:NoSchedule, "
        "1 insufficient nodes in pool default (need 1, free 0)"
    )


TAINT_MAINT = api.Taint(key="modelplane.ai/maintenance", value="on", effect="NoSchedule")
TAINT_DECOMM = api.Taint(key="modelplane.ai/decommission", effect="NoExecute")


@pytest.mark.parametrize(
    ("taints", "tolerations", "existing_on_a", "expected"),
    [
        pytest.param([TAINT_MAINT], [], False, [("b", 0)], id="noschedule-keeps-new-off"),
        pytest.param([TAINT_MAINT], [], True, [("a", 0)], id="noschedule-leaves-existing"),
        pytest.param(
            [TAINT_MAINT],
            [api.Toleration(key="modelplane.ai/maintenance", operator="Exists")],
            False,
            [("a", 0)],
            id="toleration-allows",
        ),
        pytest.param([TAINT_DECOMM], [], True, [("b", 0)], id="noexecute-drains"),
        pytest.param(
            [TAINT_DECOMM],
            [api.Toleration(key="modelplane.ai/decommission", operator="Exists")],
            True,
            [("a", 0)],
            id="noexecute-tolerated",
        ),
        pytest.param(
            [TAINT_DECOMM],
            [
                api.Toleration(
                    key="modelplane.ai/decommission", operator="Exists", effect="NoSchedule"
                )
            ],
            True,
            [("b", 0)],
            id="noschedule-toleration-does-not-cover-noexecute",
        ),
        pytest.param(
            [TAINT_MAINT, api.Taint(key="reserved", effect="NoSchedule")],
            [api.Toleration(key="modelplane.ai/maintenance", operator="Exists")],
            False,
            [("b", 0)],
            id="second-taint-still-repels",
        ),
        pytest.param(
            [TAINT_MAINT],
            [api.Toleration(key="modelplane.ai/maintenance", operator="Equal", value="off")],
            False,
            [("b", 0)],
            id="equal-needs-the-value",
        ),
        pytest.param(
            [TAINT_MAINT, TAINT_DECOMM],
            [api.Toleration(operator="Exists")],
            True,
            [("a", 0)],
            id="keyless-exists",
        ),
    ],
)
def test_taints_and_tolerations(
    taints: list[api.Taint],
    tolerations: list[api.Toleration],
    existing_on_a: bool,
    expected: list[tuple[str, int]],
) -> None:
    clusters = [cluster("a", taints=taints), cluster("b")]
    existing = [replica("my-model", "a", 0)] if existing_on_a else []
    assert where(schedule(deployment(tolerations=tolerations), clusters, existing)) == expected


def test_noexecute_drain_with_nowhere_to_go_leaves_the_count_unmet() -> None:
    result = schedule(
        deployment(), [cluster("a", taints=[TAINT_DECOMM])], [replica("my-model", "a", 0)]
    )
    assert (where(result), [d.code for d in result.dropped]) == ([], ["Drained"])


def test_cache_footprint_narrows_new_placements_only() -> None:
    clusters = [cluster("a", labels={"tier": "gpu"}), cluster("b", labels={"tier": "cpu"})]
    cache = CacheFootprint(name="weights", state="Present", selector={"tier": "gpu"})
    result = schedule(deployment(replicas=2), clusters, [replica("my-model", "b", 0)], cache)
    assert where(result) == [("a", 0), ("b", 0)]  # b keeps its replica, outside the footprint
    fresh = schedule(deployment(replicas=3), clusters, [], cache)
    assert where(fresh) == [("a", 0), ("a", 1)]  # b is never a new home
    assert {r.cluster: r.code for r in fresh.reasons} == {
        "a": "InsufficientNodes",
        "b": "CacheFootprint",
    }


def test_a_cache_is_only_used_where_it_can_be_staged() -> None:
    clusters = [cluster("a", cache_storage=False), cluster("b")]
    cache = CacheFootprint(name="weights", state="Present")
    result = schedule(deployment(replicas=2), clusters, [replica("my-model", "a", 0)], cache)
    assert where(result) == [("a", 0), ("b", 0)]  # a keeps its replica; new ones go to b only
    fresh = schedule(deployment(replicas=2, cache="weights"), clusters, [], cache)
    assert where(fresh) == [("b", 0), ("b", 1)]
    assert [(r.cluster, r.code, r.summary) for r in schedule(
        deployment(replicas=3), clusters, [], cache
    ).reasons] == [
        ("a", "CacheFootprint", "no storage for ModelCache 'weights'"),
        ("b", "InsufficientNodes", "insufficient nodes in pool default (need 1, free 0)"),
    ]  # fmt: skip


def test_conflicting_selectors_mean_no_candidates_never_a_silent_override() -> None:
    clusters = [
        cluster("east", labels={"region": "us-east"}),
        cluster("west", labels={"region": "us-west"}),
    ]
    cache = CacheFootprint(name="weights", state="Present", selector={"region": "us-west"})
    result = schedule(deployment(selector={"region": "us-east"}), clusters, [], cache)
    assert where(result) == []
    assert {r.code for r in result.reasons} == {"ConflictingSelectors"}
    assert "clusterSelector conflicts with ModelCache 'weights'" in result.summary()


@pytest.mark.parametrize(
    ("state", "held"),
    [("Unknown", "waiting for ModelCache 'w'"), ("Absent", "ModelCache 'w' not found")],
)
def test_unknown_or_missing_cache_holds_new_placements_and_keeps_running_ones(
    state: str, held: str
) -> None:
    cache = CacheFootprint(name="w", state=state)  # type: ignore[arg-type]
    result = schedule(
        deployment(replicas=2), [cluster("a"), cluster("b")], [replica("my-model", "a", 0)], cache
    )
    assert where(result) == [("a", 0)]
    assert result.held == held
    assert result.summary() == f"1/2 replicas scheduled; new placements held: {held}"


# --- explanations and errors ---------------------------------------------------------------------


def test_explanation_counts_clusters_like_kube_scheduler() -> None:
    clusters = [
        cluster("a", ready=False),
        cluster("b", gateway=None),
        cluster("c", pool(nodes=0)),
        cluster("d", pool(devices=[gpu("80Gi")])),
        cluster("e", pool(devices=[gpu("80Gi")])),
    ]
    result = schedule(deployment(), clusters, [])
    assert result.summary() == (
        "0/1 replicas scheduled; 0/5 clusters available: "
        '2 no pool satisfies engine "main", '
        "1 insufficient nodes in pool default (need 1, free 0), "
        "1 no gateway address, 1 not ready"
    )
    detail = {r.cluster: r.detail for r in result.reasons}["d"]
    assert detail.startswith(
        "no pool of cluster 'd' satisfies engine \"main\": pool default: member 0"
    )
    assert "selector #1 is false for device 'gpu'" in detail


def test_invalid_selector_is_reported_not_raised() -> None:
    broken = deployment(
        engines=[
            engine(
                "main", member("Standalone", 'device.capacity["x"].memory.compareTo(quantty("1"))')
            )
        ]
    )
    result = schedule(broken, [cluster("a")], [replica("my-model", "a", 0)])
    assert result.placements == ()
    assert result.invalid is not None
    assert (
        result.invalid.path == "spec.engines[0].members[0].nodeSelector.devices[0].selectors[0].cel"
    )
    assert "quantty" in result.invalid.message


def test_re_running_on_its_own_output_is_a_fixed_point() -> None:
    dep = deployment(
        replicas=3, engines=[engine("e1"), engine("e2", member("Standalone", MEM_141))]
    )
    clusters = [cluster("a", pool(nodes=4)), cluster("b", pool("p", nodes=2), pool("q", nodes=2))]
    first = schedule(dep, clusters, [])
    replicas = [stamped(dep, p) for p in first.placements]
    second = schedule(dep, clusters, replicas)
    assert [(p.cluster, p.index, p.engines) for p in second.placements] == [
        (p.cluster, p.index, p.engines) for p in first.placements
    ]
    assert all(p.retained for p in second.placements)
    assert second.dropped == ()
