"""Does a pool satisfy a member, and an engine? Exact, explained, memoized by content.

A member's requests are per pod, and every pod gets a node of its own
(capacity is counted in whole nodes), so a member is matched against one
node's devices: each request needs ``count`` devices of one published device
entry whose every selector matches, and requests sharing an entry share its
count. The assignment is searched exhaustively (a request is never greedily
given a device another request needed), preferring DRA devices so a GPU
request binds the GPU rather than merely matching a synthetic entry.
"""

from __future__ import annotations

from collections.abc import Sequence

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


@attrs.frozen(kw_only=True)
class MemberFit:
    ok: bool
    # The DRA requests the member's pods will claim on this pool (Synthetic ones only gate).
    claims: tuple[ResolvedDeviceRequest, ...] = ()
    reason: str | None = None

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


def _request_matches(request: RequestRequirement, device: Device) -> str | None:
    """None when every selector of ``request`` matches ``device``; else the first reason why not."""
    for index, selector in enumerate(request.selectors):
        outcome = selector.evaluate(device)
        if outcome.error is not None:
            return f"selector #{index + 1} failed on device {device.name!r}: {outcome.error}"
        if not outcome.matched:
            return f"selector #{index + 1} is false for device {device.name!r}"
    return None


def _candidates(
    request: RequestRequirement, devices: Sequence[Device]
) -> tuple[list[int], list[str]]:
    """Indices of devices satisfying ``request`` (DRA first), and why the others do not."""
    dra: list[int] = []
    synthetic: list[int] = []
    why_not: list[str] = []
    for index, device in enumerate(devices):
        problem = _request_matches(request, device)
        if problem is not None:
            why_not.append(problem)
        elif device.count < 1:
            why_not.append(f"device {device.name!r} is published with count 0")
        else:
            (dra if device.claimable else synthetic).append(index)
    return dra + synthetic, why_not


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


class _Memo(dict[tuple[str, ...], "MemberFit | EngineOptions"]):
    """A memo bounded so a long-running function server cannot grow without limit."""

    LIMIT = 65536

    def remember(self, key: tuple[str, ...], value: MemberFit | EngineOptions) -> None:
        if len(self) >= self.LIMIT:
            self.clear()
        self[key] = value


_MEMBER_FITS = _Memo()
_ENGINE_OPTIONS = _Memo()


def _member_fit(member: MemberRequirement, devices: tuple[Device, ...]) -> MemberFit:
    if not member.has_selector:
        return MemberFit(ok=True)
    options = []
    for request in member.requests:
        candidates, why_not = _candidates(request, devices)
        if not candidates:
            detail = "; ".join(why_not) if why_not else "the pool publishes no devices"
            return MemberFit(
                ok=False, reason=f"request {request.name!r} matched no device ({detail})"
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


def member_fit(member: MemberRequirement, pool: PoolView) -> MemberFit:
    """Whether one node of ``pool`` satisfies ``member``'s requests, and what it would claim."""
    key = (member.signature, pool.signature)
    found = _MEMBER_FITS.get(key)
    if not isinstance(found, MemberFit):
        found = _member_fit(member, pool.devices)
        _MEMBER_FITS.remember(key, found)
    return found


def engine_fit(engine: EngineRequirement, pool: PoolView) -> EngineFit:
    """The whole engine on ``pool``: every member must fit, and some member must claim."""
    fits = []
    for index, member in enumerate(engine.members):
        fit = member_fit(member, pool)
        if not fit.ok:
            return EngineFit(ok=False, reason=f"member {index} ({member.role}): {fit.reason}")
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


def engine_options(engine: EngineRequirement, pools: tuple[PoolView, ...]) -> EngineOptions:
    """The pools of one cluster that satisfy ``engine`` without stranding a member.

    A pool where a member with device requests would claim nothing (it matched
    only Synthetic devices) is ruled out when another pool of the cluster would
    give that member a real device: the member asked for hardware it can bind.
    """
    key = (engine.signature, *(f"{p.name}={p.signature}" for p in pools))
    found = _ENGINE_OPTIONS.get(key)
    if not isinstance(found, EngineOptions):
        found = _engine_options(engine, pools)
        _ENGINE_OPTIONS.remember(key, found)
    return found


def _engine_options(engine: EngineRequirement, pools: tuple[PoolView, ...]) -> EngineOptions:
    fits = {pool.name: engine_fit(engine, pool) for pool in pools}
    claimable_somewhere = [
        any(member_fit(m, pool).ok and member_fit(m, pool).claims_devices for pool in pools)
        for m in engine.members
    ]
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
