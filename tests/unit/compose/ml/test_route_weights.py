"""Per-backend weights from per-selector weights: the reference's vectors and edge cases."""

from __future__ import annotations

import pytest

from modelplane_core.compose.workloads.route_weights import backend_weights


@pytest.mark.parametrize(
    ("groups", "expected"),
    [
        # 80% over three endpoints and 20% over one: split evenly, remainder first.
        ([(80, 3), (20, 1)], [[27, 27, 26], [20]]),
        # Scaled up so no endpoint rounds to 0.
        ([(1, 2), (3, 1)], [[1, 1], [6]]),
        # Equal groups reduce to the smallest equivalent weights.
        ([(2, 1), (2, 1)], [[1], [1]]),
        # Clamped to the Gateway API maximum; the small ones stay at 1, never 0.
        ([(1_000_000, 1), (1, 2)], [[1_000_000], [1, 1]]),
        ([(1, 1)], [[1]]),
        ([(5, 4)], [[1, 1, 1, 1]]),
    ],
)
def test_reference_vectors(groups: list[tuple[int, int]], expected: list[list[int]]) -> None:
    assert backend_weights(groups) == expected


def test_a_group_with_no_ready_backend_gives_its_share_to_the_others() -> None:
    assert backend_weights([(90, 0), (10, 2)]) == [[], [1, 1]]


def test_no_backends_at_all() -> None:
    assert backend_weights([(1, 0), (3, 0)]) == [[], []]
    assert backend_weights([]) == []
