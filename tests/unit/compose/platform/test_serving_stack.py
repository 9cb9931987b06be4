"""ServingStack: the serving substrate, installed in order and never uninstalled by accident."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from modelplane_core import api
from modelplane_core.api.infrastructure import GatewayListener
from modelplane_core.compose import serving_stack
from modelplane_core.compose.composition import Observed
from modelplane_core.compose.platform.chart_versions import (
    COMPONENTS,
    STACK_VERSION_FIELDS,
    HelmChart,
    stack_version,
)
from modelplane_core.compose.serving_stack import (
    CRDS_KEY,
    GATEWAY_KEY,
    HELM_PC_KEY,
    KUBERNETES_PC_KEY,
    RELEASES,
    provider_config_name,
)
from tests.unit.compose.platform.fixtures import (
    condition_of,
    converge,
    inner,
    keys,
    manifest,
    next_pass,
    observe,
    ready_status,
    schema_problems,
)

PROVIDER_CONFIGS = [HELM_PC_KEY, KUBERNETES_PC_KEY]


def stack(**spec: Any) -> api.ServingStack:
    fields: dict[str, Any] = {
        "secrets": (
            api.ClusterSecret(type="Kubeconfig", name="kc", key="kubeconfig"),
            api.ClusterSecret(type="GoogleApplicationCredentials", name="sa", key="private_key"),
        )
    }
    fields.update(spec)
    return api.ServingStack(
        metadata=api.ObjectMeta(name="west-stack", namespace="modelplane-system"),
        spec=api.ServingStackSpec(**fields),
    )


def values(composition: Any, key: str) -> dict[str, Any]:
    return dict(manifest(composition, key)["spec"]["forProvider"].get("values") or {})


def test_first_pass_composes_only_the_provider_configs() -> None:
    composition = serving_stack.compose(Observed(composite=stack()))
    assert keys(composition) == PROVIDER_CONFIGS
    assert schema_problems(composition) == []
    assert all(r.ready for r in composition.resources)
    for key in PROVIDER_CONFIGS:
        config = manifest(composition, key)
        assert config["metadata"] == {
            "name": provider_config_name("west-stack"),
            "namespace": "modelplane-system",
        }
        assert config["spec"]["credentials"]["secretRef"]["name"] == "kc"
        assert config["spec"]["identity"]["type"] == "GoogleApplicationCredentials"
    assert composition.status == {}
    waiting = condition_of(composition, "ComponentsReady")
    assert (waiting.status, waiting.reason) == ("False", "WaitingForProviderConfigs")


def test_second_pass_installs_everything_without_prerequisites() -> None:
    inputs = Observed(composite=stack())
    first = serving_stack.compose(inputs)
    second = serving_stack.compose(next_pass(inputs, first))
    assert schema_problems(second) == []
    composed = set(keys(second))
    # Ungated: namespaces, CRD installer RBAC, independent releases.
    for key in (
        "namespace-system",
        "namespace-workloads",
        "release-cert-manager",
        "release-prometheus",
        "release-leader-worker-set",
        "release-node-feature-discovery",
        "release-envoy-gateway-crds",
        "release-ai-gateway-crds",
    ):
        assert key in composed
    # Gated on something not ready yet.
    for key in (CRDS_KEY, GATEWAY_KEY, "gateway-class", "release-envoy-gateway"):
        assert key not in composed
    assert not any(r.ready for r in second.resources if r.key not in PROVIDER_CONFIGS)
    installing = condition_of(second, "ComponentsReady")
    assert installing.reason == "Installing"
    assert "queued" in (installing.message or "")


def test_releases_use_the_pinned_table_and_fixed_release_names() -> None:
    _, composition = converge(serving_stack.compose, Observed(composite=stack()))
    for entry in RELEASES:
        release = manifest(composition, entry.key)
        chart = COMPONENTS[entry.component]
        assert isinstance(chart, HelmChart)
        assert release["spec"]["forProvider"]["chart"] == {
            "name": chart.chart,
            "repository": chart.repository,
            "version": chart.version,
        }
        assert release["spec"]["forProvider"]["namespace"] == chart.namespace
        assert release["metadata"]["annotations"] == {
            "crossplane.io/external-name": entry.release_name
        }
        assert release["spec"]["providerConfigRef"] == {
            "kind": "ProviderConfig",
            "name": provider_config_name("west-stack"),
        }
    assert manifest(composition, "release-envoy-gateway")["spec"]["forProvider"]["skipCRDs"]


def test_spec_versions_override_the_pins() -> None:
    versions = api.StackVersions(cert_manager="v1.18.0", gateway_api="v1.4.0")
    _, composition = converge(serving_stack.compose, Observed(composite=stack(versions=versions)))
    chart = manifest(composition, "release-cert-manager")["spec"]["forProvider"]["chart"]
    assert chart["version"] == "v1.18.0"
    args = inner(composition, CRDS_KEY)["spec"]["template"]["spec"]["containers"][0]["args"]
    assert any("gateway-api/releases/download/v1.4.0/standard-install.yaml" in a for a in args)
    assert any("gateway-api-inference-extension" in a for a in args)


def test_converged_stack_reports_its_gateway_address_and_health() -> None:
    observed, composition = converge(serving_stack.compose, Observed(composite=stack()))
    assert schema_problems(composition) == []
    assert all(r.ready for r in composition.resources), [
        r.key for r in composition.resources if not r.ready
    ]
    assert composition.status == {"gateway": {"address": "34.55.100.10"}}
    assert condition_of(composition, "ComponentsReady").status == "True"
    gateway = condition_of(composition, "GatewayReady")
    assert (gateway.status, gateway.reason) == ("True", "AddressAssigned")
    assert len(keys(composition)) == len(serving_stack.plan(observed.composite))


def test_the_workload_gateway_and_namespace_match_the_topology() -> None:
    _, composition = converge(serving_stack.compose, Observed(composite=stack()))
    gateway = inner(composition, GATEWAY_KEY)
    assert gateway["metadata"] == {"name": "inference-gateway", "namespace": "modelplane-system"}
    assert gateway["spec"]["gatewayClassName"] == "envoy"
    assert gateway["spec"]["listeners"] == [
        {
            "name": "http",
            "port": 80,
            "protocol": "HTTP",
            "allowedRoutes": {"namespaces": {"from": "All"}},
        }
    ]
    assert manifest(composition, GATEWAY_KEY)["spec"]["readiness"]["policy"] == "DeriveFromCelQuery"
    workloads = manifest(composition, "namespace-workloads")
    assert (
        workloads["spec"]["forProvider"]["manifest"]["metadata"]["name"] == "modelplane-workloads"
    )
    assert "Delete" not in workloads["spec"]["managementPolicies"]
    listeners = (GatewayListener(name="tcp", port=9000, protocol="TCP"),)
    custom = stack(gateway=api.StackGateway(class_name="eg", listeners=listeners))
    _, composition = converge(serving_stack.compose, Observed(composite=custom))
    assert inner(composition, "gateway-class")["metadata"]["name"] == "eg"
    assert inner(composition, GATEWAY_KEY)["spec"]["listeners"][0]["port"] == 9000


@pytest.mark.parametrize(
    ("root", "expected"),
    [("/", None), ("/home/kubernetes/bin/nvidia", "/home/kubernetes/bin/nvidia")],
)
def test_the_driver_root_is_only_set_when_not_default(root: str, expected: str | None) -> None:
    _, composition = converge(
        serving_stack.compose, Observed(composite=stack(nvidia_driver_root=root))
    )
    assert values(composition, "release-nvidia-dra-driver").get("nvidiaDriverRoot") == expected
    quota = inner(composition, "dra-driver-critical-pods-quota")
    assert quota["kind"] == "ResourceQuota"


def test_an_installed_release_is_never_dropped_when_its_prerequisites_vanish() -> None:
    observed, composition = converge(serving_stack.compose, Observed(composite=stack()))
    without_configs = {k: v for k, v in observed.resources.items() if k not in PROVIDER_CONFIGS}
    again = serving_stack.compose(attrs.evolve(observed, resources=without_configs))
    assert keys(again) == keys(composition)
    condition = condition_of(again, "ComponentsReady")
    assert condition.reason == "WaitingForProviderConfigs"


def test_a_stack_without_kubeconfig_is_held() -> None:
    bad = stack(
        secrets=(api.ClusterSecret(type="GoogleApplicationCredentials", name="sa", key="k"),)
    )
    observed, running = converge(serving_stack.compose, Observed(composite=stack()))
    held = serving_stack.compose(attrs.evolve(observed, composite=bad))
    assert held.held
    assert keys(held) == keys(running)
    accepted = condition_of(held, "Accepted")
    assert accepted.reason == "InvalidSpec"
    assert "Kubeconfig" in (accepted.message or "")


def test_an_identity_provider_kubernetes_lacks_is_named() -> None:
    bad = stack(
        secrets=(
            api.ClusterSecret(type="Kubeconfig", name="kc", key="kubeconfig"),
            api.ClusterSecret(type="NebiusServiceAccountCredentials", name="n", key="k"),
        )
    )
    composition = serving_stack.compose(Observed(composite=bad))
    assert composition.held
    assert composition.resources == ()
    assert "spec.secrets[1].type" in (condition_of(composition, "Accepted").message or "")


def test_the_table_agrees_with_the_api_defaults() -> None:
    defaults = api.StackVersions()
    for component, field in STACK_VERSION_FIELDS.items():
        assert stack_version(component, None) == getattr(defaults, field), component
        assert stack_version(component, defaults) == getattr(defaults, field), component


def test_secrets_in_other_namespaces_are_referenced_there() -> None:
    composition = serving_stack.compose(
        Observed(
            composite=stack(
                secrets=(
                    api.ClusterSecret(type="Kubeconfig", name="kc", key="kubeconfig"),
                    api.ClusterSecret(
                        type="AWSWebIdentityCredentials",
                        name="aws",
                        key="t",
                        namespace="crossplane-system",
                    ),
                )
            )
        )
    )
    identity = manifest(composition, KUBERNETES_PC_KEY)["spec"]["identity"]
    assert identity["secretRef"] == {"name": "aws", "namespace": "crossplane-system", "key": "t"}
    assert schema_problems(composition) == []


def test_observing_one_pass_at_a_time_respects_every_prerequisite() -> None:
    """Walk the passes one by one: a piece appears only after what it waits for is ready."""
    pieces = {p.key: p for p in serving_stack.plan(stack())}
    inputs = Observed(composite=stack())
    composition = serving_stack.compose(inputs)
    seen: set[str] = set()
    for _ in range(8):
        for key in keys(composition):
            if key not in seen:
                for prerequisite in pieces[key].after:
                    assert prerequisite in inputs.resources, (key, prerequisite)
        seen |= set(keys(composition))
        inputs = Observed(
            composite=inputs.composite,
            resources={**inputs.resources, **observe(composition, ready_status)},
        )
        composition = serving_stack.compose(inputs)
    assert seen == set(pieces)
