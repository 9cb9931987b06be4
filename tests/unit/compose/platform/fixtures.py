"""Builders for the platform composer tests: examples, classes, observed state, schema checks.

Observed state is produced the way Crossplane produces it: the manifests a
composer asked for, echoed back with a generated name and the status a
provider would write (``Ready``, ``Accepted``, addresses, IDs), so a test
walks a composer through its passes without hand-writing observed objects.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from modelplane_core import api
from modelplane_core.compose.composition import Composition, Observed, ObservedResource
from tests.k8s_schemas import validate_manifest
from tests.support import shared_path

GPU = "gpu.nvidia.com"

# Cloud provider and MetalLB kinds have no CRD under ../shared/schemas, so they cannot be
# validated against a schema; they are checked structurally instead (see structural_problems).
UNSCHEMATIZED_GROUP_SUFFIXES = (
    ".gcp.m.upbound.io",
    ".aws.m.upbound.io",
    "azure.m.upbound.io",
    ".vultr.m.upbound.io",
    ".nebius.m.upbound.io",
)
UNSCHEMATIZED_KINDS = {("metallb.io", "IPAddressPool"), ("metallb.io", "L2Advertisement")}
# The required forProvider fields of each cloud kind we compose (from the providers' APIs).
REQUIRED_FOR_PROVIDER: dict[str, tuple[str, ...]] = {
    "compute.gcp/Network": ("project",),
    "compute.gcp/Subnetwork": ("project", "region", "ipCidrRange", "networkSelector"),
    "container.gcp/Cluster": ("project", "location", "networkSelector", "subnetworkSelector"),
    "container.gcp/NodePool": ("project", "location", "nodeConfig", "clusterSelector"),
    "cloudplatform.gcp/ProjectService": ("project", "service"),
    "cloudplatform.gcp/ServiceAccount": ("project",),
    "cloudplatform.gcp/ServiceAccountKey": ("serviceAccountIdSelector",),
    "cloudplatform.gcp/ProjectIAMMember": ("project", "role", "member"),
    "ec2.aws/VPC": ("region", "cidrBlock"),
    "ec2.aws/Subnet": ("region", "availabilityZone", "cidrBlock", "vpcIdSelector"),
    "ec2.aws/RouteTableAssociation": ("region", "routeTableIdSelector", "subnetIdSelector"),
    "ec2.aws/LaunchTemplate": ("region", "name"),
    "eks.aws/Cluster": ("region", "version", "roleArnSelector", "vpcConfig"),
    "eks.aws/NodeGroup": ("region", "scalingConfig", "clusterNameSelector", "nodeRoleArnSelector"),
    "eks.aws/Addon": ("region", "addonName", "clusterNameSelector"),
    "iam.aws/Role": ("assumeRolePolicy",),
    "iam.aws/Policy": ("policy",),
    "efs.aws/FileSystem": ("region",),
    "efs.aws/MountTarget": ("region", "fileSystemIdSelector", "subnetIdRef"),
    "azure.m/ResourceGroup": ("location",),
    "network.azure/VirtualNetwork": ("location", "addressSpace", "resourceGroupNameSelector"),
    "network.azure/Subnet": (
        "addressPrefixes",
        "resourceGroupNameSelector",
        "virtualNetworkNameSelector",
    ),
    "containerservice.azure/KubernetesCluster": (
        "location",
        "dnsPrefix",
        "identity",
        "defaultNodePool",
        "resourceGroupNameSelector",
    ),
    "containerservice.azure/KubernetesClusterNodePool": ("vmSize", "kubernetesClusterIdSelector"),
    "vke.vultr/Kubernetes": ("label", "region", "version", "nodePools"),
    "vke.vultr/KubernetesNodePool": ("label", "plan", "clusterIdSelector"),
    "vpc.nebius/Network": ("name",),
    "vpc.nebius/Subnet": ("name", "networkIdSelector"),
    "mk8s.nebius/Cluster": ("name", "controlPlane"),
    "mk8s.nebius/NodeGroup": ("name", "parentIdSelector", "template"),
    "compute.nebius/GpuCluster": ("name", "infinibandFabric"),
    "compute.nebius/Filesystem": ("name", "type"),
}
# Required fields a provider accepts in forProvider or, set only at creation, initProvider.
REQUIRED_AT_CREATION: dict[str, tuple[str, ...]] = {
    "vke.vultr/KubernetesNodePool": ("nodeQuantity",),
}


def example(*parts: str) -> Any:
    """The single typed object of an example manifest under ../shared/examples."""
    (obj,) = api.load_yaml(shared_path("examples", *parts).read_text())
    return obj


def examples(*parts: str) -> list[Any]:
    """Every typed object of an example manifest (platform files hold several)."""
    return list(api.load_yaml(shared_path("examples", *parts).read_text()))


def gpu_device(**overrides: Any) -> api.Device:
    fields: dict[str, Any] = {
        "name": "gpu",
        "driver": GPU,
        "device_class_name": GPU,
        "count": 1,
        "attributes": {"architecture": api.DeviceAttribute(string="Ada Lovelace")},
        "capacity": {"memory": api.DeviceCapacity(value="23034Mi")},
    }
    fields.update(overrides)
    return api.Device(**fields)


def inference_class(
    name: str,
    *,
    devices: tuple[api.Device, ...] | None = None,
    provider: str | None = None,
) -> api.InferenceClass:
    """A class; with ``provider`` it carries that cloud's recipe for an L4 node."""
    provisioning = None
    accelerator = api.Accelerator(type="nvidia-l4", count=1)
    if provider == "GKE":
        provisioning = api.Provisioning(
            provider="GKE",
            gke=api.GKEProvisioning(machine_type="g2-standard-8", accelerator=accelerator),
        )
    elif provider == "EKS":
        provisioning = api.Provisioning(
            provider="EKS",
            eks=api.EKSProvisioning(instance_type="g6.xlarge", accelerator=accelerator),
        )
    elif provider == "Nebius":
        provisioning = api.Provisioning(
            provider="Nebius",
            nebius=api.NebiusProvisioning(
                platform="gpu-h100-sxm", preset="1gpu-16vcpu-200gb", accelerator=accelerator
            ),
        )
    elif provider == "AKS":
        provisioning = api.Provisioning(
            provider="AKS",
            aks=api.AKSProvisioning(vm_size="Standard_NC4as_T4_v3", accelerator=accelerator),
        )
    elif provider == "Vultr":
        provisioning = api.Provisioning(
            provider="Vultr",
            vultr=api.VultrProvisioning(plan="vcg-l40s-16c-180g-48vram", accelerator=accelerator),
        )
    return api.InferenceClass(
        metadata=api.ObjectMeta(name=name),
        spec=api.InferenceClassSpec(
            devices=devices if devices is not None else (gpu_device(),),
            provisioning=provisioning,
        ),
    )


