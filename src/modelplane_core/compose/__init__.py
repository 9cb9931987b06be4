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
from modelplane_core.compose.registry import compose, composed_kinds, composer_for

__all__ = [
    "Composition",
    "DesiredResource",
    "Event",
    "Observed",
    "ObservedResource",
    "Requirement",
    "compose",
    "composed_kinds",
    "composer_for",
    "condition",
    "desired_from_observed",
    "hold",
]
