"""Differential test: ``api.validate`` accepts exactly what the reference XRDs accept.

For every documentation manifest of a Modelplane kind, and for hypothesis
mutations of them (bounds, enums, missing required fields, wrong types,
string and list lengths, serving/phase combinations, member roles), our
verdict (``api.from_dict`` raising ``api.ValidationError``, or ``api.validate``
reporting problems) must equal the reference's (``reference_xrd``). The only
disagreements allowed are the intended ones in ``differences.py``, each
documented in ``docs/validation.md``.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, note
from hypothesis import strategies as st

from modelplane_core import api
from tests.property.api.differences import DIFFERENCES, Difference, unexplained
from tests.property.api.examples import examples_of, named_examples
from tests.property.api.mutations import mutated
from tests.property.api.reference_xrd import (
    reference_kinds,
    reference_problems,
    reference_schema,
)
from tests.support import REPO_ROOT, shared_path

Manifest = dict[str, Any]


EXAMPLES = named_examples()
# Kinds the reference only serves from v0.3 on: its seeds-era XRDs do not have
# them, so reference_schema judges them by their v0.3.1 XRDs.
V03_KINDS = frozenset({"AKSCluster", "VultrCluster"})
KINDS = sorted({cls.kind_info.kind for cls in api.KINDS})


def our_problems(manifest: Manifest) -> list[str]:
    try:
        obj = api.from_dict(copy.deepcopy(manifest))
    except api.ValidationError as exc:
        return [str(e) for e in exc.errors]
    return [str(e) for e in api.validate(obj)]


def ref_problems(manifest: Manifest) -> list[str]:
    return [str(r) for r in reference_problems(manifest)]


def test_the_reference_serves_every_kind_we_do() -> None:
    ours = {(cls.kind_info.api_version, cls.kind_info.kind) for cls in api.KINDS}
    assert {kind for _, kind in ours - set(reference_kinds())} == V03_KINDS
    assert set(reference_kinds()) <= ours


@pytest.mark.parametrize(
    ("name", "manifest"), EXAMPLES or [("none", {})], ids=[n for n, _ in EXAMPLES] or ["none"]
)
def test_every_example_is_accepted_by_both(name: str, manifest: Manifest) -> None:
    shared_path("examples")
    assert ref_problems(manifest) == [], name
    assert our_problems(manifest) == [], name


@pytest.mark.parametrize("kind", KINDS)
@given(data=st.data())
def test_mutations_of_examples_get_the_same_verdict(kind: str, data: st.DataObject) -> None:
    base = data.draw(st.sampled_from(examples_of(kind)), label="example")
    schema = reference_schema(base["apiVersion"], kind)
    assert schema is not None
    manifest, changes = data.draw(mutated(base, schema), label="mutation")
    ours, reference = our_problems(manifest), ref_problems(manifest)
    note(f"changes: {changes}\nours: {ours}\nreference: {reference}")
    assert unexplained(kind, ours, reference) is None


# --- the allow-list itself -----------------------------------------------------------


def _witnessed(difference: Difference) -> tuple[Manifest, list[str], list[str]]:
    kind, change = difference.witness
    manifest = copy.deepcopy(examples_of(kind)[0])
    change(manifest)
    return manifest, our_problems(manifest), ref_problems(manifest)


@pytest.mark.parametrize("difference", DIFFERENCES, ids=lambda d: d.rule)
def test_every_difference_is_real_and_explains_its_witness(difference: Difference) -> None:
    kind = difference.witness[0]
    _, ours, reference = _witnessed(difference)
    if difference.direction == "stricter":
        assert ours, reference
        assert not reference, ours
        assert all(difference.explains(kind, p) for p in ours), ours
    else:
        assert reference, ours
        assert not ours, reference
        assert all(difference.explains(kind, p) for p in reference), reference
    # Without this entry the witness would be an unexplained disagreement.
    others = [d for d in DIFFERENCES if d is not difference]
    relevant = ours if difference.direction == "stricter" else reference
    assert not all(
        any(d.explains(kind, p) for d in others if d.direction == difference.direction)
        for p in relevant
    ), f"{difference.rule} is redundant"


def test_every_difference_is_documented_with_its_reason() -> None:
    text = (REPO_ROOT / "docs" / "validation.md").read_text()
    missing = [d.rule for d in DIFFERENCES if f"`{d.rule}`" not in text]
    assert missing == []


def test_rule_names_are_unique() -> None:
    rules = [d.rule for d in DIFFERENCES]
    assert len(rules) == len(set(rules))
