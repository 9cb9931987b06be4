"""Pool publication: the scheduler's capacity, derived one way for every caller."""

from __future__ import annotations

import attrs

from modelplane_core import api
from modelplane_core.compose.platform.pools import (
    class_names,
    publish_pools,
    review_pools,
    with_published_pools,
)
from tests.unit.compose.platform.fixtures import (
    existing_cluster,
    gpu_device,
    inference_class,
    provisioned_cluster,
)

L4 = inference_class("l4")
H100 = inference_class("h100", devices=(gpu_device(count=8),))


def pool(name: str, class_name: str = "l4", nodes: int = 2, **fields: object) -> api.NodePool:
    return api.NodePool(name=name, class_name=class_name, node_count=nodes, **fields)  # type: ignore[arg-type]


def test_nodes_come_from_node_count_not_the_autoscaling_ceiling() -> None:
    cluster = existing_cluster("c", [pool("a", nodes=2, min_node_count=1, max_node_count=10)])
    pools, problems = publish_pools(cluster.spec, {"l4": L4})
    assert [(p.name, p.nodes) for p in pools] == [("a", 2)]
    assert problems == []


def test_devices_are_copied_from_the_class() -> None:
    cluster = existing_cluster("c", [pool("a", "h100"), pool("b", "l4")])
    pools, _ = publish_pools(cluster.spec, {"l4": L4, "h100": H100})
    assert [p.devices for p in pools] == [H100.spec.devices, L4.spec.devices]


def test_a_missing_class_withholds_only_its_pool() -> None:
    cluster = existing_cluster("c", [pool("a", "gone"), pool("b", "l4")])
    pools, problems = publish_pools(cluster.spec, {"l4": L4})
    assert [p.name for p in pools] == ["b"]
    [problem] = problems
    assert (problem.pool, problem.path, problem.published) == (
        "a",
        "spec.nodePools[0].className",
        False,
    )
    assert "'gone' does not exist" in problem.message
    assert "pool 'a' (spec.nodePools[0].className)" in str(problem)


def test_an_unreadable_class_is_reported_as_unreadable_not_missing() -> None:
    cluster = existing_cluster("c", [pool("a", "broken")])
    pools, problems = publish_pools(cluster.spec, {}, unreadable={"broken": "spec: bad"})
    assert pools == ()
    assert "cannot be read: spec: bad" in problems[0].message


def test_a_dra_device_without_device_class_withholds_the_pool_naming_both_fields() -> None:
    bad = inference_class("bad", devices=(gpu_device(device_class_name=None),))
    cluster = existing_cluster("c", [pool("a", "bad"), pool("b", "l4")])
    pools, problems = publish_pools(cluster.spec, {"bad": bad, "l4": L4})
    assert [p.name for p in pools] == ["b"]
    [problem] = problems
    assert problem.path == "spec.nodePools[0].className"
    assert "spec.devices[0].deviceClassName" in problem.message


def test_an_invalid_capacity_quantity_withholds_the_pool() -> None:
    bad = inference_class(
        "bad", devices=(gpu_device(capacity={"memory": api.DeviceCapacity(value="24 GB")}),)
    )
    cluster = existing_cluster("c", [pool("a", "bad")])
    pools, problems = publish_pools(cluster.spec, {"bad": bad})
    assert pools == ()
    assert "capacity[memory].value" in problems[0].message


def test_a_zero_node_pool_is_published_with_a_notice() -> None:
    cluster = existing_cluster("c", [pool("a", nodes=0)])
    pools, problems = publish_pools(cluster.spec, {"l4": L4})
    assert [(p.name, p.nodes) for p in pools] == [("a", 0)]
    [notice] = problems
    assert (notice.path, notice.published) == ("spec.nodePools[0].nodeCount", True)
    assert "0 nodes" in notice.message


def test_an_autoscaled_pool_publishes_its_ceiling_beside_its_current_nodes() -> None:
    cluster = existing_cluster(
        "c",
        [pool("zero", nodes=0, max_node_count=4), pool("fixed", nodes=2)],
    )
    pools, problems = publish_pools(cluster.spec, {"l4": L4})
    assert [(p.name, p.nodes, p.max_nodes) for p in pools] == [("zero", 0, 4), ("fixed", 2, None)]
    # Scaled to zero is recognisable on the wire: nodes 0, maxNodes above it.
    wire = api.to_dict(with_published_pools(cluster, {"l4": L4}))["status"]["gpuPools"]
    assert [{k: p.get(k) for k in ("nodes", "maxNodes")} for p in wire] == [
        {"nodes": 0, "maxNodes": 4},
        {"nodes": 2, "maxNodes": None},
    ]
    [notice] = problems
    assert notice.published
    assert notice.message == (
        "the pool has 0 nodes now; its autoscaler adds up to 4 when replicas are placed on it"
    )


