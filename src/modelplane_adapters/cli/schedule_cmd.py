"""``modelplane schedule FILE...``: a fleet dry run — where would these land, and why not.

Every object in the files is loaded; InferenceClusters without a published
status get their pools from the InferenceClasses in the files (as their
composer would publish them) and count as Ready; then every ModelDeployment is
scheduled in document order, each seeing the replicas placed before it. The
decision is the core's (``simulation.dry_run``); this module only reads files
and prints. Exit status: 0 every replica placed, 1 a shortfall, an invalid
selector or an invalid object, 2 unreadable input or bad usage.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from typing import Any

from modelplane_adapters.cli.manifests import (
    InputError,
    add_input_arguments,
    demo_documents,
    input_paths,
    read_documents,
)
from modelplane_adapters.cli.progress import Activity
from modelplane_adapters.cli.tables import table_lines

_SYNTHETIC = re.compile(r"^(\d+)x(\d+)$")


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "schedule",
        help="dry-run the fleet scheduler on manifests: placements and why not",
        description=(
            "Schedule every ModelDeployment in the files against the InferenceClusters, "
            "InferenceClasses, ModelCaches and ModelReplicas in them. Clusters without a "
            "published status get their pools from the classes and count as Ready. Exit 0 "
            "when every replica is placed, 1 on a shortfall, invalid input or no "
            "ModelDeployment to schedule, 2 when a file cannot be read."
        ),
    )
    add_input_arguments(parser)
    parser.add_argument("--demo", action="store_true", help="schedule the built-in demo fleet")
    parser.add_argument(
        "--synthetic",
        metavar="CLUSTERSxDEPLOYMENTS",
        help="schedule a generated fleet instead of files, e.g. 200x200 (for benchmarks)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the --synthetic fleet")
    parser.add_argument("-o", "--output", choices=("table", "json", "yaml"), default="table")
    parser.add_argument(
        "--explain",
        action="store_true",
        help="list every cluster not chosen for an unplaced replica, with the reason",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from modelplane_core import api
    from modelplane_core.simulation import dry_run

    paths = input_paths(args)
    if (bool(paths) or args.demo) == bool(args.synthetic):
        print(
            "modelplane schedule: give FILEs (or -f PATH, or --demo), or --synthetic CxD, not both",
            file=sys.stderr,
        )
        return 2
    if args.synthetic:
        with Activity(f"generating a {args.synthetic} fleet"):
            objects = _synthetic(args.synthetic, args.seed)
        if objects is None:
            print("modelplane schedule: --synthetic wants CxD, e.g. 200x200", file=sys.stderr)
            return 2
    else:
        try:
            with Activity(f"reading {', '.join(paths) or 'the demo fleet'}"):
                documents = read_documents(paths, recursive=args.recursive)
                if args.demo:
                    documents += demo_documents()
                objects = _load(documents, api)
        except InputError as exc:
            print(str(exc), file=sys.stderr)
            return 2
        if objects is None:
            return 1
    deployments = sum(1 for o in objects if isinstance(o, api.ModelDeployment))
    if not deployments:
        found = f"{len(objects)} Modelplane objects" if objects else "no Modelplane objects"
        print(
            f"modelplane schedule: nothing to schedule: {found} and no ModelDeployment in "
            f"{', '.join(paths) or 'the input'}",
            file=sys.stderr,
        )
        return 1
    clusters = sum(1 for o in objects if isinstance(o, api.InferenceCluster))
    started = time.perf_counter()
    with Activity(f"scheduling {deployments} deployments on {clusters} clusters"):
        # Per-cluster detail costs a look at every cluster: only when it is shown.
        result = dry_run(objects, explain=args.explain or args.output != "table")
    seconds = time.perf_counter() - started
    report = _report(result, seconds)
    if args.output == "json":
        print(json.dumps(report, indent=2))
    elif args.output == "yaml":
        from modelplane_core.api.yamlio import dump_documents

        print(dump_documents([report]), end="")
    else:
        _print_table(result, report, explain=args.explain)
    return 0 if result.complete else 1


def _synthetic(shape: str, seed: int) -> list[Any] | None:
    from modelplane_core.demo import synthetic

    match = _SYNTHETIC.match(shape)
    if match is None:
        return None
    return synthetic.fleet(int(match[1]), int(match[2]), seed=seed).objects


def _load(documents: list[Any], api: Any) -> list[Any] | None:
    """Typed objects in document order; None (after printing why) if any is invalid."""
    objects, invalid = [], False
    for document in documents:
        try:
            obj = api.decode(document.data)
        except api.ValidationError as exc:
            problems = [str(e) for e in exc.errors]
        else:
            if isinstance(obj, api.Unstructured):
                continue
            problems = [str(e) for e in api.validate(obj)]
            objects.append(obj)
        for problem in problems:
            print(f"{document.source}: {document.describe()}: {problem}", file=sys.stderr)
        invalid = invalid or bool(problems)
    return None if invalid else objects


def _report(result: Any, seconds: float) -> dict[str, Any]:
    """The machine-readable answer: placements, what is short and why, and the cost."""
    placements = [
        {
            "deployment": schedule.deployment,
            "cluster": placement.cluster,
            "index": placement.index,
            "retained": placement.retained,
            "engines": [
                {
                    "name": engine.name,
                    "members": [
                        {
                            "role": member.role,
                            "pool": member.pool,
                            "nodes": member.nodes,
                            "deviceRequests": [_request(r) for r in member.device_requests],
                        }
                        for member in engine.members
                    ],
                }
                for engine in placement.engines
            ],
            **(
                {"scaleUp": [{"pool": p, "nodes": n} for p, n in placement.scale_up]}
                if placement.scale_up
                else {}
            ),
        }
        for schedule in result.schedules
        for placement in schedule.placements
    ]
    unscheduled = [
        {
            "deployment": schedule.deployment,
            "wanted": schedule.wanted,
            "placed": schedule.placed,
            "summary": schedule.summary(),
            "reasons": [
                {"cluster": r.cluster, "code": r.code, "message": r.detail}
                for r in schedule.reasons
            ],
        }
        for schedule in result.schedules
        if schedule.shortfall or schedule.invalid is not None
    ]
    dropped = [
        {
            "deployment": schedule.deployment,
            "replica": d.replica_name,
            "cluster": d.cluster,
            "index": d.index,
            "code": d.code,
            "message": d.message,
        }
        for schedule in result.schedules
        for d in schedule.dropped
    ]
    return {
        "placements": placements,
        "dropped": dropped,
        "unscheduled": unscheduled,
        "notices": [{"cluster": n.cluster, "message": n.message} for n in result.notices],
        "stats": {
            "deployments": len(result.schedules),
            "clusters": len(result.clusters),
            "wanted": result.wanted,
            "placed": result.placed,
            "seconds": round(seconds, 6),
            "celEvaluations": result.cel_evaluations,
        },
    }


def _request(request: Any) -> dict[str, Any]:
    from modelplane_core.api.codec import unstructure

    wire: dict[str, Any] = unstructure(request)
    return wire


def _print_table(result: Any, report: dict[str, Any], *, explain: bool) -> None:
    rows = [("DEPLOYMENT", "INDEX", "CLUSTER", "POOLS", "NODES")]
    for schedule in result.schedules:
        for placement in schedule.placements:
            pools = ",".join(f"{e.name}={e.pool}" for e in placement.engines)
            rows.append(
                (
                    schedule.deployment,
                    str(placement.index),
                    placement.cluster,
                    pools,
                    str(placement.nodes),
                )
            )
    if len(rows) > 1:
        print("\n".join(table_lines(rows)))
    for notice in result.notices:
        print(f"notice: cluster {notice.cluster}: {notice.message}", file=sys.stderr)
    for gone in report["dropped"]:
        print(
            f"{gone['deployment']}: replica {gone['replica']} on {gone['cluster']} is not kept "
            f"({gone['code']}): {gone['message']}"
        )
    for schedule in result.schedules:
        if not schedule.shortfall and schedule.invalid is None:
            continue
        print(f"{schedule.deployment}: {schedule.summary()}")
        if explain:
            for reason in schedule.reasons:
                print(f"  {reason.cluster}: {reason.detail}")
    stats = report["stats"]
    print(
        f"{stats['placed']}/{stats['wanted']} replicas of {stats['deployments']} deployments "
        f"placed on {stats['clusters']} clusters in {stats['seconds']:.3f} s "
        f"({stats['celEvaluations']} CEL evaluations)",
        file=sys.stderr,
    )
