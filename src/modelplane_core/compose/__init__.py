"""Composers: one module per kind, one shape: ``compose(observed) -> Composition``."""

from modelplane_core.compose.composition import (
    Composition,
    DesiredResource,
    Event,
    Observed,
    ObservedResource,
    Requirement,
    condition,
    desired_from_observed,
    hold,
)

__all__ = [
    "Composition",
    "DesiredResource",
    "Event",
    "Observed",
    "ObservedResource",
    "Requirement",
    "condition",
    "desired_from_observed",
    "hold",
]
