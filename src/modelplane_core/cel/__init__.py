"""The Kubernetes DRA CEL device matcher.

ML teams describe the hardware a model needs with the same CEL selectors
Kubernetes Dynamic Resource Allocation evaluates when it binds a GPU, e.g.
``device.capacity["gpu.nvidia.com"].memory.compareTo(quantity("40Gi")) >= 0``.
The scheduler must pick exactly the devices Kubernetes would, so this package
reproduces DRA's semantics: the ``device`` variable, the quantity and semver
libraries, compile-time checks and the cost limit.

    >>> from modelplane_core import cel
    >>> selector = cel.compile('device.driver == "gpu.nvidia.com"')
    >>> selector.matches({"driver": "gpu.nvidia.com"})
    True

Nothing is remembered between calls unless the caller passes a
:class:`SelectorCache` (``cel.compile(text, cache)``, ``selector.evaluate(device,
cache)``), which memoizes by content and is safe to share between threads.

See docs/cel.md for the rules and the deliberate differences from Kubernetes.
"""

from modelplane_core.cel.cache import SelectorCache
from modelplane_core.cel.errors import CompileError
from modelplane_core.cel.quantity import Quantity, QuantityError, parse_quantity
from modelplane_core.cel.selector import Outcome, Selector, compile
from modelplane_core.cel.semver import Semver, SemverError, parse_semver


def quantity(text: str) -> Quantity:
    """Parse a Kubernetes quantity ("40Gi", "1.5", "100m"); raise QuantityError if invalid."""
    return parse_quantity(text)


def semver(text: str, normalize: bool = False) -> Semver:
    """Parse a semantic version strictly, or leniently (``v1.2`` → 1.2.0) with ``normalize``."""
    return parse_semver(text, normalize=normalize)


__all__ = [
    "CompileError",
    "Outcome",
    "Quantity",
    "QuantityError",
    "Selector",
    "SelectorCache",
    "Semver",
    "SemverError",
    "compile",
    "quantity",
    "semver",
]
