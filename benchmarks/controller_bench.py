"""Controller benchmark: reconciles per second and time to converge, over real HTTP.

Run: ``python benchmarks/controller_bench.py [--clusters 20] [--deployments 40] [--workers 2]``

The controller runs against the test API server emulator
(``tests/adapters/controller/apiserver.py``, real HTTP on 127.0.0.1, the real
``kubernetes`` client), with the simulator's providers reporting status on what
it composes (``tests/adapters/controller/backends.py``; every provider is
instant, so what is measured is the controller, the API round trips and the
providers' status writes, not simulated start-up delays). The fleet is
``modelplane_core.demo.synthetic``, brought up from nothing. Printed:

- bring-up: wall time to convergence, of which the providers' rounds
  (mirroring the API server and writing status), reconciles, composer calls,
  API writes and objects;
- resync: every composite reconciled once more with nothing to change (a
  periodic resync): wall time and reconciles per second;
- events: for a scale-up, a scale-down, a NoExecute drain and its removal,
  the wall time from the user's write until the controller has nothing left
  to do, and until the whole fleet has converged with its providers' status.

Numbers are printed, never asserted. The emulator is Python too, on the same
cores: a real API server answers faster, so these are upper bounds.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the test API server

from tests.adapters.controller.apiserver import ApiServer
from tests.adapters.controller.backends import INSTANT, ApiTwin
from tests.adapters.controller.conftest import (
    Running,
    kube_for,
    serve_composed,
    settled,
)

from modelplane_adapters.controller.manager import Controller, Options
from modelplane_adapters.controller.manifests import crds
from modelplane_core.api.documents import to_dict
from modelplane_core.demo import synthetic
from modelplane_core.simulation import Event, Scale, Simulation, Taint


def manifests(clusters: int, deployments: int, seed: int) -> list[dict[str, Any]]:
    """The synthetic fleet as a user applies it: no status (the controller writes that)."""
    fleet = synthetic.fleet(clusters=clusters, deployments=deployments, seed=seed)
    return [{k: v for k, v in to_dict(o).items() if k != "status"} for o in fleet.objects]  # type: ignore[arg-type]


def reconciles(controller: Controller) -> int:
    return sum(controller.metrics.reconciles.values())


def timeline(fleet: synthetic.SyntheticFleet) -> list[Event]:
    deployment = fleet.deployments[0]
    name, namespace = deployment.metadata.name or "", deployment.metadata.namespace or ""
    cluster = fleet.clusters[1].metadata.name or ""
    replicas = deployment.spec.replicas
    return [
        Scale(deployment=name, namespace=namespace, replicas=replicas + 2),
        Scale(deployment=name, namespace=namespace, replicas=replicas),
        Taint(cluster=cluster, key="maintenance", effect="NoExecute"),
        Taint(cluster=cluster, key="maintenance", effect="NoExecute", remove=True),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=20)
    parser.add_argument("--deployments", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("urllib3").setLevel(logging.ERROR)

    simulation = Simulation(manifests(args.clusters, args.deployments, args.seed), timing=INSTANT)
    simulation.run()  # the user's objects, as the simulator's store holds them
    print(
        f"fleet: {args.clusters} clusters, {args.deployments} deployments, {args.workers} workers"
    )
    with ApiServer() as server:
        for crd in crds():
            server.put(crd)
        serve_composed(server)
        controller = Controller(kube_for(server), Options(workers=args.workers, resync=3600.0))
        run = Running(controller)
        twin = ApiTwin(server, controller, kube_for(server))
        started = time.perf_counter()
        twin.follow(simulation)
        seconds = time.perf_counter() - started
        done = reconciles(controller)
        print(
            f"bring-up: {seconds:.1f} s to converge ({twin.providers.seconds:.1f} s of it in "
            f"{twin.providers.rounds} provider rounds), {done} reconciles, "
            f"{controller.engine.composer_calls} composer calls, "
            f"{controller.writer.writes} API writes, {len(server.objects)} objects"
        )

        before, writes = reconciles(controller), controller.writer.writes
        started = time.perf_counter()
        controller.resync()
        settled(server, controller, timeout=600)
        seconds = time.perf_counter() - started
        count = reconciles(controller) - before
        print(
            f"resync: {count} reconciles in {seconds:.2f} s = {count / seconds:.0f} reconciles/s, "
            f"{controller.writer.writes - writes} writes"
        )

        latencies = []
        fleet = synthetic.fleet(args.clusters, args.deployments, args.seed)
        for event in timeline(fleet):
            simulation.at(simulation.now, event)
            simulation.run()
            before = reconciles(controller)
            started = time.perf_counter()
            twin.write(simulation)
            settled(server, controller, timeout=600)
            reacted = time.perf_counter() - started
            twin.converge()
            seconds = time.perf_counter() - started
            latencies.append(reacted)
            print(
                f"  {event.describe()}: the controller settles in {reacted * 1000:.0f} ms, "
                f"the fleet with its providers in {seconds * 1000:.0f} ms, "
                f"{reconciles(controller) - before} reconciles"
            )
        print(
            f"events: the controller settles in {statistics.median(latencies) * 1000:.0f} ms "
            f"(median), {max(latencies) * 1000:.0f} ms (slowest)"
        )
        assert run.stop() == 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