def existing_cluster(
    name: str, pools: Iterable[api.NodePool], **existing: Any
) -> api.InferenceCluster:
    return api.InferenceCluster(
        metadata=api.ObjectMeta(name=name),
        spec=api.InferenceClusterSpec(
            cluster=api.ClusterSourceSpec(
                source="Existing",
                existing=api.ExistingCluster(
                    secret_ref=api.KubeconfigSecretRef(name=f"{name}-kubeconfig"), **existing
                ),
            ),
            node_pools=tuple(pools) or None,
        ),
    )


def provisioned_cluster(
    name: str, source: str, pools: Iterable[api.NodePool]
) -> api.InferenceCluster:
    cluster = api.ClusterSourceSpec(
        source=source,  # type: ignore[arg-type]
        gke=api.GKEClusterSettings(project="my-gcp-project", region="us-central1")
        if source == "GKE"
        else None,
        eks=api.EKSClusterSettings(region="us-west-2") if source == "EKS" else None,
        nebius=api.NebiusClusterSettings() if source == "Nebius" else None,
        aks=api.AKSClusterSettings(location="westeurope") if source == "AKS" else None,
        vultr=api.VultrClusterSettings(region="ewr") if source == "Vultr" else None,
    )
    return api.InferenceCluster(
        metadata=api.ObjectMeta(name=name),
        spec=api.InferenceClusterSpec(cluster=cluster, node_pools=tuple(pools) or None),
    )


