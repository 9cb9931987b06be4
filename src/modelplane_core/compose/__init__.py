"""Composers: one module per kind, one shape: ``compose(observed, cache=None) -> Composition``.

``observed`` holds everything decoded at the boundary (``Decoder`` turns
fetched manifests into a :class:`Fetched`); ``cache`` is the caller's
:class:`modelplane_core.Cache`, or None to remember nothing.
"""

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
    hold_because,
    hold_invalid,
    summarize,
)
from modelplane_core.compose.fetched import Decoder, Fetched, Unreadable, fetched
from modelplane_core.compose.registry import compose, composed_kinds, composer_for

__all__ = [
    "Composition",
    "Decoder",
    "DesiredResource",
    "Event",
    "Fetched",
    "Observed",
    "ObservedResource",
    "Requirement",
    "Unreadable",
    "compose",
    "composed_kinds",
    "composer_for",
    "condition",
    "desired_from_observed",
    "fetched",
    "hold",
    "hold_because",
    "hold_invalid",
    "summarize",
]
