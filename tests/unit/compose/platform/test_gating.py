"""The install gate and the pinned component table."""

from __future__ import annotations

import re

import pytest

from modelplane_core import api
from modelplane_core.compose.composition import Observed, ObservedResource
from modelplane_core.compose.platform.chart_versions import (
    COMPONENTS,
    ContainerImage,
    HelmChart,
    ManifestBundle,
    container_image,
    helm_chart,
    manifest_bundle,
)
from modelplane_core.compose.platform.gating import Piece, exists, gate, held_piece
from modelplane_core.compose.platform.messages import listing, summarize
from tests.support import REPO_ROOT

COMPOSITE = api.InferenceGateway(
    metadata=api.ObjectMeta(name="default"), spec=api.InferenceGatewaySpec(backend="Traefik")
)


def seen(ready: bool) -> ObservedResource:
    status = "True" if ready else "False"
    return ObservedResource(
        manifest={"kind": "X", "status": {"conditions": [{"type": "Ready", "status": status}]}}
    )


PIECES = [
    Piece(key="base", manifest={"kind": "X"}, always_ready=True),
    Piece(key="mid", manifest={"kind": "X"}, after=("base",)),
    Piece(key="top", manifest={"kind": "X"}, after=("mid",)),
]


def test_pieces_appear_as_their_prerequisites_become_ready() -> None:
    first = gate(Observed(composite=COMPOSITE), PIECES)
    assert [r.key for r in first.resources] == ["base"]
    assert [(w.key, w.on) for w in first.waiting] == [("mid", ("base",)), ("top", ("mid",))]
    second = gate(Observed(composite=COMPOSITE, resources={"base": seen(False)}), PIECES)
    assert [r.key for r in second.resources] == ["base", "mid"]
    third = gate(
        Observed(composite=COMPOSITE, resources={"base": seen(False), "mid": seen(True)}), PIECES
    )
    assert [(r.key, r.ready) for r in third.resources] == [
        ("base", True),
        ("mid", True),
        ("top", False),
    ]


def test_an_existing_piece_is_kept_whatever_its_prerequisites_do() -> None:
    observed = Observed(composite=COMPOSITE, resources={"top": seen(True)})
    gated = gate(observed, PIECES, open_=False)
    assert [(r.key, r.ready) for r in gated.resources] == [("top", True)]
    assert gated.ready("top")
    assert not gated.composed("mid")


def test_custom_judges_and_held_pieces() -> None:
    pieces = [Piece(key="a", manifest={"kind": "X"}, judge=exists)]
    gated = gate(Observed(composite=COMPOSITE, resources={"a": seen(False)}), pieces)
    assert gated.ready("a")
    observed = Observed(
        composite=COMPOSITE,
        resources={"b": ObservedResource(manifest={"kind": "Y", "metadata": {"uid": "1"}})},
    )
    held = held_piece(observed, "b")
    assert held is not None
    assert held.manifest == {"kind": "Y", "metadata": {}}
    assert held_piece(observed, "c") is None


def test_every_pin_is_a_concrete_version() -> None:
    for name, component in COMPONENTS.items():
        assert re.fullmatch(r"v?\d+\.\d+\.\d+", component.version), name
        if isinstance(component, HelmChart):
            assert component.repository.startswith(("https://", "oci://")), name
        elif isinstance(component, ManifestBundle):
            assert component.version in component.url(), name
        else:
            assert isinstance(component, ContainerImage)


def test_component_lookups_check_their_kind() -> None:
    assert helm_chart("traefik").chart == "traefik"
    assert manifest_bundle("gatewayApi").url("v9.9.9").endswith("/v9.9.9/standard-install.yaml")
    assert container_image("kubectl").reference().startswith("registry.k8s.io/kubectl:")
    with pytest.raises(TypeError):
        helm_chart("gatewayApi")
    with pytest.raises(TypeError):
        manifest_bundle("traefik")
    with pytest.raises(TypeError):
        container_image("traefik")


def test_messages_stay_short() -> None:
    assert summarize([str(i) for i in range(8)]) == "0; 1; 2; 3; 4 (and 3 more)"
    assert listing(["a"]) == "a"
    assert listing(["a", "b", "c"]) == "a, b and c"


def test_the_documented_version_table_matches_the_pins() -> None:
    text = (REPO_ROOT / "docs" / "platform-composers.md").read_text()
    rows = dict(re.findall(r"^\| `(\w+)` \| [^|]+ \| (\S+) \|$", text, flags=re.MULTILINE))
    assert rows == {name: component.version for name, component in COMPONENTS.items()}
