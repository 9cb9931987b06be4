"""Fixtures for the API tests."""

from __future__ import annotations

import pytest

from modelplane_core.api import yamlio
from tests.support import yaml_parsers


@pytest.fixture(params=yaml_parsers(), ids=lambda p: p.__name__)
def both_parsers(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> type:
    """Run the test once per YAML parser: libyaml (the default) and the pure-Python fallback."""
    monkeypatch.setattr(yamlio, "_Parser", request.param)
    parser: type = request.param
    return parser
