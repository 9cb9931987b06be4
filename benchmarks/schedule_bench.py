"""Fleet scheduler benchmark: one full pass over generated fleets, and how cost grows.

Run: ``python benchmarks/schedule_bench.py [--sizes 200x200,1000x2000] [--repeat 3]``

Each size is a seeded synthetic fleet (``modelplane_core.demo.synthetic``: a
handful of GPU classes over many clusters, a mix of single-GPU, 8-GPU, gang
and prefill/decode deployments). One pass schedules every deployment in order
on one Fleet, each seeing the placements before it -- what ``modelplane
schedule --synthetic CxD`` does. Reported: the first (cold) run, with a fresh
``SchedulerCache``, and the best of ``--repeat`` runs reusing that cache (warm:
CEL outcomes, pool matching and fits remembered, as a long-running control
plane owning its cache would); the cost per deployment and per (cluster x
deployment) pair of the cold run, which stays flat or falls when cost grows
linearly or better; the CEL evaluations of the cold run (memo misses); and
the process's peak resident memory so far. Numbers are printed, never
asserted.
"""

from __future__ import annotations

import argparse
import resource
import time

from modelplane_core.demo import synthetic
from modelplane_core.scheduling import SchedulerCache
from modelplane_core.simulation import dry_run

DEFAULT_SIZES = "50x50,100x100,200x200,400x400,500x1000,1000x1000,1000x2000"


def _size(text: str) -> tuple[int, int]:
    clusters, deployments = text.lower().split("x")
    return int(clusters), int(deployments)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help="CLUSTERSxDEPLOYMENTS,...")
    parser.add_argument("--repeat", type=int, default=3, help="runs per size; the best is shown")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    header = (
        f"{'clusters':>8} {'deployments':>11} {'replicas':>13} {'cold s':>8} {'warm s':>8} "
        f"{'ms/deploy':>9} {'us/pair':>8} {'cel evals':>9} {'peak MB':>8}"
    )
    print(header)
    for clusters, deployments in map(_size, args.sizes.split(",")):
        fleet = synthetic.fleet(clusters, deployments, seed=args.seed)
        objects = fleet.objects
        timings = []
        cache = SchedulerCache()
        for _ in range(max(args.repeat, 1)):
            started = time.perf_counter()
            result = dry_run(objects, cache, explain=False)  # as `modelplane schedule` does
            timings.append(time.perf_counter() - started)
            if len(timings) == 1:
                cold = result
        first, best = timings[0], min(timings)
        print(
            f"{clusters:>8} {deployments:>11} {f'{cold.placed}/{cold.wanted}':>13} "
            f"{first:>8.3f} {best:>8.3f} {1000 * first / deployments:>9.3f} "
            f"{1e6 * first / (clusters * deployments):>8.3f} {cold.cel_evaluations:>9} "
            f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:>8.0f}"
        )


if __name__ == "__main__":
    main()
