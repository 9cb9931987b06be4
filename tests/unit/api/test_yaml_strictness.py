"""What YAML accepts but a manifest cannot hold is an error with line, column and path.

Runs on both parsers (libyaml and the pure-Python fallback), which must agree.
"""

from __future__ import annotations

import pytest

from modelplane_core import api
from modelplane_core.api import yamlio

pytestmark = pytest.mark.usefixtures("both_parsers")


def error_of(text: str) -> api.YamlSyntaxError:
    with pytest.raises(api.YamlSyntaxError) as info:
        api.parse_documents(text)
    return info.value


DEPLOYMENT = """\
apiVersion: modelplane.ai/v1alpha1
kind: ModelDeployment
metadata:
  name: qwen
  namespace: ml-team
spec:
  replicas: {replicas}
"""


def test_duplicate_keys_are_errors_naming_both_lines() -> None:
    error = error_of("a: 1\nspec:\n  replicas: 1\n  image: x\n  replicas: 2\n")
    assert (error.line, error.column, error.path) == (5, 3, "spec.replicas")
    assert error.problem.startswith("duplicate key 'replicas' (first at line 3)")
    assert str(error).startswith("line 5, column 3: spec.replicas: duplicate key")


def test_duplicate_keys_in_flow_mappings_and_sequences_are_located() -> None:
    error = error_of("items:\n- {name: a}\n- {name: b, name: c}\n")
    assert (error.line, error.path) == (3, "items[1].name")
    label = error_of(
        "metadata:\n  labels:\n    modelplane.ai/region: a\n    modelplane.ai/region: b\n"
    )
    assert label.path == "metadata.labels[modelplane.ai/region]"


def test_the_same_key_in_different_mappings_is_fine() -> None:
    (document,) = api.parse_documents("a: {x: 1}\nb: {x: 2}\n")
    assert document.data == {"a": {"x": 1}, "b": {"x": 2}}


@pytest.mark.parametrize("depth", [yamlio.MAX_DEPTH + 1, 600, 100_000])
def test_nesting_beyond_the_limit_is_an_error_not_a_recursion_error(depth: int) -> None:
    block = "".join(" " * i + "a:\n" for i in range(min(depth, 2000)))
    for text in ("[" * depth + "]" * depth, block, "- " * depth + "x\n"):
        error = error_of(text)
        assert "nested deeper than 100 levels" in error.problem
        assert error.line is not None


def test_nesting_up_to_the_limit_loads() -> None:
    depth = yamlio.MAX_DEPTH
    (document,) = api.parse_documents("[" * depth + "]" * depth)
    value = document.data
    for _ in range(depth - 1):
        (value,) = value
    assert value == []


# The classic "billion laughs": 9 levels of 10 aliases each, 10**9 strings when expanded.
ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8)
)


def test_an_alias_bomb_is_refused_without_expanding_it() -> None:
    assert len(ALIAS_BOMB) < 1024
    error = error_of(ALIAS_BOMB)
    assert "aliases expand this document by more than 100000 nodes" in error.problem
    assert error.line is not None
    assert error.path is not None


def test_modest_aliases_and_merge_keys_work_as_in_yaml_1_1() -> None:
    text = """\
base: &base {image: vllm, port: 8000}
other: &other {port: 9000, debug: true}
one: {<<: *base, port: 8080}
two:
  <<: [*base, *other]
  name: two
names: &names [a, b]
copy: *names
"""
    (document,) = api.parse_documents(text)
    data = document.data
    assert data["one"] == {"image": "vllm", "port": 8080}
    assert list(data["one"]) == ["image", "port"]
    assert data["two"] == {"image": "vllm", "port": 8000, "debug": True, "name": "two"}
    assert data["copy"] == ["a", "b"]
    assert api.parse_documents('q: {"<<": 1}\n')[0].data == {"q": {"<<": 1}}


