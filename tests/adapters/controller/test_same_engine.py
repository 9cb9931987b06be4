"""One engine, two backends: the simulator's store and the Kubernetes API converge alike.

Random small fleets and random timelines of events (the simulator's own: scale,
drain, resize, outage, deletions, new deployments) are applied to both
backends: the simulator reconciles its store, the controller reconciles the
API server emulator through the real ``kubernetes`` client over HTTP, and the
same simulated providers report status on both (``backends.py``). After every
event both converge, and must hold the same objects: the same composed
children with the same owners and content, the same composite status and
conditions (server metadata and the controller's bookkeeping set aside).

Two things make an end state depend on the order composites are reconciled
in, which the simulator fixes (kind, namespace, name, round by round) and the
controller takes from its watches:

- placement is first come, first served: where deployments compete for the
  same nodes, who gets them depends on who is placed first;
- a ModelService whose endpoints all vanish keeps its last route (never tear
  down), and which route was last depends on whether the endpoints vanished
  together or one by one.

The first property keeps every deployment on a cluster of its own and routes
every service to an external ModelEndpoint as well, so the end state does not
depend on order and must be identical; the second lets deployments compete
and checks what must hold in any order: no pool is ever given more nodes
than it has.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from modelplane_adapters.controller.cache import ingest
from modelplane_adapters.controller.manager import Controller, Options
from modelplane_adapters.controller.manifests import crds
from modelplane_core.api.documents import from_dict
from modelplane_core.api.inference_cluster import InferenceCluster
from modelplane_core.api.model_replica import ModelReplica
from modelplane_core.simulation import (
    Apply,
    Delete,
    Event,
    Outage,
    Resize,
    Scale,
    Simulation,
    Taint,
)
from modelplane_core.simulation.metrics import pool_rows
from tests.adapters.controller.apiserver import ApiServer
from tests.adapters.controller.backends import INSTANT, ApiTwin, store_objects
from tests.adapters.controller.conftest import Running, kube_for, serve_composed
from tests.simulation_fixtures import (
    cluster,
    deployment,
    gateway,
    gpu_class,
    model_cache,
    service,
)

REGION = "modelplane.ai/region"
CLUSTERS = ("east", "west", "north")
# An example takes a second or two (a controller, an API server, every step converged
# on both sides): a few, and no shrinking, which would replay dozens of them.
EXAMPLES = settings(
    max_examples=4,
    deadline=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@contextmanager
def api_twin(**options: Any) -> Iterator[ApiTwin]:
    """A fresh API server with every CRD, a running controller, the simulated providers."""
    with ApiServer() as server:
        for crd in crds():
            server.put(crd)
        serve_composed(server)
        chosen = {"workers": 2, "resync": 300.0, **options}
        controller = Controller(kube_for(server), Options(**chosen))
        run = Running(controller)
        try:
            yield ApiTwin(server, controller, kube_for(server))
        finally:
            assert run.stop() == 0


def one_event(draw: st.DrawFn, clusters: list[str], deployments: list[str]) -> Event:
    what = draw(
        st.sampled_from(["outage", "recover", "drain", "undrain", "resize", "scale", "delete"])
    )
    target = draw(st.sampled_from(clusters))
    if what in ("outage", "recover"):
        return Outage(cluster=target, down=what == "outage")
    if what in ("drain", "undrain"):
        return Taint(cluster=target, key="drain", remove=what == "undrain")
    if what == "resize":
        return Resize(cluster=target, pool="gpu", nodes=draw(st.integers(0, 4)))
    chosen = draw(st.sampled_from(deployments))
    if what == "scale":
        return Scale(deployment=chosen, namespace="ml-team", replicas=draw(st.integers(1, 4)))
    return Delete(kind="ModelDeployment", name=chosen, namespace="ml-team")


@st.composite
def separate_fleets(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[Event]]:
    """Each deployment on a cluster of its own (its region): nothing to compete for."""
    names = draw(st.lists(st.sampled_from(CLUSTERS), min_size=1, max_size=2, unique=True))
    manifests: list[dict[str, Any]] = [gateway(), gpu_class("l40s")]
    deployments = []
    for name in names:
        manifests.append(
            cluster(name, [("gpu", "l40s", draw(st.integers(1, 3)))], region=f"r-{name}")
        )
        gang = draw(st.booleans())
        cache = f"{name}-weights" if gang and draw(st.booleans()) else None
        if cache:
            manifests.append(model_cache(cache))
        manifests.append(
            deployment(
                f"on-{name}",
                draw(st.integers(1, 3)),
                selector={REGION: f"r-{name}"},
                gang=1 if gang else None,
                cache=cache,
            )
        )
        deployments.append(f"on-{name}")
    routed = service("all", *deployments)
    routed["spec"]["endpoints"].append({"selector": {"matchLabels": FALLBACK_LABELS}})
    manifests += [FALLBACK, routed]
    events = [one_event(draw, names, deployments) for _ in range(draw(st.integers(1, 3)))]
    return manifests, events


FALLBACK_LABELS = {"modelplane.ai/tier": "fallback"}
# Always there, so no service ever loses its last endpoint (see the module docstring).
FALLBACK = {
    "apiVersion": "modelplane.ai/v1alpha1",
    "kind": "ModelEndpoint",
    "metadata": {"name": "hosted", "namespace": "ml-team", "labels": FALLBACK_LABELS},
    "spec": {"url": "https://api.together.xyz/", "rewritePath": "/v1/"},
}


@EXAMPLES
@given(separate_fleets())
def test_the_store_and_the_api_converge_to_the_same_objects(
    fleet: tuple[list[dict[str, Any]], list[Event]],
) -> None:
    manifests, events = fleet
    simulation = Simulation(manifests, timing=INSTANT)
    with api_twin() as twin:
        for event in (None, *events):
            if event is not None:
                simulation.at(simulation.now, event)
            simulation.run()
            assert simulation.failure is None
            twin.follow(simulation)
            expected, found = store_objects(simulation.store), twin.objects()
            step = event.describe() if event is not None else "the initial fleet"
            assert sorted(found) == sorted(expected), f"after {step}"
            for key, record in expected.items():
                assert found[key] == record, f"{key} after {step}"


@st.composite
def contended_fleets(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[Event]]:
    """Several unconstrained deployments on two or three small clusters."""
    names = draw(st.lists(st.sampled_from(CLUSTERS), min_size=2, max_size=3, unique=True))
    deployments = [f"model-{i}" for i in range(draw(st.integers(2, 3)))]
    manifests: list[dict[str, Any]] = [
        gateway(),
        gpu_class("l40s"),
        *(cluster(name, [("gpu", "l40s", draw(st.integers(1, 3)))]) for name in names),
        *(deployment(name, draw(st.integers(1, 3))) for name in deployments),
    ]
    events: list[Event] = []
    for _ in range(draw(st.integers(1, 3))):
        if draw(st.booleans()):
            events.append(Apply(manifests=(deployment(f"late-{len(events)}", 2),)))
        else:
            events.append(one_event(draw, names, deployments))
    return manifests, events


def pool_usage(twin: ApiTwin) -> dict[tuple[str, str], tuple[int, int]]:
    """(used, nodes) per pool, from the API server's clusters and replicas."""
    with twin.server.lock:
        objects = [o for o in twin.server.objects.values() if o["kind"] in CLUSTER_AND_REPLICA]
    typed = [from_dict(ingest(o).manifest) for o in objects]
    rows = pool_rows(
        [o for o in typed if isinstance(o, InferenceCluster)],
        [o for o in typed if isinstance(o, ModelReplica)],
    )
    return {(row.cluster, row.pool): (row.used, row.nodes) for row in rows}


CLUSTER_AND_REPLICA = ("InferenceCluster", "ModelReplica")


@EXAMPLES
@given(contended_fleets())
def test_competing_deployments_never_overcommit_a_pool_through_the_api(
    fleet: tuple[list[dict[str, Any]], list[Event]],
) -> None:
    manifests, events = fleet
    simulation = Simulation(manifests, timing=INSTANT)
    used_before: dict[tuple[str, str], int] = {}
    with api_twin() as twin:
        for event in (None, *events):
            if event is not None:
                simulation.at(simulation.now, event)
            simulation.run()
            twin.follow(simulation)
            for pool, (used, nodes) in pool_usage(twin).items():
                # Replicas already on a pool that shrank stay; it then takes nothing new.
                allowed = max(nodes, used_before.get(pool, 0))
                assert used <= allowed, f"{pool}: {used} nodes used of {nodes} after {event}"
                used_before[pool] = used
