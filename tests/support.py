"""Helpers shared by the test modules (import as ``from tests.support import ...``).

The project's spec material (example manifests, upstream CRD schemas, the
reference XRDs) lives beside the checkout in ``../shared``. Tests read it at
test time and skip with a clear reason on a fresh clone where it is absent;
nothing from it is ever copied into the repository.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("MODELPLANE_SHARED", REPO_ROOT.parent / "shared")).resolve()


def shared_path(*parts: str) -> Path:
    """Return a path under ``../shared``, skipping the calling test when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(
            f"{path} is not present (the ../shared spec folder is beside a "
            "development checkout only); set MODELPLANE_SHARED to point at it"
        )
    return path


def yaml_parsers() -> list[type]:
    """The parsers ``api.parse_documents`` may run on: libyaml's when built, and the pure one."""
    import yaml

    parsers: list[type] = [yaml.SafeLoader]
    if hasattr(yaml, "CSafeLoader"):
        parsers.insert(0, yaml.CSafeLoader)
    return parsers
