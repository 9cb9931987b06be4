"""Modelplane's control-plane brain, free of any framework.

Everything here is a pure function of its inputs: typed API objects in, desired
Kubernetes objects, placements, status and conditions out. Adapters (Crossplane
function, controller, CLI) live in ``modelplane_adapters`` and only translate.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("modelplane")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
