"""Does a pool satisfy a member, and an engine? Exact, explained, remembered by content.

A member's requests are per pod, and every pod gets a node of its own
(capacity is counted in whole nodes), so a member is matched against one
node's devices: each request needs ``count`` devices of one published device
entry whose every selector matches, and requests sharing an entry share its
count. The assignment is searched exhaustively (a request is never greedily
given a device another request needed), preferring DRA devices so a GPU
request binds the GPU rather than merely matching a synthetic entry.

A selector that *fails* on a device (an evaluation error, not a false) is
told apart from one that does not match: the scheduler must not move a
running replica because of an expression it could not evaluate.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING

import attrs

from modelplane_core.api.devices import Device
from modelplane_core.api.model_deployment import DeviceSelector
from modelplane_core.api.model_replica import ResolvedDeviceRequest
from modelplane_core.scheduling.requirements import (
    EngineRequirement,
    MemberRequirement,
    RequestRequirement,
)
from modelplane_core.scheduling.views import PoolView

if TYPE_CHECKING:
    from modelplane_core.scheduling.cache import SchedulerCache


@attrs.frozen(kw_only=True)
class MemberFit:
    ok: bool
    # The DRA requests the member's pods will claim on this pool (Synthetic ones only gate).
    claims: tuple[ResolvedDeviceRequest, ...] = ()
    reason: str | None = None
    # A selector failed to evaluate on some device (rather than evaluating to false).
    errored: bool = False

    @property
    def claims_devices(self) -> bool:
        return bool(self.claims)


@attrs.frozen(kw_only=True)
class EngineFit:
    """An engine on one pool: per-member fits, node cost, or why it does not fit."""

    ok: bool
    members: tuple[MemberFit, ...] = ()
    cost: int = 0
    reason: str | None = None
    errored: bool = False


def _request_matches(
    request: RequestRequirement, device: Device, cache: SchedulerCache | None
) -> tuple[str, bool] | None:
    """None when every selector of ``request`` matches ``device``; else why not, and if it erred."""
    selectors = cache.selectors if cache is not None else None
    for index, selector in enumerate(request.selectors):
        outcome = selector.evaluate(device, selectors)
        if outcome.error is not None:
            return f"selector #{index + 1} failed on device {device.name!r}: {outcome.error}", True
        if not outcome.matched:
            return f"selector #{index + 1} is false for device {device.name!r}", False
    return None


def _candidates(
    request: RequestRequirement, devices: Sequence[Device], cache: SchedulerCache | None
) -> tuple[list[int], list[str], bool]:
    """Devices satisfying ``request`` (DRA first), why the others do not, and if any erred."""
    dra: list[int] = []
    synthetic: list[int] = []
    why_not: list[str] = []
    errored = False
    for index, device in enumerate(devices):
        problem = _request_matches(request, device, cache)
        if problem is not None:
            why_not.append(problem[0])
            errored |= problem[1]
        elif device.count < 1:
            why_not.append(f"device {device.name!r} is published with count 0")
        else:
            (dra if device.claimable else synthetic).append(index)
    return dra + synthetic, why_not, errored


def _assign(
    requests: Sequence[RequestRequirement],
    options: Sequence[list[int]],
    capacity: list[int],
) -> list[int] | None:
    """Exhaustive search for one device entry per request within the entries' counts."""
    chosen: list[int] = []

    def search(position: int) -> bool:
        if position == len(requests):
            return True
        need = requests[position].count
        for device in options[position]:
            if capacity[device] >= need:
                capacity[device] -= need
                chosen.append(device)
                if search(position + 1):
                    return True
                chosen.pop()
                capacity[device] += need
        return False

    return chosen if search(0) else None


def _member_fit(
    member: MemberRequirement, devices: tuple[Device, ...], cache: SchedulerCache | None
) -> MemberFit:
    if not member.has_selector:
        return MemberFit(ok=True)
    options = []
    for request in member.requests:
        candidates, why_not, errored = _candidates(request, devices, cache)
        if not candidates:
            detail = "; ".join(why_not) if why_not else "the pool publishes no devices"
            return MemberFit(
                ok=False,
                reason=f"request {request.name!r} matched no device ({detail})",
                errored=errored,
            )
        options.append(candidates)
    capacity = [d.count for d in devices]
    chosen = _assign(member.requests, options, capacity)
    if chosen is None:
        return MemberFit(ok=False, reason=_count_shortfall(member.requests, options, devices))
    claims = tuple(
        ResolvedDeviceRequest(
            name=request.name,
            device_class_name=devices[device].device_class_name or "",
            count=request.count,
            selectors=tuple(DeviceSelector(cel=e) for e in request.expressions) or None,
        )
        for request, device in zip(member.requests, chosen, strict=True)
        if devices[device].claimable
    )
    return MemberFit(ok=True, claims=claims)