def required_classes(
    cluster: api.InferenceCluster, classes: Iterable[api.InferenceClass]
) -> dict[str, tuple[dict[str, Any], ...]]:
    """Requirements as Crossplane resolves them: every referenced class, found or not."""
    by_name = {c.metadata.name: api.to_dict(c) for c in classes}
    names = sorted({p.class_name for p in cluster.spec.node_pools or ()})
    return {f"class-{n}": ((by_name[n],) if n in by_name else ()) for n in names}


# --- observed state ---------------------------------------------------------------------

StatusFor = Callable[[str, Mapping[str, Any]], Mapping[str, Any] | None]


# What the cloud composites publish once their cluster exists.
CLOUD_STATUS: dict[str, dict[str, Any]] = {
    "GKECluster": {
        "secrets": [
            {"type": "Kubeconfig", "name": "c-kubeconfig-1a2b3", "key": "kubeconfig"},
            {
                "type": "GoogleApplicationCredentials",
                "name": "c-sa-key-4d5e6",
                "key": "private_key",
            },
        ],
        "cache": {"storageClassName": "modelplane-rwx"},
    },
    "EKSCluster": {
        "secrets": [{"type": "Kubeconfig", "name": "c-kubeconfig-1a2b3", "key": "kubeconfig"}],
        "cache": {"storageClassName": "modelplane-rwx-efs"},
    },
    "AKSCluster": {
        "secrets": [{"type": "Kubeconfig", "name": "c-kubeconfig-1a2b3", "key": "kubeconfig"}],
        "cache": {"storageClassName": "modelplane-rwx-fs"},
    },
    "NebiusCluster": {
        "secrets": [{"type": "Kubeconfig", "name": "c-kubeconfig-1a2b3", "key": "kubeconfig"}],
        "cache": {"storageClassName": "modelplane-rwx-fs"},
    },
    "VultrCluster": {
        "secrets": [{"type": "Kubeconfig", "name": "c-kubeconfig-1a2b3", "key": "kubeconfig"}],
    },
}


def ready_status(_: str, manifest: Mapping[str, Any]) -> Mapping[str, Any]:
    """What a healthy resource reports: Ready, and for Gateway API objects Accepted too."""
    conditions = [
        {"type": "Ready", "status": "True", "reason": "Available"},
        {"type": "Accepted", "status": "True", "reason": "Accepted"},
    ]
    status: dict[str, Any] = {"conditions": conditions}
    if manifest.get("kind") == "Object":
        wrapped = copy.deepcopy(manifest["spec"]["forProvider"]["manifest"])
        if wrapped.get("kind") == "Gateway":
            wrapped["status"] = {"addresses": [{"type": "IPAddress", "value": "34.55.100.10"}]}
        status["atProvider"] = {"manifest": wrapped}
    if manifest.get("kind") == "Gateway":
        status["addresses"] = [{"type": "IPAddress", "value": "172.18.255.200"}]
    if manifest.get("kind") == "ServingStack":
        status["gateway"] = {"address": "34.55.100.10"}
    if manifest.get("kind") in CLOUD_STATUS:
        status.update(copy.deepcopy(CLOUD_STATUS[manifest["kind"]]))
    return status


def pending_status(_: str, __: Mapping[str, Any]) -> Mapping[str, Any]:
    return {"conditions": [{"type": "Ready", "status": "False", "reason": "Creating"}]}


