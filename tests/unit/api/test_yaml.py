"""Multi-document YAML in and out.

Every reading test runs on both parsers: libyaml (PyYAML's C extension, the
default) and the pure-Python fallback used when the extension is missing.
"""

from __future__ import annotations

import pytest

from modelplane_core import api

pytestmark = pytest.mark.usefixtures("both_parsers")

STREAM = """\
# a comment before the first document
apiVersion: v1
kind: Namespace
metadata:
  name: ml-team
  creationTimestamp: 2026-01-02T03:04:05Z
---
---
apiVersion: modelplane.ai/v1alpha1
kind: ModelEndpoint
metadata:
  name: together
  namespace: ml-team
  labels: {modelplane.ai/external-provider: together}
spec:
  url: https://api.together.xyz/
  rewritePath: /
"""


def test_multi_document_streams_skip_empty_documents_and_keep_positions() -> None:
    documents = api.parse_documents(STREAM)
    assert [(d.index, d.line) for d in documents] == [(0, 2), (2, 9)]
    # Timestamps stay text, as Kubernetes treats them.
    assert documents[0].data["metadata"]["creationTimestamp"] == "2026-01-02T03:04:05Z"


def test_load_yaml_types_our_kinds_and_carries_the_rest() -> None:
    namespace, endpoint = api.load_yaml(STREAM)
    assert isinstance(namespace, api.Unstructured)
    assert isinstance(endpoint, api.ModelEndpoint)
    assert endpoint.spec.rewrite_path == "/"


def test_dump_then_load_is_identity() -> None:
    objects = api.load_yaml(STREAM)
    dumped = api.dump_yaml(objects)
    assert dumped.count("\n---\n") == 1
    assert api.load_yaml(dumped) == objects
    assert api.dump_yaml(api.load_yaml(dumped)) == dumped


def test_multi_line_strings_dump_as_literal_blocks() -> None:
    # CEL selectors are usually written as `cel: |` blocks; dumps keep them readable.
    cel = 'device.driver == "a" &&\n  device.driver != "b"\n'
    endpoint = api.ModelEndpoint(
        metadata=api.ObjectMeta(name="e", namespace="ml", annotations={"note": cel}),
        spec=api.ModelEndpointSpec(url="http://10.0.0.1/"),
    )
    dumped = api.dump_yaml([endpoint])
    assert "note: |" in dumped
    assert api.load_yaml(dumped) == [endpoint]


def test_syntax_errors_carry_line_and_column() -> None:
    with pytest.raises(api.YamlSyntaxError) as info:
        api.parse_documents("a: 1\nb: [1, 2\nc: 3\n")
    assert info.value.line == 3
    assert info.value.column == 2
    assert "flow sequence" in info.value.problem


def test_load_yaml_raises_validation_errors_for_bad_documents() -> None:
    with pytest.raises(api.ValidationError) as info:
        api.load_yaml(STREAM.replace("url: https://api.together.xyz/", "url: 5"))
    assert [(e.path, e.message) for e in info.value.errors] == [
        ("spec.url", "expected a string, got number 5")
    ]


@pytest.mark.parametrize("text", ["a\x85b", "line\u2028break", "para\u2029graph", "cr\rlf"])
def test_strings_with_other_yaml_line_breaks_round_trip(text: str) -> None:
    # YAML also reads these as line breaks; printed raw they would load as a space.
    endpoint = api.ModelEndpoint(
        metadata=api.ObjectMeta(name="e", namespace="ml", annotations={"note": text}),
        spec=api.ModelEndpointSpec(url="http://10.0.0.1/"),
    )
    assert api.load_yaml(api.dump_yaml([endpoint])) == [endpoint]


def test_characters_yaml_forbids_are_syntax_errors_with_a_position() -> None:
    with pytest.raises(api.YamlSyntaxError) as info:
        api.parse_documents("a: 1\nb: x\x07y\n")
    assert (info.value.line, info.value.column) == (2, 5)
    assert info.value.problem == (
        "unacceptable character #x0007: YAML allows only printable characters, tab and line breaks"
    )


def test_forbidden_characters_after_non_ascii_text_are_located_in_characters() -> None:
    # libyaml reports a byte offset; the position must still count characters.
    with pytest.raises(api.YamlSyntaxError) as info:
        api.parse_documents("a: ééé\nb: x\x07y\n")
    assert (info.value.line, info.value.column) == (2, 5)


def test_a_lone_surrogate_is_a_syntax_error_with_a_position() -> None:
    with pytest.raises(api.YamlSyntaxError) as info:
        api.parse_documents("a: 1\nb: x\ud800\n")
    assert (info.value.line, info.value.column) == (2, 5)
    assert "#xd800" in info.value.problem
