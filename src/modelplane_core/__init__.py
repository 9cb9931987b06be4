"""Modelplane's control-plane brain, free of any framework.

Everything here is a pure function of its inputs: typed API objects in, desired
Kubernetes objects, placements, status and conditions out. Adapters (Crossplane
function, controller, CLI) live in ``modelplane_adapters`` and only translate.
Nothing is remembered between calls except in a :class:`Cache` the caller owns
and passes (``modelplane_core.Cache()``).
"""

from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("modelplane")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = ["Cache", "__version__"]


def __getattr__(name: str) -> Any:
    # Imported on first use: ``modelplane version`` must not pay for CEL and the scheduler.
    if name == "Cache":
        from modelplane_core.cache import Cache  # noqa: PLC0415 - deferred, see above

        return Cache
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
