"""Fleet simulation benchmark: a generated fleet brought up, then a timeline of events.

Run: ``python benchmarks/simulate_bench.py [--clusters 1000] [--deployments 2000] [--events 20]``

The fleet is ``modelplane_core.demo.synthetic`` (Existing clusters built from a
handful of GPU classes, a mix of single-GPU, 8-GPU, gang and prefill/decode
deployments, each gang with its ModelCache). The simulator brings it up from
nothing with the real composers (every InferenceCluster composes its
ServingStack, every deployment its replicas, endpoints and routes) until the
fleet is idle, then plays ``--events`` events spread an hour apart, cycling
through a cluster outage and recovery, a NoExecute drain and its removal, a
pool resize, a scale-up, a scale-down and a cluster deletion. Printed: the
wall time of each phase, steps, composer calls, objects and replicas, and for
each event the wall time from the event to convergence (what a reconcile
after one change costs), with the median and the slowest. Numbers are
printed, never asserted.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time

from modelplane_core.demo import synthetic
from modelplane_core.simulation import (
    Delete,
    Event,
    Outage,
    Resize,
    Scale,
    Simulation,
    Taint,
)


def events(fleet: synthetic.SyntheticFleet, count: int) -> list[Event]:
    clusters = itertools.cycle(c.metadata.name or "" for c in fleet.clusters)
    deployments = itertools.cycle(fleet.deployments)
    made: list[Event] = []
    while len(made) < count:
        cluster, other = next(clusters), next(clusters)
        deployment = next(deployments)
        name, namespace = deployment.metadata.name or "", deployment.metadata.namespace or ""
        pools = next(c for c in fleet.clusters if c.metadata.name == other).spec.node_pools or ()
        made += [
            Outage(cluster=cluster),
            Outage(cluster=cluster, down=False),
            Taint(cluster=other, key="maintenance", effect="NoExecute"),
            Taint(cluster=other, key="maintenance", effect="NoExecute", remove=True),
            Scale(deployment=name, namespace=namespace, replicas=deployment.spec.replicas + 2),
            Scale(deployment=name, namespace=namespace, replicas=deployment.spec.replicas),
        ]
        if pools:
            made.append(Resize(cluster=other, pool=pools[0].name, nodes=pools[0].node_count + 1))
        made.append(Delete(kind="InferenceCluster", name=cluster))
    return made[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=200)
    parser.add_argument("--deployments", type=int, default=400)
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    fleet = synthetic.fleet(args.clusters, args.deployments, seed=args.seed)
    started = time.perf_counter()
    simulation = Simulation(fleet.objects)
    simulation.run()
    up = time.perf_counter() - started
    steps_up = len(simulation.history)
    last = simulation.history[-1]
    print(
        f"bring-up: {up:.1f} s, {steps_up} steps, "
        f"{sum(s.composer_calls for s in simulation.history)} composer calls, "
        f"{len(simulation.store)} objects, replicas {last.ready} ready / {last.placed} placed "
        f"/ {last.wanted} wanted"
    )
    per_event: list[float] = []
    started = time.perf_counter()
    for number, event in enumerate(events(fleet, args.events), start=1):
        simulation.at(simulation.now + 3600 * number, event)
        began, steps = time.perf_counter(), len(simulation.history)
        simulation.run()
        per_event.append(time.perf_counter() - began)
        calls = sum(s.composer_calls for s in simulation.history[steps:])
        print(f"  {type(event).__name__:<8} {per_event[-1]:6.2f} s, {calls} composer calls")
    played = time.perf_counter() - started
    last = simulation.history[-1]
    print(
        f"{args.events} events: {played:.1f} s, {len(simulation.history) - steps_up} steps, "
        f"{sum(s.composer_calls for s in simulation.history[steps_up:])} composer calls, "
        f"replicas {last.ready} ready / {last.placed} placed / {last.wanted} wanted, "
        f"converged: {simulation.failure is None}"
    )
    if per_event:
        print(
            f"per event to convergence: median {statistics.median(per_event):.2f} s, "
            f"slowest {max(per_event):.2f} s"
        )
    print(f"total: {up + played:.1f} s")


if __name__ == "__main__":
    main()
