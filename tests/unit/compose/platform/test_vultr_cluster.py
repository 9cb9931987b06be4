"""VultrCluster: the VKE cluster, its inline pool and its separate node pools."""

from __future__ import annotations

from typing import Any

import attrs

from modelplane_core import api
from modelplane_core.compose import vultr_cluster
from modelplane_core.compose.composition import Observed, desired_from_observed
from modelplane_core.compose.platform.cloud_composite import kubeconfig_secret_name
from tests.support import REPO_ROOT
from tests.unit.compose.platform.fixtures import (
    condition_of,
    converge,
    keys,
    manifest,
    next_pass,
    pending_status,
    ready_status,
    schema_problems,
)


def vke(**changes: Any) -> api.VultrCluster:
    (composite,) = api.load_yaml(
        (REPO_ROOT / "examples" / "infrastructure" / "vultrclusters.yaml").read_text()
    )
    assert isinstance(composite, api.VultrCluster)
    return attrs.evolve(composite, spec=attrs.evolve(composite.spec, **changes))


def with_pool(index: int, **changes: Any) -> api.VultrCluster:
    pools = list(vke().spec.node_pools)
    pools[index] = attrs.evolve(pools[index], **changes)
    return vke(node_pools=tuple(pools))


def test_first_pass_composes_the_cluster_with_its_inline_pool() -> None:
    composition = vultr_cluster.compose(Observed(composite=vke()))
    # A separate pool names the cluster's ID: it waits for the cluster.
    assert keys(composition) == ["cluster"]
    assert schema_problems(composition) == []
    cluster = manifest(composition, "cluster")["spec"]
    assert cluster["writeConnectionSecretToRef"] == {"name": kubeconfig_secret_name("vke-ewr")}
    provider = cluster["forProvider"]
    assert (provider["region"], provider["version"]) == ("ewr", "v1.36.1+3")
    assert provider["nodePools"] == {
        "label": "system",
        "plan": "vc2-6c-16gb",
        "nodeQuantity": 1,
        "autoScaler": True,
        "minNodes": 1,
        "maxNodes": 2,
        "labels": [{"key": "modelplane.ai/pool", "value": "system"}],
    }
    # VKE publishes no RWX storage: the status names the kubeconfig only.
    assert composition.status == {
        "secrets": [
            {"type": "Kubeconfig", "name": kubeconfig_secret_name("vke-ewr"), "key": "kubeconfig"}
        ]
    }


def test_gpu_pools_come_once_the_cluster_is_up_and_opt_out_of_the_device_plugin() -> None:
    inputs = Observed(composite=vke())
    first = vultr_cluster.compose(inputs)
    assert "nodepool-l40s" not in keys(vultr_cluster.compose(next_pass(inputs, first)))
    second = vultr_cluster.compose(next_pass(inputs, first, ready_status))
    pool = manifest(second, "nodepool-l40s")["spec"]
    assert schema_problems(second) == []
    assert pool["forProvider"]["labels"] == [
        {"key": "modelplane.ai/gpu", "value": "nvidia-l40s"},
        {"key": "modelplane.ai/pool", "value": "l40s"},
        {"key": "nvidia.com/gpu.deploy.device-plugin", "value": "false"},
    ]
    assert pool["forProvider"]["taints"] == [
        {"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}
    ]
    # Autoscaled by VKE from nodeCount up to maxNodeCount; its size is VKE's afterwards.
    assert (pool["forProvider"]["minNodes"], pool["forProvider"]["maxNodes"]) == (1, 3)
    assert "nodeQuantity" not in pool["forProvider"]
    assert pool["initProvider"] == {"nodeQuantity": 1}


def test_a_fixed_pool_states_its_size() -> None:
    fixed = with_pool(1, max_node_count=None, node_count=2)
    _, ready = converge(vultr_cluster.compose, Observed(composite=fixed))
    pool = manifest(ready, "nodepool-l40s")["spec"]
    assert pool["forProvider"]["nodeQuantity"] == 2
    assert "autoScaler" not in pool["forProvider"]
    assert "initProvider" not in pool


def test_a_pool_is_never_dropped_when_the_cluster_flaps() -> None:
    observed, running = converge(vultr_cluster.compose, Observed(composite=vke()))
    flapping = next_pass(observed, running, pending_status)
    kept = vultr_cluster.compose(flapping)
    assert keys(kept) == keys(running)
    assert condition_of(kept, "ClusterReady").reason == "Provisioning"


def test_converged_cluster_is_ready_with_valid_resources() -> None:
    _, ready = converge(vultr_cluster.compose, Observed(composite=vke()))
    assert schema_problems(ready) == []
    assert all(r.ready for r in ready.resources)
    assert [(c.type, c.status) for c in ready.conditions] == [
        ("Accepted", "True"),
        ("ClusterReady", "True"),
        ("NodePoolsReady", "True"),
    ]


def test_credentials_reach_every_vultr_resource() -> None:
    creds = api.CloudCredentials(type="ProviderConfig", name="team-vultr")
    _, ready = converge(vultr_cluster.compose, Observed(composite=vke(credentials=creds)))
    assert {r.key: r.manifest["spec"]["providerConfigRef"]["name"] for r in ready.resources} == {
        "cluster": "team-vultr",
        "nodepool-l40s": "team-vultr",
    }


def test_a_pool_that_cannot_be_sized_keeps_its_node_pool() -> None:
    observed, _ = converge(vultr_cluster.compose, Observed(composite=vke()))
    bad = with_pool(1, node_count=5, max_node_count=3)
    composition = vultr_cluster.compose(attrs.evolve(observed, composite=bad))
    assert manifest(composition, "nodepool-l40s") == desired_from_observed(
        observed.resources["nodepool-l40s"]
    )
    pools = condition_of(composition, "NodePoolsReady")
    assert pools.reason == "InvalidNodePool"
    assert "spec.nodePools[1].nodeCount: 5 exceeds maxNodeCount 3" in (pools.message or "")


def test_an_invalid_inline_pool_holds_everything() -> None:
    observed, running = converge(vultr_cluster.compose, Observed(composite=vke()))
    bad = with_pool(0, node_count=3, max_node_count=2)
    held = vultr_cluster.compose(attrs.evolve(observed, composite=bad))
    assert held.held
    assert keys(held) == keys(running)
    assert "spec.nodePools[0].nodeCount" in (condition_of(held, "Accepted").message or "")
