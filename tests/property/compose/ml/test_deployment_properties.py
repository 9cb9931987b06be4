"""Properties of ModelDeployment composition over generated valid deployments and fleets.

For any valid deployment on any fleet: composition does not depend on the
order the fleet and the observed objects arrive in (byte-identical output),
every composed ModelReplica and ModelEndpoint validates, and a live
deployment -- one whose replicas exist -- keeps at least one of them through
every input change that is not the fleet itself going away (a CEL typo, a
selector that fails at run time, a cache that vanishes, a fleet not fetched,
unreadable or listed empty, a selector narrowed, a cluster degrading, a
scale-down).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from modelplane_core import api
from modelplane_core.compose import model_deployment
from modelplane_core.compose.composition import Observed, desired_from_observed
from modelplane_core.compose.model_deployment import REQUIRE_CACHE, REQUIRE_CLUSTERS
from tests.scheduling_fixtures import cluster, deployment, engine, gpu, mem_at_least, member, pool
from tests.unit.compose.ml.fixtures import (
    deployment_inputs,
    deployment_next_pass,
    model_cache,
    schema_problems,
)

LABEL = st.from_regex(r"[a-z]([a-z0-9-]{0,12}[a-z0-9])?", fullmatch=True)
CEL = st.sampled_from(
    [
        mem_at_least("20Gi"),
        mem_at_least("80Gi"),
        'device.attributes["gpu.nvidia.com"].architecture == "Hopper"',
        'device.driver == "gpu.nvidia.com"',
    ]
)
REGION = st.sampled_from([None, {"region": "east"}, {"region": "west"}])


@st.composite
def engines(draw: st.DrawFn, name: str, phase: str | None) -> api.Engine:
    selectors = draw(st.lists(CEL, min_size=1, max_size=2, unique=True))
    count = draw(st.sampled_from([1, 2, 8]))
    copies = draw(st.integers(1, 2))
    if draw(st.booleans()):
        members = [member("Standalone", *selectors, count=count)]
    else:
        leader = (
            member("Leader", claimless=True)
            if draw(st.booleans())
            else member("Leader", *selectors, count=count)
        )
        worker = member("Worker", *selectors, count=count, worker_nodes=draw(st.integers(1, 3)))
        members = [leader, worker]
    return engine(name, *members, copies=copies, phase=phase)


@st.composite
def deployments(draw: st.DrawFn) -> api.ModelDeployment:
    pd = draw(st.booleans())
    if pd:
        engine_list = [draw(engines("prefill", "Prefill")), draw(engines("decode", "Decode"))]
    else:
        names = draw(st.lists(LABEL, min_size=1, max_size=2, unique=True))
        engine_list = [draw(engines(n, None)) for n in names]
    gang = any(e.is_gang for e in engine_list)
    dep = deployment(
        draw(LABEL),
        replicas=draw(st.integers(1, 4)),
        engines=engine_list,
        namespace=draw(st.sampled_from(["ml-team", "search"])),
        selector=draw(REGION),
        cache="weights" if gang or draw(st.booleans()) else None,
        serving="PrefillDecode" if pd else None,
    )
    assert api.validate(dep) == []
    return dep


@st.composite
def fleets(draw: st.DrawFn) -> list[api.InferenceCluster]:
    names = draw(st.lists(LABEL, min_size=1, max_size=4, unique=True))
    found = []
    for name in names:
        pools = [
            pool(
                f"pool-{i}",
                nodes=draw(st.integers(0, 6)),
                devices=[
                    gpu(
                        draw(st.sampled_from(["23Gi", "80Gi", "141Gi"])),
                        count=draw(st.sampled_from([1, 2, 8])),
                    )
                ],
            )
            for i in range(draw(st.integers(1, 2)))
        ]
        found.append(
            cluster(
                name,
                *pools,
                ready=draw(st.sampled_from([True, True, False])),
                gateway=draw(st.sampled_from(["auto", "auto", "2001:db8::1", None])),
                labels=draw(REGION),
            )
        )
    return found


def roomy(dep: api.ModelDeployment) -> api.InferenceCluster:
    """A healthy cluster in the deployment's selector with room for a replica of any shape."""
    selector = dep.spec.cluster_selector
    labels = dict(selector.match_labels or {}) if selector else {}
    big = pool("big", nodes=40, devices=[gpu("141Gi", count=16)])
    return cluster("zz-roomy", big, labels=labels)


