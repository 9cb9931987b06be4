"""Condition and event text: short enough for ``kubectl get``, complete enough to act on."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

SHOWN: Final = 5


def summarize(items: Sequence[str], shown: int = SHOWN) -> str:
    """``a; b; c`` with at most ``shown`` items and a count of the rest."""
    head = "; ".join(items[:shown])
    rest = len(items) - shown
    return f"{head} (and {rest} more)" if rest > 0 else head


def listing(names: Sequence[str]) -> str:
    """``a, b and c`` for names in a sentence."""
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"
