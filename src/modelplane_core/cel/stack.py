"""Python stack room for walking a deep selector tree, granted only while it is walked.

The checker and celpy's evaluator recurse once or more per node of celpy's
parse tree, and celpy's tree is tall: ten wrapper nodes per parenthesis,
one node per ``||`` term or ``!``. A selector Kubernetes accepts (249 nested
parentheses, a 1,700-term ``||`` chain, 10,000 ``!``) needs far more frames
than Python's recursion limit allows (celpy sets it to 2,500 for the whole
process when an ``Environment`` is created). The frames themselves are cheap:
Python 3.11 runs Python-to-Python calls without growing the C stack, so a
deep walk uses heap memory, not the thread's stack (only macros recurse
through C, under 1 KiB per nesting level, and nesting is capped at 250).

So ``headroom(height)`` raises the recursion limit by what a tree of that
height needs, for as long as the walk lasts, and puts it back afterwards.
The limit is one number for the whole interpreter, so concurrent walks
share it: each active grant is recorded, the limit is the baseline (the
limit before the first grant) plus the largest active grant, and it returns
to the baseline when the last grant ends. Rewriting celpy's evaluator to be
iterative was the alternative; it is not ours to change, and a grant is
exact (``nesting.measure`` gives the height before anything recursive runs).
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator

# Frames per tree node, an upper bound: measured at most 5.1 for celpy's evaluator (the
# Interpreter dispatch, visit_children, its comprehension, the rule method) and 3.0 for the
# checker; the margin covers shapes not measured.
FRAMES_PER_NODE = 8
# Frames a leaf may use below the tree walk: library functions, regular expressions, errors.
LEAF_FRAMES = 400


class _Grants:
    """The active grants of extra frames, and the limit they were granted on top of."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.active: dict[int, int] = {}
        self.baseline = 0

    def add(self, key: int, frames: int) -> None:
        with self.lock:
            if not self.active:
                self.baseline = sys.getrecursionlimit()
            self.active[key] = frames
            self._apply()

    def remove(self, key: int) -> None:
        with self.lock:
            del self.active[key]
            self._apply()

    def _apply(self) -> None:
        target = self.baseline + max(self.active.values(), default=0)
        if sys.getrecursionlimit() != target:
            sys.setrecursionlimit(target)


_GRANTS = _Grants()


def frames_for(height: int) -> int:
    """Frames a walk of a tree ``height`` nodes tall may need beyond its caller's."""
    return LEAF_FRAMES + FRAMES_PER_NODE * height


@contextlib.contextmanager
def headroom(height: int) -> Iterator[None]:
    """Room for walking a tree ``height`` nodes tall, from the caller's depth, until exit."""
    token = object()
    _GRANTS.add(id(token), frames_for(height))
    try:
        yield
    finally:
        _GRANTS.remove(id(token))
