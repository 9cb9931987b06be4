"""``modelplane render``: Crossplane's handshake played offline, and the CLI around it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import grpc
import pytest
import yaml
from crossplane.function.proto.v1 import run_function_pb2 as fnv1
from crossplane.function.proto.v1 import run_function_pb2_grpc as grpcv1

from modelplane_adapters.cli.main import main
from modelplane_adapters.crossplane.render import (
    COMPOSITION_RESOURCE_NAME,
    RenderInputError,
    RenderInputs,
    observed_by_key,
    render,
    resolve,
    selects,
)
from modelplane_adapters.crossplane.structs import from_struct, to_struct
from modelplane_core import api
from tests.adapters.crossplane.support import example, free_port, reference_example


def selector(**fields: Any) -> fnv1.ResourceSelector:
    labels = fields.pop("labels", None)
    sel = fnv1.ResourceSelector(
        api_version="modelplane.ai/v1alpha1", kind="ModelEndpoint", **fields
    )
    if labels is not None:
        sel.match_labels.SetInParent()
        sel.match_labels.labels.update(labels)
    return sel


def endpoint(
    name: str, namespace: str | None, labels: dict[str, str] | None = None
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if namespace is not None:
        metadata["namespace"] = namespace
    if labels:
        metadata["labels"] = labels
    return {"apiVersion": "modelplane.ai/v1alpha1", "kind": "ModelEndpoint", "metadata": metadata}


# --- Crossplane's matching rules -------------------------------------------------------------


def test_selectors_match_like_crossplane() -> None:
    a = endpoint("a", "ml-team", {"team": "ml"})
    b = endpoint("b", "other", {"team": "ml"})
    cluster_scoped = endpoint("c", None)
    wrong_kind = {**a, "kind": "ModelService"}
    # Labels without namespace: across every namespace.
    assert [
        o["metadata"]["name"] for o in resolve(selector(labels={"team": "ml"}), [b, a, wrong_kind])
    ] == [
        "a",
        "b",
    ]
    # Labels with namespace: only there. Empty labels: everything.
    assert resolve(selector(labels={"team": "ml"}, namespace="ml-team"), [a, b]) == [a]
    assert len(resolve(selector(labels={}), [a, b, cluster_scoped])) == 3
    # A name without namespace selects a cluster-scoped object only.
    assert selects(selector(match_name="c"), cluster_scoped)
    assert not selects(selector(match_name="a"), a)
    assert selects(selector(match_name="a", namespace="ml-team"), a)
    assert not selects(selector(match_name="a", namespace="other"), a)
    # Neither name nor labels: every object of the type (in the namespace, if given).
    assert resolve(selector(), [b, wrong_kind, a]) == [a, b]
    assert resolve(selector(namespace="other"), [a, b]) == [b]
    # Crossplane's order: by the string namespace/name ("a-b/x" sorts before "a/x").
    first, second = endpoint("x", "a"), endpoint("x", "a-b")
    assert resolve(selector(labels={}), [first, second]) == [second, first]


def test_observed_resources_are_keyed_by_their_annotation() -> None:
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "s", "annotations": {COMPOSITION_RESOURCE_NAME: "service"}},
    }
    assert observed_by_key([service]) == {"service": service}
    with pytest.raises(RenderInputError, match=r"has no crossplane\.io/composition-resource-name"):
        observed_by_key([{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}}])
    with pytest.raises(RenderInputError, match=r"share crossplane\.io/composition-resource-name"):
        observed_by_key([service, service])


# --- the handshake ---------------------------------------------------------------------------


def service_fleet() -> tuple[dict[str, Any], ...]:
    gateway = example("concepts", "inference-gateway.yaml")
    gateway["status"] = {"address": "203.0.113.7"}
    provider = example("concepts", "model-endpoint.yaml")
    provider["status"] = {
        "routing": {"backendName": "kimi-k2-together-endpoint-d8a39"},
        "conditions": [{"type": "Ready", "status": "True", "reason": "Available"}],
    }
    return (gateway, provider, endpoint("elsewhere", "other-team", {"x": "y"}))


def test_render_resolves_requirements_and_calls_again() -> None:
    composite = example("concepts", "model-service-external.yaml")
    calls: list[fnv1.RunFunctionRequest] = []

    def counting(req: fnv1.RunFunctionRequest) -> fnv1.RunFunctionResponse:
        from modelplane_adapters.crossplane.function import run_function

        calls.append(req)
        return run_function(req)

    result = render(RenderInputs(composite=composite, available=service_fleet()), runner=counting)
    assert result.stable
    assert result.calls == 2
    assert dict(calls[0].required_resources) == {}
    second = {
        k: [i.resource["metadata"]["name"] for i in v.items]
        for k, v in calls[1].required_resources.items()
    }
    assert second == {
        "endpoints-0": [],
        "endpoints-1": ["kimi-k2-together"],
        "gateway": ["default"],
    }
    rendered = result.to_dict()
    assert rendered["composite"]["status"] == {"address": "http://203.0.113.7/ml-team/kimi-k2"}
    assert "route" in rendered["resources"]


def test_render_stops_when_requirements_never_settle() -> None:
    counter = iter(range(100))
    calls: list[fnv1.RunFunctionRequest] = []

    def restless(req: fnv1.RunFunctionRequest) -> fnv1.RunFunctionResponse:
        calls.append(req)
        rsp = fnv1.RunFunctionResponse(meta=fnv1.ResponseMeta(tag=req.meta.tag))
        rsp.requirements.resources[f"k{next(counter)}"].CopyFrom(selector(match_name="x"))
        return rsp

    result = render(
        RenderInputs(composite=reference_example(api.ModelEndpoint)), runner=restless, max_calls=4
    )
    assert not result.stable
    assert result.calls == 4
    # Crossplane's bound: MaxRequirementsIterations = 5, iterations 0..5, so six calls.
    calls.clear()
    result = render(RenderInputs(composite=reference_example(api.ModelEndpoint)), runner=restless)
    assert (result.stable, result.calls, len(calls)) == (False, 6, 6)
    # Each call carries only the previous call's requirements, never older ones.
    assert [sorted(req.required_resources) for req in calls[1:3]] == [["k4"], ["k5"]]


def test_render_passes_the_response_context_to_the_next_call() -> None:
    """Crossplane sets the next request's context to the previous response's."""
    seen: list[fnv1.RunFunctionRequest] = []

    def annotating(req: fnv1.RunFunctionRequest) -> fnv1.RunFunctionResponse:
        seen.append(req)
        rsp = fnv1.RunFunctionResponse(meta=fnv1.ResponseMeta(tag=req.meta.tag))
        rsp.context.update({"step": len(seen)})
        rsp.requirements.resources["e"].CopyFrom(selector(labels={"n": str(min(len(seen), 2))}))
        return rsp

    result = render(
        RenderInputs(composite=reference_example(api.ModelEndpoint), context={"step": 0}),
        runner=annotating,
    )
    assert (result.stable, result.calls) == (True, 3)
    assert [from_struct(req.context) for req in seen] == [{"step": 0}, {"step": 1}, {"step": 2}]


def test_render_iterates_once_more_for_an_empty_but_present_requirements_message() -> None:
    """Go's proto.Equal(nil, &Requirements{}) is false, so Crossplane calls again."""
    calls: list[fnv1.RunFunctionRequest] = []

    def empty(req: fnv1.RunFunctionRequest) -> fnv1.RunFunctionResponse:
        calls.append(req)
        rsp = fnv1.RunFunctionResponse(meta=fnv1.ResponseMeta(tag=req.meta.tag))
        rsp.requirements.SetInParent()
        return rsp

    def none(req: fnv1.RunFunctionRequest) -> fnv1.RunFunctionResponse:
        calls.append(req)
        return fnv1.RunFunctionResponse(meta=fnv1.ResponseMeta(tag=req.meta.tag))

    composite = RenderInputs(composite=reference_example(api.ModelEndpoint))
    assert render(composite, runner=empty).calls == 2
    assert render(composite, runner=none).calls == 1