def _count_shortfall(
    requests: Sequence[RequestRequirement], options: Sequence[list[int]], devices: Sequence[Device]
) -> str:
    for request, candidates in zip(requests, options, strict=True):
        largest = max(devices[i].count for i in candidates)
        if request.count > largest:
            return (
                f"request {request.name!r} needs {request.count} devices per node; the best "
                f"matching device offers {largest}"
            )
    names = ", ".join(repr(r.name) for r in requests)
    return f"requests {names} together need more matching devices than a node has"


def member_fit(
    member: MemberRequirement, pool: PoolView, cache: SchedulerCache | None = None
) -> MemberFit:
    """Whether one node of ``pool`` satisfies ``member``'s requests, and what it would claim."""
    if cache is None:
        return _member_fit(member, pool.devices, None)
    return cache.member_fits.get(
        (member.signature, pool.signature), lambda: _member_fit(member, pool.devices, cache)
    )


def engine_fit(
    engine: EngineRequirement, pool: PoolView, cache: SchedulerCache | None = None
) -> EngineFit:
    """The whole engine on ``pool``: every member must fit, and some member must claim."""
    fits = []
    for index, member in enumerate(engine.members):
        fit = member_fit(member, pool, cache)
        if not fit.ok:
            return EngineFit(
                ok=False,
                reason=f"member {index} ({member.role}): {fit.reason}",
                errored=fit.errored,
            )
        fits.append(fit)
    if not any(f.claims_devices for f in fits):
        return EngineFit(
            ok=False,
            reason="no member resolves a claimable (DRA) device here, so its pods would bind none",
        )
    cost = sum(
        m.pods * engine.copies
        for m, f in zip(engine.members, fits, strict=True)
        if f.claims_devices
    )
    return EngineFit(ok=True, members=tuple(fits), cost=cost)


@attrs.frozen(kw_only=True)
class PoolOption:
    """A pool an engine may use on a cluster, at ``cost`` nodes."""

    pool: str
    cost: int
    fit: EngineFit


@attrs.frozen(kw_only=True)
class EngineOptions:
    """Every pool of one cluster an engine may use, and why the others are ruled out."""

    options: tuple[PoolOption, ...]
    rejected: tuple[tuple[str, str], ...]  # (pool, reason)


def engine_options(
    engine: EngineRequirement,
    pools: tuple[PoolView, ...],
    cache: SchedulerCache | None = None,
    pool_set: Hashable | None = None,
) -> EngineOptions:
    """The pools of one cluster that satisfy ``engine`` without stranding a member.

    A pool where a member with device requests would claim nothing (it matched
    only Synthetic devices) is ruled out when another pool of the cluster would
    give that member a real device: the member asked for hardware it can bind.
    """
    if cache is None:
        return _engine_options(engine, pools, None)
    if pool_set is None:  # the pools' names and signatures (ClusterView.pool_set)
        pool_set = tuple((p.name, p.signature) for p in pools)
    key = (engine.signature, pool_set)
    return cache.engine_options.get(key, lambda: _engine_options(engine, pools, cache))


def _engine_options(
    engine: EngineRequirement, pools: tuple[PoolView, ...], cache: SchedulerCache | None
) -> EngineOptions:
    fits = {pool.name: engine_fit(engine, pool, cache) for pool in pools}

    def claims_on(member: MemberRequirement, pool: PoolView) -> bool:
        fit = member_fit(member, pool, cache)
        return fit.ok and fit.claims_devices

    claimable_somewhere = [any(claims_on(m, pool) for pool in pools) for m in engine.members]
    options, rejected = [], []
    for pool in pools:
        fit = fits[pool.name]
        if not fit.ok:
            rejected.append((pool.name, fit.reason or "does not fit"))
            continue
        stranded = [
            index
            for index, (member, member_result) in enumerate(
                zip(engine.members, fit.members, strict=True)
            )
            if member.has_selector
            and not member_result.claims_devices
            and claimable_somewhere[index]
        ]
        if stranded:
            rejected.append(
                (
                    pool.name,
                    f"member {stranded[0]} would claim no device here but can claim one on "
                    "another pool of this cluster",
                )
            )
            continue
        options.append(PoolOption(pool=pool.name, cost=fit.cost, fit=fit))
    return EngineOptions(options=tuple(options), rejected=tuple(rejected))