@st.composite
def scenarios(
    draw: st.DrawFn, *, placeable: bool = False
) -> tuple[Observed[api.ModelDeployment], Observed[api.ModelDeployment]]:
    """A first reconcile and the one after it (the replicas exist, some of them ready).

    ``placeable`` adds a cluster any replica fits on and a cache that does not
    conflict with the deployment's selector, so the first pass places something.
    """
    dep = draw(deployments())
    fleet = draw(fleets())
    selector = draw(REGION)
    if placeable:
        fleet.append(roomy(dep))
        own = dep.spec.cluster_selector
        selector = draw(st.sampled_from([None, dict(own.match_labels or {}) if own else None]))
    cache = [model_cache(namespace=dep.metadata.namespace or "", selector=selector)]
    first = deployment_inputs(dep, fleet, cache=cache)
    composed = model_deployment.compose(first)
    ready = {r.key: draw(st.booleans()) for r in composed.resources}
    return first, deployment_next_pass(first, composed, ready=ready)


def reordered(observed: Observed[api.ModelDeployment]) -> Observed[api.ModelDeployment]:
    return attrs.evolve(
        observed,
        resources=dict(reversed(list(observed.resources.items()))),
        required={
            k: tuple(reversed(v.items)) for k, v in reversed(list(observed.required.items()))
        },
    )


@settings(max_examples=60)
@given(scenarios())
def test_composition_does_not_depend_on_input_order(
    passes: tuple[Observed[api.ModelDeployment], Observed[api.ModelDeployment]],
) -> None:
    for observed in passes:
        composed = model_deployment.compose(observed).to_dict()
        assert model_deployment.compose(reordered(observed)).to_dict() == composed


@settings(max_examples=60)
@given(scenarios())
def test_every_composed_object_validates_and_agrees_with_its_key(
    passes: tuple[Observed[api.ModelDeployment], Observed[api.ModelDeployment]],
) -> None:
    for observed in passes:
        out = model_deployment.compose(observed)
        for resource in out.resources:
            obj = api.from_dict(resource.manifest)
            assert isinstance(obj, api.ModelReplica | api.ModelEndpoint)
            assert api.validate(obj) == []
            labels = obj.metadata.labels or {}
            kind = "replica" if isinstance(obj, api.ModelReplica) else "endpoint"
            cluster_name = labels[api.LABEL_CLUSTER]
            assert resource.key == f"{kind}-{cluster_name}-{labels[api.LABEL_REPLICA_INDEX]}"
            assert labels[api.LABEL_DEPLOYMENT] == observed.composite.metadata.name
            if isinstance(obj, api.ModelReplica):
                assert obj.spec.cluster_name == cluster_name
                assert obj.spec.model_cache_ref == observed.composite.spec.model_cache_ref
        assert schema_problems(out) == []


Change = Callable[[Observed[api.ModelDeployment]], Observed[api.ModelDeployment]]


def _spec(observed: Observed[api.ModelDeployment], **fields: Any) -> Observed[api.ModelDeployment]:
    dep = observed.composite
    edited = attrs.evolve(dep, spec=attrs.evolve(dep.spec, **fields))
    return attrs.evolve(observed, composite=edited)


def _required(
    observed: Observed[api.ModelDeployment], key: str, value: tuple[Mapping[str, Any], ...] | None
) -> Observed[api.ModelDeployment]:
    required = {k: v for k, v in observed.required.items() if k != key}
    if value is not None:
        required[key] = value
    return attrs.evolve(observed, required=required)


def _cel_typo(observed: Observed[api.ModelDeployment]) -> Observed[api.ModelDeployment]:
    engines = list(observed.composite.spec.engines)
    engines[0] = engine(
        engines[0].name,
        member("Standalone", 'device.driver == "gpu'),
        phase=engines[0].phase,
    )
    return _spec(observed, engines=tuple(engines))


