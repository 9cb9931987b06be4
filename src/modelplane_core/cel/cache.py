"""What evaluating selectors may remember, owned by the caller.

A fleet publishes the same few device kinds in many pools and a deployment's
selectors repeat across its replicas, so the useful memos are by content:
compiled selectors by their text, device activations by the device's content
key, and outcomes by (selector text, device content key). The caller creates
one :class:`SelectorCache` (a function server per process, a simulation per
run) and passes it; without one, nothing is remembered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from modelplane_core.memo import DEFAULT_LIMIT, Memo

if TYPE_CHECKING:
    from modelplane_core.cel.activation import Activation, DeviceKey
    from modelplane_core.cel.errors import CompileError
    from modelplane_core.cel.selector import Outcome, Selector

# Selector texts are at most 10 KiB; a few thousand distinct ones is a large fleet.
COMPILED_LIMIT: Final = 4096


class SelectorCache:
    """Compiled selectors, device activations and outcomes, each bounded and thread-safe."""

    __slots__ = ("activations", "compiled", "outcomes")

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self.compiled: Memo[str, Selector | CompileError] = Memo(min(limit, COMPILED_LIMIT))
        self.activations: Memo[DeviceKey, Activation] = Memo(limit)
        self.outcomes: Memo[tuple[str, DeviceKey], Outcome] = Memo(limit)

    @property
    def evaluations(self) -> int:
        """Selector evaluations actually run (outcome memo misses): the real CEL work."""
        return self.outcomes.misses
