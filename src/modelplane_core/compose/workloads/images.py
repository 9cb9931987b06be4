"""Every container image Modelplane itself runs, pinned in one place.

The engine images are the user's; these are the helpers around them. Bumping
one is a deliberate, reviewed change: the endpoint picker's configuration
format and the routing sidecar's flags are tied to these exact releases.
"""

from __future__ import annotations

from typing import Final

# llm-d router release the endpoint-picker config (endpoint_picker.py) is written for.
ENDPOINT_PICKER_IMAGE: Final = "ghcr.io/llm-d/llm-d-router-endpoint-picker:v0.9.0"
# Runs beside each decode engine and sequences prefill then decode for a request.
ROUTING_SIDECAR_IMAGE: Final = "ghcr.io/llm-d/llm-d-router-disagg-sidecar:v0.9.0"
# Fetches a ModelCache's weights; any image with Python and pip works.
HYDRATION_IMAGE: Final = "python:3.11-slim"
# The ``hf`` command line arrived in huggingface_hub 0.34.
HUGGINGFACE_HUB_REQUIREMENT: Final = "huggingface_hub>=0.34,<2"