def _failing_at_run_time(expression: str) -> Change:
    """Every device request's selectors replaced by one that compiles but fails to evaluate."""

    def change(observed: Observed[api.ModelDeployment]) -> Observed[api.ModelDeployment]:
        engines = []
        for old in observed.composite.spec.engines:
            members = []
            for m in old.members:
                if m.node_selector is None:
                    members.append(m)
                    continue
                requests = tuple(
                    attrs.evolve(r, selectors=(api.DeviceSelector(cel=expression),))
                    for r in m.node_selector.devices
                )
                members.append(attrs.evolve(m, node_selector=api.NodeSelector(devices=requests)))
            engines.append(attrs.evolve(old, members=tuple(members)))
        return _spec(observed, engines=tuple(engines))

    return change


def _degraded(observed: Observed[api.ModelDeployment]) -> Observed[api.ModelDeployment]:
    clusters = []
    for found in observed.required[REQUIRE_CLUSTERS].items:
        assert isinstance(found, api.InferenceCluster)
        assert found.status is not None
        status = attrs.evolve(
            found.status, conditions=(api.Condition(type="Ready", status="False"),), gateway=None
        )
        clusters.append(api.to_dict(attrs.evolve(found, status=status)))
    return _required(observed, REQUIRE_CLUSTERS, tuple(clusters))


def _unreadable_cluster(observed: Observed[api.ModelDeployment]) -> Observed[api.ModelDeployment]:
    broken = api.to_dict(cluster("zz-broken"))
    broken["status"]["gpuPools"][0]["nodes"] = "two"
    listed = observed.required[REQUIRE_CLUSTERS].items
    return _required(observed, REQUIRE_CLUSTERS, (*map(api.to_dict, listed), broken))


CHANGES: dict[str, Change] = {
    "nothing": lambda o: o,
    "cel-typo": _cel_typo,
    "cache-not-found": lambda o: _required(o, REQUIRE_CACHE, ()),
    "cache-not-fetched": lambda o: _required(o, REQUIRE_CACHE, None),
    "fleet-not-fetched": lambda o: _required(o, REQUIRE_CLUSTERS, None),
    "unreadable-cluster": _unreadable_cluster,
    "selector-narrowed": lambda o: _spec(
        o, cluster_selector=api.LabelSelector(match_labels={"region": "nowhere"})
    ),
    "clusters-degraded": _degraded,
    "scaled-to-one": lambda o: _spec(o, replicas=1),
    "selector-key-misspelled": _failing_at_run_time(
        'device.capacity["gpu.nvidia.com"].memroy.compareTo(quantity("1Gi")) >= 0'
    ),
    "bad-quantity-literal": _failing_at_run_time(
        'device.capacity["gpu.nvidia.com"].memory.compareTo(quantity("40Gx")) >= 0'
    ),
    "empty-cluster-list": lambda o: _required(o, REQUIRE_CLUSTERS, ()),
}
# Changes that keep every replica exactly as it runs (the scheduler cannot re-check them).
HELD_AS_THEY_RUN = frozenset({"selector-key-misspelled", "bad-quantity-literal"})


@settings(max_examples=100)
@given(scenarios(placeable=True), st.sampled_from(sorted(CHANGES)))
def test_a_live_deployment_keeps_its_replicas_through_any_input_change(
    passes: tuple[Observed[api.ModelDeployment], Observed[api.ModelDeployment]], change: str
) -> None:
    _, running = passes
    live = {k for k, r in running.resources.items() if r.manifest["kind"] == "ModelReplica"}
    assert live, "the roomy cluster takes a replica"
    if running.composite.spec.model_cache_ref is None:
        assume(not change.startswith("cache-"))
    out = model_deployment.compose(CHANGES[change](running))
    kept = {r.key for r in out.resources if r.manifest["kind"] == "ModelReplica"} & live
    assert kept, f"{change} emptied a live deployment"
    if change == "scaled-to-one":
        assert len(kept) == 1
    else:
        assert kept == live
    if change in HELD_AS_THEY_RUN:
        for key in live:
            assert out.resource(key).manifest == desired_from_observed(running.resources[key])  # type: ignore[union-attr]
        assert out.condition("ReplicasScheduled").reason == "SelectorError"  # type: ignore[union-attr]
        assert any(e.type == "Warning" and e.reason == "SelectorError" for e in out.events)