def test_duplicate_pool_names_publish_the_first_and_report_the_rest() -> None:
    cluster = existing_cluster("c", [pool("a", nodes=1), pool("a", "h100", nodes=5), pool("b")])
    pools, problems = publish_pools(cluster.spec, {"l4": L4, "h100": H100})
    assert [(p.name, p.nodes) for p in pools] == [("a", 1), ("b", 2)]
    [duplicate] = problems
    assert (duplicate.pool, duplicate.path) == ("a", "spec.nodePools[1].name")
    assert "spec.nodePools[0]" in duplicate.message


def test_an_invalid_pool_field_withholds_that_pool() -> None:
    cluster = existing_cluster(
        "c", [pool("Bad_Name"), pool("b", min_node_count=5, max_node_count=2)]
    )
    pools, problems = publish_pools(cluster.spec, {"l4": L4})
    assert pools == ()
    assert {p.path for p in problems} == {
        "spec.nodePools[0].name",
        "spec.nodePools[1].minNodeCount",
    }


def test_provisioned_pools_need_a_recipe_for_the_cloud() -> None:
    cluster = provisioned_cluster(
        "c", "GKE", [pool("byo", "l4", zones=("z",)), pool("ok", "gke", zones=("z",))]
    )
    gke = inference_class("gke", provider="GKE")
    pools, problems = publish_pools(cluster.spec, {"l4": L4, "gke": gke})
    assert [p.name for p in pools] == ["ok"]
    assert "no provisioning recipe" in problems[0].message
    eks = inference_class("eks", provider="EKS")
    wrong = provisioned_cluster("c", "GKE", [pool("x", "eks", zones=("z",))])
    _, problems = publish_pools(wrong.spec, {"eks": eks})
    assert "provisions EKS, not GKE" in problems[0].message


def test_provisioned_pools_must_be_buildable() -> None:
    gke = inference_class("gke", provider="GKE")
    cluster = provisioned_cluster(
        "c",
        "GKE",
        [
            pool("system", "gke", zones=("z",)),
            pool("nozones", "gke"),
            pool("big", "gke", nodes=5, max_node_count=4, zones=("z",)),
            pool("huge", "gke", nodes=1, max_node_count=5000, zones=("z",)),
        ],
    )
    pools, problems = publish_pools(cluster.spec, {"gke": gke})
    assert pools == ()
    assert [p.path for p in problems] == [
        "spec.nodePools[0].name",
        "spec.nodePools[1].zones",
        "spec.nodePools[2].nodeCount",
        "spec.nodePools[3].maxNodeCount",
    ]


def test_existing_clusters_ignore_provisioning_rules() -> None:
    cluster = existing_cluster("c", [pool("system", nodes=3)])
    pools, problems = publish_pools(cluster.spec, {"l4": L4})
    assert [p.name for p in pools] == ["system"]
    assert problems == []


def test_no_pools_publish_nothing_without_problems() -> None:
    assert publish_pools(existing_cluster("c", []).spec, {}) == ((), [])


def test_class_names_are_distinct_and_sorted() -> None:
    cluster = existing_cluster("c", [pool("a", "z"), pool("b", "a"), pool("c", "z")])
    assert class_names(cluster.spec) == ("a", "z")


def test_with_published_pools_sets_the_status_the_scheduler_reads() -> None:
    cluster = existing_cluster("c", [pool("a"), pool("b", "gone")])
    cluster = attrs.evolve(
        cluster,
        status=api.InferenceClusterStatus(gateway=api.GatewayStatus(address="10.0.0.1")),
    )
    published = with_published_pools(cluster, {"l4": L4})
    assert [p.name for p in published.gpu_pools] == ["a"]
    assert published.gateway_address == "10.0.0.1"
    review = review_pools(cluster.spec, {"l4": L4})
    assert [a.path for a in review.accepted] == ["spec.nodePools[0]"]
    assert [p.pool for p in review.withheld] == ["b"]
