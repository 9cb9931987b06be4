"""Per-backend route weights from per-selector weights (beyond the seeds; reference issue #90).

A ModelService entry's ``weight`` is the share of traffic for the whole
group of endpoints it selects, split evenly inside the group. Gateway API
weights are per backend, integers, and at most 1,000,000, so the group
weights are scaled up until every backend's share is at least
:data:`MIN_SHARE` units (so none rounds to 0, and a split that cannot be
exact is off by at most one unit in ten), split with the remainder going to
the first backends, reduced by their greatest common divisor (so equal
groups read as 1:1), and only scaled down again when a weight would exceed
the Gateway API maximum. Before that last step the groups' totals are in
exactly the ratio of their weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from functools import reduce
from math import gcd
from typing import Final

from modelplane_core.api.model_routing import MAX_ROUTE_WEIGHT

MIN_BACKEND_WEIGHT: Final = 1
# Every backend's share, before reduction, is at least this many units.
MIN_SHARE: Final = 10


def backend_weights(groups: Sequence[tuple[int, int]]) -> list[list[int]]:
    """Weights per backend for ``groups`` of ``(group weight, backend count)``.

    Returns one list per group, in order; a group with no backends gets an
    empty list and its share goes to the others.
    """
    live = [(weight, count) for weight, count in groups if count > 0]
    if not live:
        return [[] for _ in groups]
    # The smallest whole scale at which every backend's share is at least MIN_SHARE.
    scale = max(1, *(-(-MIN_SHARE * count // weight) for weight, count in live))
    split: list[list[int]] = []
    for weight, count in groups:
        if count == 0:
            split.append([])
            continue
        base, extra = divmod(weight * scale, count)
        split.append([base + 1 if i < extra else base for i in range(count)])
    flat = [w for group in split for w in group]
    divisor = reduce(gcd, flat)
    split = [[w // divisor for w in group] for group in split]
    largest = max(w for group in split for w in group)
    if largest <= MAX_ROUTE_WEIGHT:
        return split
    return [
        [max(MIN_BACKEND_WEIGHT, round(Fraction(w * MAX_ROUTE_WEIGHT, largest))) for w in group]
        for group in split
    ]
