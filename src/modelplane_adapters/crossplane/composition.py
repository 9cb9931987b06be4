"""One Pipeline-mode Composition per kind, each a single step calling the function.

There is one function for every kind (it dispatches on the composite's
apiVersion/kind), so every Composition is the same one-step pipeline; only the
composite type differs. Each Composition is named after its XRD, which names it
as its default, so a composite never has to select one.
"""

from __future__ import annotations

from typing import Any, Final

from modelplane_adapters.crossplane.xrd import xrd_name
from modelplane_core import api

COMPOSITION_API_VERSION: Final = "apiextensions.crossplane.io/v1"
STEP: Final = "compose"


def composition_for(cls: type[api.Resource], function_name: str) -> dict[str, Any]:
    """The Composition of ``cls``, calling the installed Function named ``function_name``."""
    info = cls.kind_info
    return {
        "apiVersion": COMPOSITION_API_VERSION,
        "kind": "Composition",
        "metadata": {"name": xrd_name(cls)},
        "spec": {
            "compositeTypeRef": {"apiVersion": info.api_version, "kind": info.kind},
            "mode": "Pipeline",
            "pipeline": [{"step": STEP, "functionRef": {"name": function_name}}],
        },
    }
