"""NebiusCluster: the mk8s cluster, its node groups, the access bootstrap and RWX storage."""

from __future__ import annotations

import base64
from typing import Any

import attrs
import yaml

from modelplane_core import api
from modelplane_core.compose import nebius_cluster
from modelplane_core.compose.composition import Observed, ObservedResource
from modelplane_core.compose.nebius_cluster import (
    ACCESS_RELEASE_KEY,
    BOOTSTRAP_PC_KEY,
    CSI_RELEASE_KEY,
    KUBECONFIG_SECRET_KEY,
    cluster_kubeconfig_name,
    token_secret_name,
)
from modelplane_core.compose.platform import cluster_access
from modelplane_core.compose.platform.cloud_composite import (
    STORAGE_CLASS_KEY,
    kubeconfig_secret_name,
)
from tests.unit.compose.platform.fixtures import (
    ACCESS_TOKEN,
    condition_of,
    converge,
    example,
    inner,
    keys,
    manifest,
    next_pass,
    ready_status,
    schema_problems,
)

CREDENTIALS_SECRET = {"namespace": "crossplane-system", "name": "nebius-credentials", "key": "k"}


def provider_config(kind: str = "ClusterProviderConfig", **credentials: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": "default"}
    if kind == "ProviderConfig":
        metadata["namespace"] = "platform"
    return {
        "apiVersion": "nebius.m.upbound.io/v1beta1",
        "kind": kind,
        "metadata": metadata,
        "spec": {
            "identity": {"type": "ServiceAccount"},
            "credentials": credentials or {"source": "Secret", "secretRef": CREDENTIALS_SECRET},
            "projectID": "project-e00example",
        },
    }


def nebius(**changes: Any) -> api.NebiusCluster:
    composite: api.NebiusCluster = example("reference", "nebiusclusters.yaml")
    return attrs.evolve(composite, spec=attrs.evolve(composite.spec, **changes))


def inputs(composite: api.NebiusCluster | None = None, *configs: Any) -> Observed[Any]:
    return Observed(
        composite=composite or nebius(),
        required={cluster_access.CREDENTIALS_KEY: configs or (provider_config(),)},
    )


def decoded_kubeconfig(composition: Any) -> dict[str, Any]:
    data = manifest(composition, KUBECONFIG_SECRET_KEY)["data"]["kubeconfig"]
    loaded: dict[str, Any] = yaml.safe_load(base64.b64decode(data))
    return loaded


def test_first_pass_composes_the_cloud_resources_and_the_bootstrap_identity() -> None:
    composition = nebius_cluster.compose(inputs())
    assert keys(composition) == [
        "cloud-init",
        "cluster",
        "filesystem",
        "gpu-cluster-fabric-2",
        "network",
        "nodegroup-gpu-h100",
        "nodegroup-system",
        BOOTSTRAP_PC_KEY,
        "provider-config-helm",
        "provider-config-kubernetes",
        "subnet",
    ]
    assert schema_problems(composition) == []
    cluster = manifest(composition, "cluster")["spec"]
    assert cluster["writeConnectionSecretToRef"] == {
        "name": cluster_kubeconfig_name("inference-eu-north")
    }
    bootstrap = manifest(composition, BOOTSTRAP_PC_KEY)
    assert bootstrap["apiVersion"] == "helm.m.crossplane.io/v1beta1"
    assert bootstrap["spec"]["identity"] == {
        "type": "NebiusServiceAccountCredentials",
        "source": "Secret",
        "secretRef": CREDENTIALS_SECRET,
    }
    assert bootstrap["spec"]["credentials"]["secretRef"]["name"] == cluster_kubeconfig_name(
        "inference-eu-north"
    )
    # The published kubeconfig is the assembled one, not the cluster's credential-less one.
    assert composition.status["secrets"] == [
        {
            "type": "Kubeconfig",
            "name": kubeconfig_secret_name("inference-eu-north"),
            "key": "kubeconfig",
        }
    ]
    assert composition.status["cache"] == {"storageClassName": "modelplane-rwx-fs"}
    # Not Ready before its kubeconfig Secret exists.
    assert composition.ready is False
    access = condition_of(composition, "AccessReady")
    assert (access.status, access.reason) == ("False", "WaitingForCluster")
    (requirement,) = composition.requirements
    assert (requirement.kind, requirement.match_name, requirement.namespace) == (
        "ClusterProviderConfig",
        "default",
        None,
    )


def test_node_groups_are_labelled_tainted_and_sized() -> None:
    composition = nebius_cluster.compose(inputs())
    gpu = manifest(composition, "nodegroup-gpu-h100")["spec"]["forProvider"]
    template = gpu["template"]
    assert template["metadata"]["labels"] == {
        "modelplane.ai/pool": "gpu-h100",
        "modelplane.ai/gpu": "nvidia-h100",
    }
    assert template["gpuSettings"] == {"driversPreset": "cuda13.0"}
    assert template["taints"] == [
        {"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}
    ]
    assert template["gpuCluster"]["idSelector"]["matchLabels"] == {
        "modelplane.ai/fabric": "fabric-2"
    }
    assert template["bootDisk"]["sizeGibibytes"] == 200
    assert template["filesystems"][0]["mountTag"] == "modelplane-cache"
    assert gpu["autoscaling"] == {"minNodeCount": 0, "maxNodeCount": 8}
    assert "fixedNodeCount" not in gpu
    system = manifest(composition, "nodegroup-system")["spec"]["forProvider"]
    assert system["fixedNodeCount"] == 2
    assert "taints" not in system["template"]
    fabric = manifest(composition, "gpu-cluster-fabric-2")
    assert fabric["metadata"]["labels"] == {"modelplane.ai/fabric": "fabric-2"}
    assert fabric["spec"]["forProvider"]["infinibandFabric"] == "fabric-2"


def test_access_is_bootstrapped_once_the_cluster_is_up() -> None:
    observed = inputs()
    first = nebius_cluster.compose(observed)
    up = next_pass(observed, first, ready_status)
    second = nebius_cluster.compose(up)
    release = manifest(second, ACCESS_RELEASE_KEY)
    assert (
        release["spec"]["providerConfigRef"]["name"]
        == manifest(second, BOOTSTRAP_PC_KEY)["metadata"]["name"]
    )
    assert release["spec"]["writeConnectionSecretToRef"] == {
        "name": token_secret_name("inference-eu-north")
    }
    assert release["spec"]["connectionDetails"] == [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "name": "modelplane-admin-token",
            "namespace": "kube-system",
            "fieldPath": "data.token",
            "toConnectionSecretKey": "token",
        }
    ]
    made = release["spec"]["forProvider"]["values"]["resources"]
    assert [(m["kind"], m["metadata"]["name"]) for m in made] == [
        ("ServiceAccount", "modelplane-admin"),
        ("ClusterRoleBinding", "modelplane-admin"),
        ("Secret", "modelplane-admin-token"),
    ]
    assert made[1]["roleRef"]["name"] == "cluster-admin"
    assert made[2]["type"] == "kubernetes.io/service-account-token"
    assert KUBECONFIG_SECRET_KEY not in keys(second)
    assert condition_of(second, "AccessReady").reason == "WaitingForToken"
    assert second.ready is False
    # Nothing runs on the cluster before the kubeconfig that reaches it exists.
    assert CSI_RELEASE_KEY not in keys(second)
    assert STORAGE_CLASS_KEY not in keys(second)


def test_the_token_becomes_the_published_kubeconfig() -> None:
    _, ready = converge(nebius_cluster.compose, inputs())
    assert schema_problems(ready) == []
    assert all(r.ready for r in ready.resources)
    assert ready.ready is None
    secret = manifest(ready, KUBECONFIG_SECRET_KEY)
    assert secret["metadata"]["name"] == kubeconfig_secret_name("inference-eu-north")
    config = decoded_kubeconfig(ready)
    assert config["clusters"] == [
        {
            "name": "inference-eu-north",
            "cluster": {
                "server": "https://203.0.113.10",
                "certificate-authority-data": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==",
            },
        }
    ]
    assert config["users"] == [
        {"name": "modelplane-admin", "user": {"token": ACCESS_TOKEN.decode()}}
    ]
    assert condition_of(ready, "AccessReady").reason == "TokenIssued"
    # The provider configs on that Secret carry no identity: the token is enough.
    for key in ("provider-config-kubernetes", "provider-config-helm"):
        config_spec = manifest(ready, key)["spec"]
        assert config_spec["credentials"]["secretRef"]["name"] == secret["metadata"]["name"]
        assert "identity" not in config_spec
    assert inner(ready, STORAGE_CLASS_KEY)["provisioner"] == "mounted-fs-path.csi.nebius.ai"
    csi = manifest(ready, CSI_RELEASE_KEY)["spec"]["forProvider"]
    assert csi["chart"]["name"] == "csi-mounted-fs-path"
    assert csi["values"]["tolerations"][0]["key"] == "nvidia.com/gpu"


def test_the_kubeconfig_is_kept_when_the_token_vanishes_for_a_pass() -> None:
    observed, ready = converge(nebius_cluster.compose, inputs())
    release = observed.resources[ACCESS_RELEASE_KEY]
    without = ObservedResource(manifest=release.manifest, connection_details={})
    kept = nebius_cluster.compose(
        attrs.evolve(observed, resources={**observed.resources, ACCESS_RELEASE_KEY: without})
    )
    assert (
        manifest(kept, KUBECONFIG_SECRET_KEY)["data"]
        == manifest(ready, KUBECONFIG_SECRET_KEY)["data"]
    )
    assert kept.ready is None
    assert keys(kept) == keys(ready)


def test_credentials_not_fetched_yet_wait_quietly() -> None:
    composition = nebius_cluster.compose(Observed(composite=nebius()))
    access = condition_of(composition, "AccessReady")
    assert (access.status, access.reason) == ("Unknown", "WaitingForCredentials")
    assert BOOTSTRAP_PC_KEY not in keys(composition)
    assert composition.events == ()
    assert composition.requirements


def test_a_missing_or_unusable_provider_config_is_named_and_keeps_access() -> None:
    observed, running = converge(nebius_cluster.compose, inputs())
    for configs, fragment in (
        ((), "does not exist"),
        ((provider_config(source="InjectedIdentity"),), "not a Secret"),
        ((provider_config(source="Secret", secretRef={"name": "x"}),), "names no Secret key"),
    ):
        changed = attrs.evolve(observed, required={cluster_access.CREDENTIALS_KEY: configs})
        composition = nebius_cluster.compose(changed)
        access = condition_of(composition, "AccessReady")
        assert (access.status, access.reason) == ("False", "InvalidCredentials")
        assert fragment in (access.message or "")
        # The cluster stays reachable as it was: nothing composed is dropped.
        assert keys(composition) == keys(running)
        assert (
            manifest(composition, BOOTSTRAP_PC_KEY)["spec"]
            == manifest(running, BOOTSTRAP_PC_KEY)["spec"]
        )


def test_namespaced_provider_config_credentials_live_in_its_namespace() -> None:
    creds = api.CloudCredentials(type="ProviderConfig", name="default")
    secret = {"name": "nebius-key", "key": "credentials.json"}
    composite = nebius(credentials=creds)
    composition = nebius_cluster.compose(
        inputs(
            composite,
            provider_config("ProviderConfig", source="Secret", secretRef=secret),
        )
    )
    (requirement,) = composition.requirements
    assert (requirement.kind, requirement.namespace) == ("ProviderConfig", "platform")
    assert manifest(composition, BOOTSTRAP_PC_KEY)["spec"]["identity"]["secretRef"] == {
        **secret,
        "namespace": "platform",
    }
    assert manifest(composition, "cluster")["spec"]["providerConfigRef"] == {
        "kind": "ProviderConfig",
        "name": "default",
    }


def test_an_invalid_spec_is_held_and_still_asks_for_its_credentials() -> None:
    observed, running = converge(nebius_cluster.compose, inputs())
    pools = list(nebius().spec.node_pools)
    pools[1] = attrs.evolve(pools[1], gpu=None)
    held = nebius_cluster.compose(attrs.evolve(observed, composite=nebius(node_pools=tuple(pools))))
    assert held.held
    assert keys(held) == keys(running)
    assert all(r.ready for r in held.resources)
    assert held.requirements
    assert "spec.nodePools[1].gpu" in (condition_of(held, "Accepted").message or "")


def test_token_kubeconfig_reads_the_current_context() -> None:
    two = {
        "clusters": [
            {"name": "private", "cluster": {"server": "https://10.0.0.1"}},
            {"name": "public", "cluster": {"server": "https://1.2.3.4"}},
        ],
        "contexts": [{"name": "c", "context": {"cluster": "public"}}],
        "current-context": "c",
    }
    text = cluster_access.token_kubeconfig(yaml.safe_dump(two).encode(), b"t\n", name="x")
    assert text is not None
    config = yaml.safe_load(text)
    assert config["clusters"][0]["cluster"] == {"server": "https://1.2.3.4"}
    assert config["users"][0]["user"] == {"token": "t"}
    assert config["current-context"] == "x"
    for garbage in (b"{", b"\xff", b"[]", b"clusters: []"):
        assert cluster_access.token_kubeconfig(garbage, b"t", name="x") is None
    assert cluster_access.token_kubeconfig(yaml.safe_dump(two).encode(), b" ", name="x") is None


def test_a_spec_without_a_system_pool_gets_the_standard_one() -> None:
    gpu_only = nebius(node_pools=nebius().spec.node_pools[1:])
    composition = nebius_cluster.compose(inputs(gpu_only))
    system = manifest(composition, "nodegroup-system")["spec"]["forProvider"]
    assert system["template"]["resources"] == {"platform": "cpu-d3", "preset": "4vcpu-16gb"}
    assert system["autoscaling"] == {"minNodeCount": 1, "maxNodeCount": 2}
    assert system["template"]["metadata"]["labels"] == {"modelplane.ai/pool": "system"}
