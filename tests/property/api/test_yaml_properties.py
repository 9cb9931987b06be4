"""YAML reading agrees with PyYAML wherever a manifest can hold the value, on both parsers.

The strict reader builds data from parser events itself (to check keys,
depth, aliases and values as it goes); these properties pin it to PyYAML's
own ``safe_load`` for everything JSON can hold, and to a lossless round trip
through our dumper.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from modelplane_core.api import yamlio
from tests.support import yaml_parsers

PARSERS = yaml_parsers()

JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
JSON_DATA = st.recursive(
    JSON_SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=30,
)


def parse_with(parser: type, text: str) -> list[yamlio.YamlDocument]:
    """``parse_documents`` on ``parser`` (hypothesis re-runs the test, so no fixture)."""
    previous = yamlio._Parser
    yamlio._Parser = parser
    try:
        return yamlio.parse_documents(text)
    finally:
        yamlio._Parser = previous


@pytest.mark.parametrize("parser", PARSERS, ids=lambda p: p.__name__)
@given(data=st.lists(JSON_DATA.filter(lambda d: d is not None), min_size=1, max_size=3))
def test_dumped_documents_read_back_equal(parser: type, data: list[Any]) -> None:
    text = yamlio.dump_documents(data)
    documents = parse_with(parser, text)
    assert [d.data for d in documents] == data
    assert documents == yamlio.parse_documents(text)


@pytest.mark.parametrize("parser", PARSERS, ids=lambda p: p.__name__)
@given(data=JSON_DATA, flow=st.booleans())
def test_reading_agrees_with_pyyaml_safe_load(parser: type, data: Any, flow: bool) -> None:
    text = yaml.safe_dump(data, default_flow_style=flow)
    documents = parse_with(parser, text)
    expected = yaml.safe_load(text)
    assert [d.data for d in documents] == ([] if expected is None else [expected])
