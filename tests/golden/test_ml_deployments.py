"""Golden ModelReplica compositions, stamped from the example deployments as the scheduler would.

Review the expected files by eye: they are exactly what lands on a workload
cluster (wrapped in provider-kubernetes Objects) for each serving topology.
"""

from __future__ import annotations

import attrs

from modelplane_core import api
from modelplane_core.compose import model_replica
from tests.golden_support import as_yaml, assert_golden
from tests.unit.compose.ml.fixtures import cluster, example, observe, schema_problems, stamp_replica


def render(replica: api.ModelReplica, name: str) -> None:
    found = [cluster(replica.spec.cluster_name, provider_config="default")]
    composition = model_replica.compose(observe(replica, cluster=found))
    assert schema_problems(composition) == []
    assert_golden(f"ml/{name}", as_yaml(api.to_dict(replica), composition.to_dict()))


def test_single_node_replica() -> None:
    deployment = example("concepts", "model-deployment.yaml")
    render(stamp_replica(deployment, "gke-l4", pools="l4"), "replica-single-node")


def test_multi_node_gang_replica_with_cache() -> None:
    deployment = example("concepts", "model-deployment-multinode.yaml")
    render(stamp_replica(deployment, "nebius-h200", pools="h200"), "replica-multi-node-cache")


def test_prefill_decode_replica() -> None:
    """The single-node example's engine split into a prefill/decode pair (as a user would)."""
    deployment: api.ModelDeployment = example("concepts", "model-deployment.yaml")
    (engine,) = deployment.spec.engines
    (member,) = engine.members

    def phase_engine(name: str, phase: str, extra: tuple[str, ...], copies: int) -> api.Engine:
        container = member.template.spec.containers[0]
        args = (*(container.args or ()), *extra)
        spec = attrs.evolve(member.template.spec, containers=(attrs.evolve(container, args=args),))
        phased = attrs.evolve(member, template=attrs.evolve(member.template, spec=spec))
        return attrs.evolve(engine, name=name, phase=phase, copies=copies, members=(phased,))

    transfer = '--kv-transfer-config={"kv_connector":"NixlConnector","kv_role":"kv_both"}'
    pd = attrs.evolve(
        deployment,
        metadata=attrs.evolve(deployment.metadata, name="qwen3-8b-pd"),
        spec=attrs.evolve(
            deployment.spec,
            serving=api.Serving(mode="PrefillDecode"),
            engines=(
                phase_engine("prefill", "Prefill", (transfer,), 1),
                phase_engine("decode", "Decode", (transfer, "--port=8001"), 2),
            ),
        ),
    )
    assert api.validate(pd) == []
    replica = stamp_replica(pd, "gke-h100", pools={"prefill": "h100-a", "decode": "h100-b"})
    render(replica, "replica-prefill-decode")
