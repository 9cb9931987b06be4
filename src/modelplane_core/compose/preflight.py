"""Everything a composer would refuse an object for, checked before any control plane runs.

``api.validate`` is the API's verdict. Composers check a little more before
they compose, because the value only fails where it is used: a DRA selector
must compile, a class's device values must parse the way DRA reads them, an
endpoint's host must be routable, a pool must be provisionable with its class.
``modelplane validate`` runs these checks too, by calling the very functions
the composers call, so a manifest it passes is not refused later.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from modelplane_core import cel
from modelplane_core.api.documents import AnyObject, Unstructured, validate
from modelplane_core.api.errors import FieldError, index_path, join_path
from modelplane_core.api.inference_class import InferenceClass
from modelplane_core.api.inference_cluster import InferenceCluster
from modelplane_core.api.infrastructure import (
    AKSCluster,
    NebiusCluster,
    ServingStack,
    VultrCluster,
)
from modelplane_core.api.model_deployment import DeviceSelector, ModelDeployment
from modelplane_core.api.model_replica import ModelReplica
from modelplane_core.api.model_routing import ModelEndpoint
from modelplane_core.compose import aks_cluster, nebius_cluster, vultr_cluster
from modelplane_core.compose.inference_cluster import spec_problems as cluster_spec_problems
from modelplane_core.compose.platform.device_contract import class_problems
from modelplane_core.compose.platform.pools import review_pools
from modelplane_core.compose.serving_stack import spec_problems as stack_problems
from modelplane_core.compose.workloads.endpoint_address import parse_endpoint_url


def problems(
    obj: AnyObject, *, classes: Mapping[str, InferenceClass] | None = None
) -> list[FieldError]:
    """Every problem of ``obj``: the API's, then those only its composer's checks find.

    ``classes`` are the InferenceClasses known alongside (the other manifests
    being checked): an InferenceCluster's pools are checked against those of
    them it names. A class that is not among them is not reported missing; it
    may well exist in the cluster. A field the API already faults is not
    faulted again in the composer's words.
    """
    if isinstance(obj, Unstructured):
        return []
    found = validate(obj)
    faulted = [p.path for p in found]
    for problem in _composer_checks(obj, classes or {}):
        if problem not in found and not any(_overlap(problem.path, p) for p in faulted):
            found.append(problem)
    return found


def _composer_checks(obj: Any, classes: Mapping[str, InferenceClass]) -> Iterable[FieldError]:
    if isinstance(obj, InferenceClass):
        return class_problems(obj)
    if isinstance(obj, InferenceCluster):
        return [*cluster_spec_problems(obj), *_pool_problems(obj, classes)]
    if isinstance(obj, ServingStack):
        return stack_problems(obj)
    if isinstance(obj, ModelDeployment):
        return _selector_problems(_deployment_selectors(obj))
    if isinstance(obj, ModelReplica):
        return _selector_problems(_replica_selectors(obj))
    if isinstance(obj, AKSCluster):
        return aks_cluster.composer_checks(obj)
    if isinstance(obj, VultrCluster):
        return vultr_cluster.composer_checks(obj)
    if isinstance(obj, NebiusCluster):
        return nebius_cluster.composer_checks(obj)
    if isinstance(obj, ModelEndpoint):
        address = parse_endpoint_url(obj.spec.url)
        return [FieldError("spec.url", address)] if isinstance(address, str) else []
    return []


def _overlap(path: str, other: str) -> bool:
    """Whether one field path is the other or lies inside it."""
    short, long = sorted((path, other), key=len)
    return long == short or long.startswith((f"{short}.", f"{short}["))


def _pool_problems(
    cluster: InferenceCluster, classes: Mapping[str, InferenceClass]
) -> Iterator[FieldError]:
    """Each pool's problems as the composer reviews them before publishing the pool.

    An invalid class among the inputs counts as unknown here: its own problems
    are reported on the class, not once more on every pool that uses it.
    """
    classes = {name: c for name, c in classes.items() if not class_problems(c)}
    unknown = {
        index_path("spec.nodePools", index)
        for index, pool in enumerate(cluster.spec.node_pools or ())
        if pool.class_name not in classes
    }
    for problem in review_pools(cluster.spec, classes).problems:
        if problem.published:
            continue  # a notice (a pool of 0 nodes), not a fault
        if problem.path.endswith(".className") and problem.path.rsplit(".", 1)[0] in unknown:
            continue  # the class is not among the inputs: nothing to judge it by
        yield FieldError(problem.path, problem.message)


def _deployment_selectors(deployment: ModelDeployment) -> Iterator[tuple[str, DeviceSelector]]:
    for e_index, engine in enumerate(deployment.spec.engines):
        for m_index, member in enumerate(engine.members):
            if member.node_selector is None:
                continue
            member_path = f"spec.engines[{e_index}].members[{m_index}]"
            for r_index, request in enumerate(member.node_selector.devices):
                path = f"{member_path}.nodeSelector.devices[{r_index}]"
                for s_index, selector in enumerate(request.selectors):
                    yield f"{path}.selectors[{s_index}]", selector


def _replica_selectors(replica: ModelReplica) -> Iterator[tuple[str, DeviceSelector]]:
    for e_index, engine in enumerate(replica.spec.engines):
        for m_index, member in enumerate(engine.members):
            member_path = f"spec.engines[{e_index}].members[{m_index}]"
            for r_index, request in enumerate(member.device_requests or ()):
                path = f"{member_path}.deviceRequests[{r_index}]"
                for s_index, selector in enumerate(request.selectors or ()):
                    yield f"{path}.selectors[{s_index}]", selector


def _selector_problems(selectors: Iterator[tuple[str, Any]]) -> Iterator[FieldError]:
    """Each selector compiled as the scheduler (and Kubernetes' DRA admission) compiles it."""
    for path, selector in selectors:
        if selector.cel is None:
            continue
        try:
            cel.compile(selector.cel)
        except cel.CompileError as exc:
            where = f" (line {exc.line}, column {exc.column})" if exc.line is not None else ""
            yield FieldError(join_path(path, "cel"), f"{exc.message}{where}")