def test_render_stops_at_a_fatal_result() -> None:
    result = render(RenderInputs(composite={"apiVersion": "v1", "kind": "ConfigMap"}))
    assert result.fatal
    assert result.calls == 1
    assert result.to_dict()["events"][0]["severity"] == "Fatal"


def test_render_passes_context_and_observed_resources() -> None:
    seen: list[fnv1.RunFunctionRequest] = []

    def spy(req: fnv1.RunFunctionRequest) -> fnv1.RunFunctionResponse:
        seen.append(req)
        return fnv1.RunFunctionResponse(meta=fnv1.ResponseMeta(tag=req.meta.tag))

    observed = {"service": {"apiVersion": "v1", "kind": "Service", "spec": {"port": 80}}}
    render(
        RenderInputs(
            composite=reference_example(api.ModelEndpoint), observed=observed, context={"a": 1}
        ),
        runner=spy,
    )
    (req,) = seen
    assert req.context == to_struct({"a": 1})
    assert req.observed.resources["service"].resource == to_struct(observed["service"])


# --- the CLI ---------------------------------------------------------------------------------


def write(path: Path, *documents: Any) -> str:
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False), encoding="utf-8")
    return str(path)


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_renders_deterministically(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    xr = write(tmp_path / "xr.yaml", example("concepts", "model-service-external.yaml"))
    fleet = write(tmp_path / "fleet.yaml", *service_fleet())
    context = write(
        tmp_path / "context.yaml", {"apiextensions.crossplane.io/environment": {"n": 1}}
    )
    argv = ["render", xr, "--required", fleet, "--context", context]
    first = run_cli(argv, capsys)
    second = run_cli(argv, capsys)
    assert first[0] == 0, first[2]
    assert first == second
    printed = yaml.safe_load(first[1])
    assert list(printed) == [
        "composite",
        "conditions",
        "events",
        "requirements",
        "resources",
        "calls",
    ]
    assert printed["calls"] == 2


def test_cli_reads_observed_resources_by_annotation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    xr = write(tmp_path / "xr.yaml", example("concepts", "model-endpoint.yaml"))
    code, out, err = run_cli(["render", xr], capsys)
    assert code == 0, err
    rendered = yaml.safe_load(out)["resources"]
    observed = []
    for key, resource in rendered.items():
        manifest = resource["manifest"]
        manifest["metadata"].setdefault("annotations", {})[COMPOSITION_RESOURCE_NAME] = key
        observed.append(manifest)
    seen = write(tmp_path / "observed.yaml", *observed)
    code, out, err = run_cli(["render", xr, "--observed", seen], capsys)
    assert code == 0, err
    assert set(yaml.safe_load(out)["resources"]) == set(rendered)


def test_cli_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fatal = write(tmp_path / "fatal.yaml", {"apiVersion": "v1", "kind": "ConfigMap"})
    code, out, _ = run_cli(["render", fatal], capsys)
    assert code == 1
    assert yaml.safe_load(out)["events"][0]["reason"] == "UnsupportedKind"
    two = write(tmp_path / "two.yaml", {"a": 1}, {"b": 2})
    assert run_cli(["render", two], capsys)[0] == 2
    code, _, err = run_cli(["render", str(tmp_path / "missing.yaml")], capsys)
    assert code == 2
    assert "cannot read" in err
    xr = write(tmp_path / "xr.yaml", reference_example(api.ModelEndpoint))
    unkeyed = write(
        tmp_path / "o.yaml", {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}}
    )
    code, _, err = run_cli(["render", xr, "--observed", unkeyed], capsys)
    assert code == 2
    assert COMPOSITION_RESOURCE_NAME in err
    bad_context = write(tmp_path / "c.yaml", ["not", "a", "mapping"])
    assert run_cli(["render", xr, "--context", bad_context], capsys)[0] == 2
    nobody = f"127.0.0.1:{free_port()}"
    code, out, err = run_cli(["render", xr, "--address", nobody], capsys)
    assert (code, out) == (2, "")
    assert f"calling the function at {nobody} failed" in err


# --- render == gRPC --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cls", sorted(api.KINDS, key=lambda c: c.kind_info.kind), ids=lambda c: c.kind_info.kind
)
def test_render_and_grpc_give_the_same_output(
    cls: type[api.Resource],
    tmp_path: Path,
    function_address: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The same inputs through the CLI in-process and through the live server print the same."""
    xr = write(tmp_path / "xr.yaml", reference_example(cls))
    fleet = write(tmp_path / "fleet.yaml", *service_fleet())
    local = run_cli(["render", xr, "--required", fleet], capsys)
    remote = run_cli(["render", xr, "--required", fleet, "--address", function_address], capsys)
    assert local == remote
    with grpc.insecure_channel(function_address) as channel:
        stub = grpcv1.FunctionRunnerServiceStub(channel)
        inputs = RenderInputs(composite=reference_example(cls), available=service_fleet())
        assert render(inputs, runner=stub.RunFunction).to_yaml() == local[1]
