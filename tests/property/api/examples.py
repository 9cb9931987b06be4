"""The documentation manifests of Modelplane kinds, read from ``../shared/examples``.

Kinds the shared examples do not show yet (the v0.3 AKS and Vultr kinds) fall
back to this repository's own v0.3 scenario manifests (``tests/golden/inputs/v03``).
"""

from __future__ import annotations

import functools
from typing import Any

import yaml

from modelplane_core import api
from tests.support import REPO_ROOT, SHARED, shared_path

Manifest = dict[str, Any]


@functools.cache
def _load() -> tuple[tuple[str, Manifest], ...]:
    root = SHARED / "examples"
    found: list[tuple[str, Manifest]] = []
    for path in sorted(root.rglob("*.yaml")) if root.exists() else []:
        documents = [d for d in yaml.safe_load_all(path.read_text()) if d]
        for index, doc in enumerate(documents):
            if api.kind_class(str(doc.get("apiVersion")), str(doc.get("kind"))) is not None:
                found.append((f"{path.relative_to(root)}#{index}", doc))
    return tuple(found)


@functools.cache
def _own() -> tuple[tuple[str, Manifest], ...]:
    root = REPO_ROOT / "tests" / "golden" / "inputs" / "v03"
    found: list[tuple[str, Manifest]] = []
    for path in sorted(root.rglob("*.yaml")):
        documents = [d for d in yaml.safe_load_all(path.read_text()) if d]
        found.extend((f"v03/{path.relative_to(root)}#{i}", d) for i, d in enumerate(documents))
    return tuple(found)


def named_examples() -> list[tuple[str, Manifest]]:
    """(file#index, manifest) for every Modelplane document; empty without ../shared."""
    return list(_load())


def examples_of(kind: str) -> list[Manifest]:
    """Every example of ``kind`` (callers copy before changing one); skips without ../shared."""
    shared_path("examples")
    shared = [doc for _, doc in _load() if doc["kind"] == kind]
    return shared or [doc for _, doc in _own() if doc["kind"] == kind]