def test_bad_aliases_are_errors() -> None:
    assert "refers to no anchor" in error_of("a: *nowhere\n").problem
    own = error_of("a: &loop {b: *loop}\n")
    assert "refers to a node that contains it" in own.problem
    assert own.path == "a.b"
    assert "merge key takes a mapping" in error_of("a: &s x\nb: {<<: *s}\n").problem


@pytest.mark.parametrize("value", [".nan", ".NaN", ".inf", "-.inf", "+.Inf", "!!float nan"])
def test_not_a_number_and_infinity_are_errors(value: str) -> None:
    error = error_of(DEPLOYMENT.format(replicas=value))
    assert (error.line, error.column, error.path) == (7, 13, "spec.replicas")
    assert "not a number JSON can hold" in error.problem


@pytest.mark.parametrize(
    "value", ["9223372036854775808", "-9223372036854775809", "9" * 30, "0x8000000000000000"]
)
def test_integers_outside_int64_are_errors(value: str) -> None:
    error = error_of(DEPLOYMENT.format(replicas=value))
    assert error.path == "spec.replicas"
    assert "outside the 64-bit range of Kubernetes integers" in error.problem


def test_integers_and_floats_json_holds_load_as_numbers() -> None:
    for text, expected in [
        (str(2**63 - 1), 2**63 - 1),
        (str(-(2**63)), -(2**63)),
        ("0x1F", 31),
        ("1_000", 1000),
        ("017", 15),  # YAML 1.1 octal
        ("1.5e+3", 1500.0),
        ("'.nan'", ".nan"),
        ("!!str 12", "12"),
        ("!!int '12'", 12),
        ("2026-01-02", "2026-01-02"),
    ]:
        (document,) = api.parse_documents(f"v: {text}\n")
        assert document.data == {"v": expected}, text
        assert type(document.data["v"]) is type(expected), text


def test_long_bad_values_are_shortened_in_messages() -> None:
    error = error_of(f"v: {'9' * 5000}\n")
    assert len(error.problem) < 300
    assert "(5000 characters)" in error.problem


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("spec:\n  data: !!binary aGVsbG8=\n", "!!binary"),
        ("spec:\n  data: !!set {a, b}\n", "!!set"),
        ("spec:\n  data: !!timestamp 2026-01-02\n", "!!timestamp"),
        ("spec:\n  data: !!omap [a: 1]\n", "!!omap"),
        ("spec:\n  data: !custom x\n", "!custom"),
        ("spec:\n  data: !!python/name:os.system x\n", "!!python/name:os.system"),
    ],
)
def test_tags_json_cannot_hold_are_errors(text: str, shown: str) -> None:
    error = error_of(text)
    assert (error.line, error.path) == (2, "spec.data")
    assert f"the tag {shown} is not allowed" in error.problem


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "spec:\n  1: x\n",
            "the key 1 reads as a number, not a string; mapping keys in a manifest are "
            'strings: quote it ("1")',
        ),
        ("spec:\n  on: x\n", "the key on reads as a boolean, not a string; mapping"),
        ("spec:\n  ~: x\n", "the key ~ reads as null, not a string;"),
        ("x: 0\nspec: {a: &k 1, *k : x}\n", "a mapping key must be a string"),
        ("spec:\n  ? [a]\n  : x\n", "a mapping key must be a string, not a mapping or a list"),
    ],
)
def test_keys_that_are_not_strings_are_errors(text: str, problem: str) -> None:
    error = error_of(text)
    assert (error.line, error.path) == (2, "spec")
    assert error.problem.startswith(problem)


def test_errors_in_later_documents_name_their_own_line() -> None:
    error = error_of("a: 1\n---\nb: 2\n---\nc: .nan\n")
    assert (error.line, error.column, error.path) == (5, 4, "c")


def test_a_document_that_is_only_a_bad_scalar_is_located() -> None:
    error = error_of("--- .inf\n")
    assert error.path == "<document>"