def observe(
    composition: Composition,
    status_for: StatusFor = pending_status,
    *,
    only: Iterable[str] | None = None,
) -> dict[str, ObservedResource]:
    """The composition's resources as Crossplane would observe them after applying them."""
    wanted = set(only) if only is not None else None
    observed: dict[str, ObservedResource] = {}
    for resource in composition.resources:
        if wanted is not None and resource.key not in wanted:
            continue
        manifest = copy.deepcopy(dict(resource.manifest))
        metadata = manifest.setdefault("metadata", {})
        metadata.setdefault("name", f"{resource.key}-x7k2p")
        metadata["uid"] = f"uid-{resource.key}"
        status = status_for(resource.key, manifest)
        if status is not None:
            manifest["status"] = dict(status)
        observed[resource.key] = ObservedResource(
            manifest=manifest, connection_details=provider_connection(manifest)
        )
    return observed


# The Nebius provider config a NebiusCluster is built with (and reaches its cluster as).
NEBIUS_PROVIDER_CONFIG: dict[str, Any] = {
    "apiVersion": "nebius.m.upbound.io/v1beta1",
    "kind": "ClusterProviderConfig",
    "metadata": {"name": "default"},
    "spec": {
        "identity": {"type": "ServiceAccount"},
        "credentials": {
            "source": "Secret",
            "secretRef": {
                "namespace": "crossplane-system",
                "name": "nebius-credentials",
                "key": "credentials.json",
            },
        },
        "projectID": "project-e00example",
    },
}


# What a cloud provider writes to a cluster's connection Secret: endpoint and CA (the
# Nebius shape; other clouds add credentials, which no composer reads).
CLUSTER_KUBECONFIG = b"""apiVersion: v1
kind: Config
clusters:
- name: context
  cluster:
    server: https://203.0.113.10
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==
contexts:
- name: context
  context: {cluster: context, user: context}
current-context: context
users:
- name: context
  user: {}
"""
ACCESS_TOKEN = b"eyJhbGciOiJSUzI1NiJ9.modelplane-admin.signature"


def provider_connection(manifest: Mapping[str, Any]) -> dict[str, bytes]:
    """The connection details of a Ready managed resource that writes a connection Secret.

    A Release publishes each field its ``connectionDetails`` name (the token
    here); anything else is a cluster publishing its kubeconfig.
    """
    spec = manifest.get("spec") or {}
    ready = any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (manifest.get("status") or {}).get("conditions") or ()
    )
    if not ready or "writeConnectionSecretToRef" not in spec:
        return {}
    if manifest.get("kind") == "Release":
        return {d["toConnectionSecretKey"]: ACCESS_TOKEN for d in spec.get("connectionDetails", ())}
    return {"kubeconfig": CLUSTER_KUBECONFIG}


def next_pass(
    observed: Observed[Any],
    composition: Composition,
    status_for: StatusFor = pending_status,
    **changes: Any,
) -> Observed[Any]:
    """The inputs of the following reconcile: this pass's resources observed, inputs kept."""
    return Observed(
        composite=changes.get("composite", observed.composite),
        resources={**observed.resources, **observe(composition, status_for)},
        required=changes.get("required", observed.required),
    )


def converge(
    compose: Callable[[Observed[Any]], Composition],
    observed: Observed[Any],
    status_for: StatusFor = ready_status,
    passes: int = 8,
) -> tuple[Observed[Any], Composition]:
    """Reconcile until the desired resources stop changing (every resource reporting healthy)."""
    composition = compose(observed)
    for _ in range(passes):
        observed = next_pass(observed, composition, status_for)
        following = compose(observed)
        if [r.key for r in following.resources] == [r.key for r in composition.resources] and [
            r.ready for r in following.resources
        ] == [r.ready for r in composition.resources]:
            return observed, following
        composition = following
    return observed, composition


# --- schema checks ------------------------------------------------------------------------


