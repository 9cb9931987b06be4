"""Properties of the wire codec and validation over generated input.

* Any object of any kind that respects its fields' constraints survives
  ``to_dict``/``from_dict`` and YAML out and in unchanged.
* Valid objects of every kind (real examples, mutated until they differ but
  still validate) round-trip the same way.
* Arbitrary JSON- or YAML-like input, whether a whole document, a body under
  a real kind, or a hostile value planted inside a real manifest, makes
  ``from_dict``/``validate`` report problems, never crash and never hang.
"""

from __future__ import annotations

import copy
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

from modelplane_core import api
from tests.property.api.examples import examples_of
from tests.property.api.mutations import get, mutated, set_at, sites
from tests.property.api.reference_xrd import reference_schema
from tests.property.api.strategies import JSON_LIKE, objects

KINDS = list(api.KINDS)
KIND_IDS = [cls.kind_info.kind for cls in KINDS]
# Far above the milliseconds one document takes; only a hang or runaway can reach it.
HANG_SECONDS = 10


@contextmanager
def no_hang() -> Iterator[None]:
    """Fail, instead of hanging the suite, if the body runs for HANG_SECONDS."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def alarm(signum: int, frame: object) -> None:
        raise AssertionError(f"no answer within {HANG_SECONDS} s: the input made it hang")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, HANG_SECONDS)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def assert_round_trips(obj: api.Resource) -> None:
    encoded = api.to_dict(obj)
    assert api.from_dict(copy.deepcopy(encoded)) == obj
    assert api.to_dict(api.from_dict(encoded)) == encoded
    text = api.dump_yaml([obj])
    assert api.load_yaml(text) == [obj]
    assert api.dump_yaml(api.load_yaml(text)) == text


@pytest.mark.parametrize("cls", KINDS, ids=KIND_IDS)
@settings(max_examples=30)
@given(data=st.data())
def test_any_constructible_object_round_trips(cls: type[api.Resource], data: st.DataObject) -> None:
    assert_round_trips(data.draw(objects(cls), label=cls.kind_info.kind))


@st.composite
def valid_objects(draw: st.DrawFn, kind: str) -> api.Resource:
    """A real example of ``kind``, mutated until it differs but still validates.

    Most mutations break a manifest; rather than filter those out (which
    starves the search), a few are tried in turn and the first valid one is
    kept, falling back to the unchanged example.
    """
    base = draw(st.sampled_from(examples_of(kind)), label="example")
    schema = reference_schema(base["apiVersion"], kind)
    assert schema is not None
    for _ in range(8):
        manifest, changes = draw(mutated(base, schema), label="mutation")
        try:
            obj = api.from_dict(manifest)
        except api.ValidationError:
            continue
        if not api.validate(obj):
            note(f"changes: {changes}")
            return obj
    return api.from_dict(copy.deepcopy(base))


@pytest.mark.parametrize("kind", KIND_IDS)
@settings(max_examples=25)
@given(data=st.data())
def test_valid_objects_round_trip(kind: str, data: st.DataObject) -> None:
    obj = data.draw(valid_objects(kind), label=kind)
    assert api.validate(obj) == []
    assert_round_trips(obj)


def assert_only_validation_errors(data: Any) -> None:
    with no_hang():
        try:
            obj = api.from_dict(data)
        except api.ValidationError as exc:
            problems = exc.errors
            assert problems, "a ValidationError must say what is wrong"
        else:
            problems = api.validate(obj)
    assert all(isinstance(p.path, str) and isinstance(p.message, str) for p in problems)
    assert all(p.message for p in problems)


@given(JSON_LIKE)
def test_arbitrary_documents_only_raise_validation_errors(data: Any) -> None:
    assert_only_validation_errors(data)


@given(
    st.sampled_from(KINDS),
    st.dictionaries(st.sampled_from(["metadata", "spec", "status", "extra"]), JSON_LIKE),
)
def test_arbitrary_bodies_of_real_kinds_only_raise_validation_errors(
    cls: type[api.Resource], body: dict[str, Any]
) -> None:
    info = cls.kind_info
    assert_only_validation_errors({"apiVersion": info.api_version, "kind": info.kind, **body})


@given(data=st.data())
def test_hostile_values_inside_real_manifests_only_raise_validation_errors(
    data: st.DataObject,
) -> None:
    kind = data.draw(st.sampled_from(KIND_IDS), label="kind")
    manifest = copy.deepcopy(data.draw(st.sampled_from(examples_of(kind)), label="example"))
    schema = reference_schema(manifest["apiVersion"], kind)
    assert schema is not None
    spots = list(sites(manifest["spec"], schema["properties"]["spec"], ("spec",)))
    for _ in range(data.draw(st.integers(1, 3), label="changes")):
        spot = data.draw(st.sampled_from(spots), label="where")
        try:
            get(manifest, spot.path[:-1])
            set_at(manifest, spot.path, data.draw(JSON_LIKE, label="value"))
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change replaced the parent; nothing to plant here
    assert_only_validation_errors(manifest)


@given(st.text(max_size=200))
def test_arbitrary_text_is_yaml_or_a_syntax_error(text: str) -> None:
    with no_hang(), suppress(api.YamlSyntaxError, api.ValidationError):
        api.load_yaml(text)


KEY_CASES: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
    ("int key among fields", lambda m: m["spec"].update({1: "x"})),
    ("null key among fields", lambda m: m["spec"].update({None: "x"})),
    ("int label key", lambda m: m["metadata"].update(labels={1: "x", "a": "b"})),
]


@pytest.mark.parametrize(("name", "change"), KEY_CASES, ids=[n for n, _ in KEY_CASES])
def test_non_string_keys_are_reported_not_crashed_on(
    name: str, change: Callable[[dict[str, Any]], None]
) -> None:
    manifest = copy.deepcopy(examples_of("ModelDeployment")[0])
    change(manifest)
    with pytest.raises(api.ValidationError) as info:
        api.from_dict(manifest)
    assert info.value.errors, name
