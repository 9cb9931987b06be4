"""The documentation manifests of Modelplane kinds, read from ``../shared/examples``."""

from __future__ import annotations

import functools
from typing import Any

import yaml

from modelplane_core import api
from tests.support import SHARED, shared_path

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


def named_examples() -> list[tuple[str, Manifest]]:
    """(file#index, manifest) for every Modelplane document; empty without ../shared."""
    return list(_load())


def examples_of(kind: str) -> list[Manifest]:
    """Every example of ``kind`` (callers copy before changing one); skips without ../shared."""
    shared_path("examples")
    return [doc for _, doc in _load() if doc["kind"] == kind]
