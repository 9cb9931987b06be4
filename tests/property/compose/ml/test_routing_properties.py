"""Properties of route weights and of ModelService endpoint selection."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from modelplane_core import api
from modelplane_core.api.model_routing import MAX_ROUTE_WEIGHT
from modelplane_core.compose import model_service
from modelplane_core.compose.composition import Observed
from modelplane_core.compose.workloads.route_weights import MIN_SHARE, backend_weights

GROUPS = st.lists(
    st.tuples(st.integers(1, MAX_ROUTE_WEIGHT), st.integers(0, 16)), min_size=1, max_size=6
)


@given(GROUPS)
def test_every_backend_gets_a_valid_weight(groups: list[tuple[int, int]]) -> None:
    weights = backend_weights(groups)
    assert [len(w) for w in weights] == [count for _, count in groups]
    for group in weights:
        for weight in group:
            assert 1 <= weight <= MAX_ROUTE_WEIGHT


@given(GROUPS)
def test_group_totals_follow_group_weights(groups: list[tuple[int, int]]) -> None:
    weights = backend_weights(groups)
    live = [(w, sum(ws)) for (w, n), ws in zip(groups, weights, strict=True) if n]
    clamped = max((x for ws in weights for x in ws), default=0) == MAX_ROUTE_WEIGHT
    total_weight = sum(w for w, _ in live)
    total = sum(s for _, s in live)
    if not clamped:
        # Unclamped, group totals are in exactly the ratio of their weights.
        for weight, share in live:
            assert Fraction(share, total) == Fraction(weight, total_weight)


@given(GROUPS)
def test_a_larger_per_backend_share_never_gets_a_smaller_weight(
    groups: list[tuple[int, int]],
) -> None:
    """Rounding and clamping are monotone, so per-backend order survives them."""
    weights = backend_weights(groups)
    for (wi, ni), wsi in zip(groups, weights, strict=True):
        for (wj, nj), wsj in zip(groups, weights, strict=True):
            if ni and nj and wi * nj > wj * ni:
                assert min(wsi) >= min(wsj)
                assert max(wsi) >= max(wsj)


@given(GROUPS)
def test_backends_of_a_group_differ_by_at_most_a_tenth(groups: list[tuple[int, int]]) -> None:
    weights = backend_weights(groups)
    if max((x for ws in weights for x in ws), default=0) == MAX_ROUTE_WEIGHT:
        return  # clamped: rounding may differ more for tiny shares; covered above
    for group in weights:
        if group:
            assert max(group) * MIN_SHARE <= min(group) * (MIN_SHARE + 1)


NAMESPACES = st.sampled_from(["ml-team", "other-team", "third"])
LABELS = st.fixed_dictionaries({"app": st.sampled_from(["a", "b"])})


@st.composite
def endpoints(draw: st.DrawFn, prefix: str) -> list[dict[str, Any]]:
    count = draw(st.integers(0, 8))
    found = []
    for index in range(count):
        obj = api.ModelEndpoint(
            metadata=api.ObjectMeta(
                name=f"{prefix}-{index}", namespace=draw(NAMESPACES), labels=draw(LABELS)
            ),
            spec=api.ModelEndpointSpec(url=f"http://10.0.0.{index + 1}/x/", rewrite_path="/x/"),
            status=api.ModelEndpointStatus(
                routing=api.EndpointRouting(backend_name=f"{prefix}-svc-{index}")
            )
            if draw(st.booleans())
            else None,
        )
        found.append(api.to_dict(obj))
    return found


@settings(max_examples=60)
@given(endpoints("e"), endpoints("f"))
def test_a_service_routes_only_to_ready_matching_endpoints_of_its_namespace(
    first: list[dict[str, Any]], second: list[dict[str, Any]]
) -> None:
    svc = api.ModelService(
        metadata=api.ObjectMeta(name="svc", namespace="ml-team"),
        spec=api.ModelServiceSpec(
            endpoints=(
                api.EndpointSelector(selector=api.LabelSelector(match_labels={"app": "a"})),
                api.EndpointSelector(
                    selector=api.LabelSelector(match_labels={"app": "b"}), weight=3
                ),
            )
        ),
    )
    out = model_service.compose(
        Observed(
            composite=svc,
            required={"gateway": (), "endpoints-0": tuple(first), "endpoints-1": tuple(second)},
        )
    )
    allowed = {
        e["status"]["routing"]["backendName"]
        for group, app in ((first, "a"), (second, "b"))
        for e in group
        if e["metadata"]["namespace"] == "ml-team"
        and e["metadata"]["labels"]["app"] == app
        and e.get("status")
    }
    route = out.resource("route")
    routed = (
        set()
        if route is None
        else {r["name"] for r in route.manifest["spec"]["rules"][0]["backendRefs"]}
    )
    assert routed == allowed
    shuffled = model_service.compose(
        Observed(
            composite=svc,
            required={
                "gateway": (),
                "endpoints-0": tuple(reversed(first)),
                "endpoints-1": tuple(reversed(second)),
            },
        )
    )
    assert shuffled.to_dict() == out.to_dict()