def structural_problems(manifest: Mapping[str, Any]) -> list[str]:
    """Checks for kinds with no schema under ../shared/schemas (cloud MRs, MetalLB)."""
    kind = manifest.get("kind", "")
    problems: list[str] = []
    metadata = manifest.get("metadata")
    if not isinstance(metadata, Mapping) or not metadata.get("namespace"):
        problems.append(f"{kind}: metadata.namespace is required for a namespaced resource")
    spec = manifest.get("spec")
    if not isinstance(spec, Mapping):
        return [*problems, f"{kind}: spec is required"]
    group = str(manifest.get("apiVersion", "")).rpartition("/")[0]
    if group.endswith(UNSCHEMATIZED_GROUP_SUFFIXES):
        for_provider = spec.get("forProvider")
        if not isinstance(for_provider, Mapping) or not for_provider:
            problems.append(f"{kind}: spec.forProvider must be a non-empty object")
            return problems
        ref = spec.get("providerConfigRef")
        if not isinstance(ref, Mapping) or set(ref) != {"kind", "name"}:
            problems.append(f"{kind}: spec.providerConfigRef needs kind and name")
        family = ".".join(group.split(".")[:2])
        policies = spec.get("managementPolicies")
        for field in REQUIRED_FOR_PROVIDER.get(f"{family}/{kind}", ()):
            if field not in for_provider:
                problems.append(f"{kind}: spec.forProvider.{field} is required")
        init = spec.get("initProvider") or {}
        for field in REQUIRED_AT_CREATION.get(f"{family}/{kind}", ()):
            if field not in for_provider and field not in init:
                problems.append(f"{kind}: spec.forProvider.{field} (or initProvider) is required")
        if init and (policies is None or "LateInitialize" in policies or "*" in policies):
            # Late initialization would copy the creation-only fields into forProvider,
            # and the provider would then fight whoever owns them (an autoscaler).
            problems.append(f"{kind}: initProvider given, but LateInitialize is not excluded")
        problems.extend(f"{kind}: {p}" for p in _selector_problems(for_provider, "forProvider"))
        allowed = {"Observe", "Create", "Update", "Delete", "LateInitialize", "*"}
        if policies is not None and not set(policies) <= allowed:
            problems.append(f"{kind}: unknown management policies {policies}")
    return problems


def _selector_problems(value: Any, path: str) -> list[str]:
    """Every ``*Selector`` must select something; every ``*Ref`` must name something."""
    problems: list[str] = []
    if isinstance(value, Mapping):
        for key, item in value.items():
            where = f"{path}.{key}"
            if key.endswith("Selector") and (
                not isinstance(item, Mapping) or not (item.get("matchControllerRef") or item)
            ):
                problems.append(f"{where}: a selector must select something")
            if (
                key.endswith("Ref")
                and key != "matchControllerRef"
                and not (isinstance(item, Mapping) and item.get("name"))
            ):
                problems.append(f"{where}: a reference must name its target")
            problems.extend(_selector_problems(item, where))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            problems.extend(_selector_problems(item, f"{path}[{index}]"))
    return problems


def manifest_problems(manifest: Mapping[str, Any]) -> list[str]:
    """Schema problems, with structural checks standing in where no schema exists."""
    group = str(manifest.get("apiVersion", "")).rpartition("/")[0]
    kind = str(manifest.get("kind", ""))
    if group.endswith(UNSCHEMATIZED_GROUP_SUFFIXES) or (group, kind) in UNSCHEMATIZED_KINDS:
        return structural_problems(manifest)
    return validate_manifest(manifest)


def schema_problems(composition: Composition) -> list[str]:
    """Every problem of every desired manifest (and of what it wraps)."""
    return [
        f"{resource.key}: {problem}"
        for resource in composition.resources
        for problem in manifest_problems(resource.manifest)
    ]


def keys(composition: Composition) -> list[str]:
    return [r.key for r in composition.resources]


def ready_keys(composition: Composition) -> list[str]:
    return [r.key for r in composition.resources if r.ready]


def manifest(composition: Composition, key: str) -> dict[str, Any]:
    resource = composition.resource(key)
    assert resource is not None, f"no desired resource {key!r} in {keys(composition)}"
    return dict(resource.manifest)


def inner(composition: Composition, key: str) -> dict[str, Any]:
    """The manifest a provider-kubernetes Object wraps."""
    wrapped: dict[str, Any] = manifest(composition, key)["spec"]["forProvider"]["manifest"]
    return wrapped


def condition_of(composition: Composition, type_: str) -> api.Condition:
    found = composition.condition(type_)
    assert found is not None, f"no {type_} condition in {composition.conditions}"
    return found
