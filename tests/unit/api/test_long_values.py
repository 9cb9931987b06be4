"""A huge bad value is quoted shortened in every message, never repeated whole."""

from __future__ import annotations

from typing import Any

import pytest

from modelplane_core import api

BIG = "x" * 100_000
LIMIT = 600  # a message, its path included, stays readable


def endpoint(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "modelplane.ai/v1alpha1",
        "kind": "ModelEndpoint",
        "metadata": {
            "name": BIG,
            "namespace": BIG,
            "labels": {BIG: BIG, "ok": BIG},
            "annotations": {BIG: "a"},
        },
        "spec": {"url": "https://" + BIG + "/", **spec},
    }


def problems(manifest: dict[str, Any]) -> list[str]:
    try:
        return [str(e) for e in api.validate(api.from_dict(manifest))]
    except api.ValidationError as exc:
        return [str(e) for e in exc.errors]


@pytest.mark.parametrize(
    "manifest",
    [
        endpoint(),
        {**endpoint(), "spec": {"url": "https://a/", BIG: 1}},
        {**endpoint(), "kind": BIG},
        {**endpoint(), "spec": {"url": "https://a/", "rewritePath": [BIG]}},
    ],
    ids=["semantic", "unknown field", "unknown kind", "types"],
)
def test_messages_quote_huge_values_shortened(manifest: dict[str, Any]) -> None:
    found = problems(manifest)
    assert found
    for message in found:
        assert len(message) < LIMIT, message[:300]


def test_shown_leaves_short_values_as_they_are() -> None:
    assert api.errors.shown("gpu-l4") == "'gpu-l4'"
    assert api.errors.shown(BIG) == repr(BIG)[:80] + "... (100000 characters)"
    assert api.errors.key_path("metadata.labels", "app") == "metadata.labels[app]"
