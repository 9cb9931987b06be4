"""The story of a run, for people: what happened at each moment that matters.

Most steps of a simulation are the fleet quietly coming up (a node pool
provisioned, a chart installed). A reader wants the moments something visible
changed: an event, a replica created or removed, a cluster or deployment
becoming ready or not, a deployment running short and why, a service gaining
or losing endpoints. This turns the step metrics into exactly those lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import attrs

from modelplane_core.simulation.metrics import StepMetrics


@attrs.frozen(kw_only=True)
class Moment:
    """One line of the timeline: when, what kind of change, and what happened."""

    time: float
    kind: str  # event, created, deleted, cluster, deployment, short, service, stalled
    text: str


def timeline(steps: Sequence[StepMetrics]) -> list[Moment]:
    """Every visible change across ``steps``, in order."""
    moments: list[Moment] = []
    previous: StepMetrics | None = None
    for step in steps:
        moments += _changes(previous, step)
        previous = step
    return moments


def _changes(before: StepMetrics | None, after: StepMetrics) -> Iterable[Moment]:
    at = after.time

    def moment(kind: str, text: str) -> Moment:
        return Moment(time=at, kind=kind, text=text)

    for event in after.events:
        yield moment("event", event)
    for name in after.deleted:
        yield moment("deleted", f"replica {name} removed")
    for name in after.created:
        yield moment("created", f"replica {name} created")
    old_clusters = {c.cluster: c for c in before.clusters} if before else {}
    for cluster in after.clusters:
        was = old_clusters.get(cluster.cluster)
        if was is None or was.ready != cluster.ready:
            state = "Ready" if cluster.ready else "not Ready"
            yield moment("cluster", f"cluster {cluster.cluster} is {state}")
    for gone in sorted(set(old_clusters) - {c.cluster for c in after.clusters}):
        yield moment("cluster", f"cluster {gone} is gone")
    old_deployments = {d.deployment: d for d in before.deployments} if before else {}
    for row in after.deployments:
        had = old_deployments.get(row.deployment)
        if had is None or (had.ready, had.wanted) != (row.ready, row.wanted):
            yield moment("deployment", f"{row.deployment} ready {row.ready}/{row.wanted}")
        if row.reason and (had is None or had.reason != row.reason):
            yield moment(
                "short", f"{row.deployment} placed {row.placed}/{row.wanted}: {row.reason}"
            )
    old_services = {s.service: s for s in before.services} if before else {}
    for service in after.services:
        old = old_services.get(service.service)
        if old is None or (old.endpoints, old.address) != (service.endpoints, service.address):
            where = f" at {service.address}" if service.address else ""
            plural = "" if service.endpoints == 1 else "s"
            yield moment(
                "service", f"service {service.service}: {service.endpoints} endpoint{plural}{where}"
            )
    if not after.converged:
        yield moment("stalled", "the control plane did not converge")
