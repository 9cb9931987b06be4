"""Cross-field rules of every kind, registered on import.

Where a rule can be stated in CEL it carries that CEL too, so the exported
XRD enforces the same invariant on the API server that ``modelplane validate``
reports locally. The CEL texts of rules the reference XRDs also have are kept
equivalent to theirs; rules beyond the reference are listed with their reasons
in ``docs/validation.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from urllib.parse import urlsplit

from modelplane_core.api.devices import Device, DeviceAttribute
from modelplane_core.api.errors import FieldError, join_path, key_path, shown
from modelplane_core.api.inference_class import Provisioning
from modelplane_core.api.inference_cluster import (
    ClusterSourceSpec,
    Fabric,
    InferenceClusterSpec,
    NodePool,
)
from modelplane_core.api.inference_gateway import (
    GATEWAY_SINGLETON_NAME,
    InferenceGateway,
    InferenceGatewaySpec,
    TraefikSettings,
)
from modelplane_core.api.infrastructure import (
    AKSCluster,
    AKSNodePool,
    CloudClusterStatus,
    EKSCluster,
    EKSNodePool,
    GKECluster,
    GKENodePool,
    NebiusCluster,
    NebiusFabric,
    NebiusNodePool,
    ServingStackSpec,
    VultrCluster,
    VultrNodePool,
)
from modelplane_core.api.labels import (
    dns_label_problem,
    dns_subdomain_problem,
    label_value_problem,
    qualified_name_problem,
)
from modelplane_core.api.meta import (
    RESERVED_LABEL_PREFIX,
    HasKindInfo,
    LabelSelector,
    ObjectMeta,
    Taint,
    Toleration,
)
from modelplane_core.api.model_cache import ModelCacheSpec
from modelplane_core.api.model_deployment import (
    DeviceSelector,
    Engine,
    EngineMember,
    ModelDeploymentSpec,
)
from modelplane_core.api.model_replica import ModelReplicaSpec, ReplicaEngine, ReplicaMember
from modelplane_core.api.model_routing import EndpointSelector, ModelEndpointSpec
from modelplane_core.api.pods import (
    ENGINE_CONTAINER,
    EnvVar,
    EnvVarSource,
    PodSpec,
    PodTemplateMetadata,
)
from modelplane_core.api.validation import check, rule

# --- serving mode pairing (ModelDeployment and ModelReplica alike) -----------------

_PD = "has(self.serving) && self.serving.mode == 'PrefillDecode'"


def _register_serving_rules(cls: type[ModelDeploymentSpec] | type[ModelReplicaSpec]) -> None:
    def is_pd(spec: ModelDeploymentSpec | ModelReplicaSpec) -> bool:
        return spec.serving_mode == "PrefillDecode"

    def phases(spec: ModelDeploymentSpec | ModelReplicaSpec, phase: str) -> int:
        return sum(1 for e in spec.engines if e.phase == phase)

    rule(
        cls,
        message="PrefillDecode serving requires exactly two engines (one Prefill, one Decode)",
        cel=f"!({_PD}) || size(self.engines) == 2",
    )(lambda s: not is_pd(s) or len(s.engines) == 2)
    rule(
        cls,
        message="PrefillDecode serving requires exactly one engine with phase Prefill",
        cel=f"!({_PD}) || self.engines.exists_one(e, has(e.phase) && e.phase == 'Prefill')",
    )(lambda s: not is_pd(s) or phases(s, "Prefill") == 1)
    rule(
        cls,
        message="PrefillDecode serving requires exactly one engine with phase Decode",
        cel=f"!({_PD}) || self.engines.exists_one(e, has(e.phase) && e.phase == 'Decode')",
    )(lambda s: not is_pd(s) or phases(s, "Decode") == 1)
    rule(
        cls,
        message="engine phase may only be set when serving.mode is PrefillDecode",
        cel=f"({_PD}) || !self.engines.exists(e, has(e.phase))",
    )(lambda s: is_pd(s) or all(e.phase is None for e in s.engines))


_register_serving_rules(ModelDeploymentSpec)
_register_serving_rules(ModelReplicaSpec)


@rule(
    ModelDeploymentSpec,
    message=(
        "a gang engine (a Leader with Workers) spans several nodes and requires "
        "spec.modelCacheRef, so every pod of the gang mounts the same weights"
    ),
    field="modelCacheRef",
    cel=(
        "has(self.modelCacheRef) || "
        "!self.engines.exists(e, e.members.exists(m, m.role == 'Leader'))"
    ),
)
def _gang_needs_cache(spec: ModelDeploymentSpec) -> bool:
    return spec.model_cache_ref is not None or not any(e.is_gang for e in spec.engines)


@check(ModelDeploymentSpec)
def _replica_labels(spec: ModelDeploymentSpec, path: str) -> Iterator[FieldError]:
    # They land on ModelReplicas, ModelEndpoints and pods, beside the managed ones.
    yield from _label_errors(spec.replica_labels, join_path(path, "replicaLabels"), reserved=True)


# --- engine and member shape ------------------------------------------------------

_SHAPE_CEL = (
    "(self.members.size() == 1 && self.members[0].role == 'Standalone') || "
    "(self.members.exists_one(m, m.role == 'Leader') && self.members.exists(m, m.role == 'Worker')"
    " && !self.members.exists(m, m.role == 'Standalone'))"
)


def _valid_shape(members: tuple[EngineMember, ...] | tuple[ReplicaMember, ...]) -> bool:
    roles = [m.role for m in members]
    if roles == ["Standalone"]:
        return True
    return roles.count("Leader") == 1 and "Worker" in roles and "Standalone" not in roles


rule(
    Engine,
    message="an engine must be either a single Standalone member or one Leader and one Worker",
    cel=_SHAPE_CEL,
    field="members",
)(lambda e: _valid_shape(e.members))
rule(
    ReplicaEngine,
    message="an engine must be either a single Standalone member or one Leader and one Worker",
    cel=_SHAPE_CEL,
    field="members",
)(lambda e: _valid_shape(e.members))


@rule(
    Engine,
    message="at least one member of an engine must carry a nodeSelector requesting devices",
    cel="self.members.exists(m, has(m.nodeSelector))",
    field="members",
)
def _engine_requests_devices(engine: Engine) -> bool:
    return any(m.node_selector is not None for m in engine.members)


@rule(
    ReplicaEngine,
    message="at least one member of an engine must carry deviceRequests",
    cel="self.members.exists(m, has(m.deviceRequests))",
    field="members",
)
def _replica_engine_claims(engine: ReplicaEngine) -> bool:
    return any(m.device_requests for m in engine.members)


rule(
    EngineMember,
    message="worker may only be set on a Worker member",
    cel="!has(self.worker) || self.role == 'Worker'",
    field="worker",
)(lambda m: m.worker is None or m.role == "Worker")
rule(
    ReplicaMember,
    message="worker may only be set on a Worker member",
    cel="!has(self.worker) || self.role == 'Worker'",
    field="worker",
)(lambda m: m.worker is None or m.role == "Worker")


@rule(
    DeviceSelector,
    message="a selector must set cel (an empty selector would match any device)",
    cel="has(self.cel)",
)
def _selector_has_cel(selector: DeviceSelector) -> bool:
    return selector.cel is not None


# --- pod template -----------------------------------------------------------------


@rule(
    PodSpec,
    message=f"the single container must be named '{ENGINE_CONTAINER}'",
    cel=f"self.containers.exists_one(c, c.name == '{ENGINE_CONTAINER}')",
    field="containers",
)
def _engine_container(spec: PodSpec) -> bool:
    return sum(1 for c in spec.containers if c.name == ENGINE_CONTAINER) == 1


@rule(
    EnvVar,
    message="set either value or valueFrom, not both",
    cel="!has(self.value) || !has(self.valueFrom)",
)
def _env_value_xor(env: EnvVar) -> bool:
    return env.value is None or env.value_from is None


@rule(
    EnvVarSource,
    message="valueFrom must set exactly one of secretKeyRef, configMapKeyRef, fieldRef",
    cel=(
        "[has(self.secretKeyRef), has(self.configMapKeyRef), has(self.fieldRef)]"
        ".filter(x, x).size() == 1"
    ),
)
def _env_source_one(source: EnvVarSource) -> bool:
    return len(source.set_fields()) == 1


@check(PodTemplateMetadata)
def _pod_metadata(meta: PodTemplateMetadata, path: str) -> Iterator[FieldError]:
    yield from _label_errors(meta.labels, join_path(path, "labels"), reserved=True)
    yield from _annotation_errors(meta.annotations, join_path(path, "annotations"))


# --- selectors, taints, tolerations -------------------------------------------------


@check(LabelSelector)
def _selector_labels(selector: LabelSelector, path: str) -> Iterator[FieldError]:
    yield from _label_errors(selector.match_labels, join_path(path, "matchLabels"), reserved=False)


@rule(
    EndpointSelector,
    message=(
        "selector.matchLabels must name at least one label; an empty selector would "
        "route to every endpoint in the namespace"
    ),
    cel="has(self.selector.matchLabels) && size(self.selector.matchLabels) > 0",
    field="selector.matchLabels",
)
def _endpoint_selector_nonempty(entry: EndpointSelector) -> bool:
    return bool(entry.selector.match_labels)


rule(
    Toleration,
    message="an Equal toleration must set a key",
    cel="self.operator != 'Equal' || (has(self.key) && self.key != '')",
    field="key",
)(lambda t: t.operator != "Equal" or bool(t.key))
rule(
    Toleration,
    message="an Exists toleration must not set a value",
    cel="self.operator != 'Exists' || !has(self.value) || self.value == ''",
    field="value",
)(lambda t: t.operator != "Exists" or not t.value)


@check(Taint)
def _taint_syntax(taint: Taint, path: str) -> Iterator[FieldError]:
    problem = qualified_name_problem(taint.key)
    if problem:
        yield FieldError(join_path(path, "key"), f"invalid taint key {shown(taint.key)}: {problem}")
    if taint.value is not None and (problem := label_value_problem(taint.value)):
        yield FieldError(
            join_path(path, "value"), f"invalid taint value {shown(taint.value)}: {problem}"
        )


# --- devices ----------------------------------------------------------------------


@rule(
    DeviceAttribute,
    message="exactly one of string, version, bool, int must be set",
    cel=(
        "[has(self.string), has(self.version), has(self.bool), has(self.int)]"
        ".filter(x, x).size() == 1"
    ),
)
def _one_attribute_value(attribute: DeviceAttribute) -> bool:
    return len(attribute.set_fields()) == 1


@rule(
    Device,
    message="deviceClassName is required when claim is DRA",
    cel="self.claim != 'DRA' || has(self.deviceClassName)",
    field="deviceClassName",
)
def _dra_needs_class(device: Device) -> bool:
    return device.claim != "DRA" or device.device_class_name is not None


@check(Device)
def _device_names(device: Device, path: str) -> Iterator[FieldError]:
    # Kubernetes allows at most 32 attributes and capacities per device in total,
    # which also bounds the cost of every selector evaluated against it.
    total = len(device.attributes or {}) + len(device.capacity or {})
    if total > 32:
        yield FieldError(
            path,
            f"a device may publish at most 32 attributes and capacities in total (got {total})",
        )
    for section, entries in (("attributes", device.attributes), ("capacity", device.capacity)):
        for name in entries or {}:
            problem = _qualified_device_name_problem(name, section)
            if problem:
                yield FieldError(key_path(join_path(path, section), name), problem)


def _qualified_device_name_problem(name: str, section: str) -> str | None:
    domain, sep, ident = name.partition("/")
    if not sep:
        domain, ident = "", name
    if sep and (problem := dns_subdomain_problem(domain)):
        return f"invalid domain {shown(domain)}: {problem}"
    if (
        not ident
        or len(ident) > 32
        or not (ident[0].isalpha() or ident[0] == "_")
        or not all(ch.isalnum() or ch == "_" for ch in ident)
        or not ident.isascii()
    ):
        return (
            f"invalid name {shown(ident)}: use at most 32 letters, digits and '_', starting with a "
            "letter or '_' (no '-' or '.'), so a selector can read it as "
            f'device.{section}["<driver>"].<name>'
        )
    return None


# --- platform kinds ---------------------------------------------------------------


def _block_required(
    cls: type[Provisioning] | type[ClusterSourceSpec],
    discriminator: str,
    path: str,
    value: str,
    block: str,
) -> None:
    """Register "``block`` is required when ``discriminator`` is ``value``" on ``cls``."""

    def predicate(obj: object) -> bool:
        return getattr(obj, discriminator) != value or getattr(obj, block) is not None

    rule(
        cls,
        message=f"{path}.{block} is required when {path}.{discriminator} is {value}.",
        cel=f"self.{discriminator} != '{value}' || has(self.{block})",
        field=block,
    )(predicate)


for _provider, _block in (
    ("GKE", "gke"),
    ("EKS", "eks"),
    ("AKS", "aks"),
    ("Nebius", "nebius"),
    ("Vultr", "vultr"),
):
    _block_required(Provisioning, "provider", "spec.provisioning", _provider, _block)
for _source, _block in (
    ("Existing", "existing"),
    ("GKE", "gke"),
    ("EKS", "eks"),
    ("AKS", "aks"),
    ("Nebius", "nebius"),
    ("Vultr", "vultr"),
):
    _block_required(ClusterSourceSpec, "source", "spec.cluster", _source, _block)

rule(
    InferenceClusterSpec,
    message=(
        "fabric.infiniband is required when fabric.type is InfiniBand and cluster.source is Nebius."
    ),
    cel=(
        "self.cluster.source != 'Nebius' || !has(self.nodePools) || self.nodePools.all(p, "
        "!has(p.fabric) || p.fabric.type != 'InfiniBand' || has(p.fabric.infiniband))"
    ),
)(
    lambda s: (
        s.cluster.source != "Nebius"
        or all(
            p.fabric is None or p.fabric.type != "InfiniBand" or p.fabric.infiniband is not None
            for p in s.node_pools or ()
        )
    )
)
rule(
    Fabric,
    message="fabric.infiniband is only valid when fabric.type is InfiniBand.",
    cel="!has(self.infiniband) || self.type == 'InfiniBand'",
    field="infiniband",
)(lambda f: f.infiniband is None or f.type == "InfiniBand")
rule(
    NebiusFabric,
    message="fabric.infiniband is required when fabric.type is InfiniBand.",
    cel="self.type != 'InfiniBand' || has(self.infiniband)",
    field="infiniband",
)(lambda f: f.type != "InfiniBand" or f.infiniband is not None)
rule(
    NebiusFabric,
    message="fabric.infiniband is only valid when fabric.type is InfiniBand.",
    cel="!has(self.infiniband) || self.type == 'InfiniBand'",
    field="infiniband",
)(lambda f: f.infiniband is None or f.type == "InfiniBand")


@rule(
    NodePool,
    message="minNodeCount must not exceed maxNodeCount",
    cel=(
        "!has(self.minNodeCount) || !has(self.maxNodeCount) || "
        "self.minNodeCount <= self.maxNodeCount"
    ),
    field="minNodeCount",
)
def _pool_bounds(pool: NodePool) -> bool:
    if pool.min_node_count is None or pool.max_node_count is None:
        return True
    return pool.min_node_count <= pool.max_node_count


@check(InferenceClusterSpec)
def _cluster_features_match_source(spec: InferenceClusterSpec, path: str) -> Iterator[FieldError]:
    source = spec.cluster.source
    for index, pool in enumerate(spec.node_pools or ()):
        pool_path = f"{join_path(path, 'nodePools')}[{index}]"
        fabric = pool.fabric.type if pool.fabric else "None"
        if fabric == "EFA" and source != "EKS":
            yield FieldError(
                join_path(pool_path, "fabric.type"),
                f"EFA is only available on EKS clusters, not {source}",
            )
        if fabric == "InfiniBand" and source not in ("Nebius", "AKS"):
            yield FieldError(
                join_path(pool_path, "fabric.type"),
                f"InfiniBand is only available on Nebius and AKS clusters, not {source}",
            )
        if pool.capacity_block is not None and source != "EKS":
            yield FieldError(
                join_path(pool_path, "capacityBlock"),
                f"capacity blocks are an EKS feature, not available on {source}",
            )


rule(
    InferenceGatewaySpec,
    message="spec.traefik is required when spec.backend is Traefik.",
    cel="self.backend != 'Traefik' || has(self.traefik)",
    field="traefik",
)(lambda s: s.backend != "Traefik" or s.traefik is not None)
rule(
    TraefikSettings,
    message="spec.traefik.metallb is required when spec.traefik.loadBalancer is MetalLB.",
    cel="!has(self.loadBalancer) || self.loadBalancer != 'MetalLB' || has(self.metallb)",
    field="metallb",
)(lambda t: t.load_balancer != "MetalLB" or t.metallb is not None)

rule(
    ModelCacheSpec,
    message="spec.huggingFace is required when spec.source is HuggingFace.",
    cel="self.source != 'HuggingFace' || has(self.huggingFace)",
    field="huggingFace",
)(lambda s: s.source != "HuggingFace" or s.hugging_face is not None)


@check(ModelEndpointSpec)
def _endpoint_url(spec: ModelEndpointSpec, path: str) -> Iterator[FieldError]:
    problem = url_problem(spec.url)
    if problem:
        yield FieldError(join_path(path, "url"), problem)
    if spec.rewrite_path is not None and not spec.rewrite_path.startswith("/"):
        yield FieldError(
            join_path(path, "rewritePath"), "must be an absolute path starting with '/'"
        )


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be routed to, or None; shared with the ModelEndpoint composer."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return f"invalid URL {shown(url)}: {exc}"
    if parts.scheme.lower() not in ("http", "https"):
        return f"invalid URL {shown(url)}: it must start with http:// or https://"
    if not parts.hostname:
        return f"invalid URL {shown(url)}: a host is required, e.g. https://api.example.com/"
    if port == 0:
        return f"invalid URL {shown(url)}: port 0 is not a valid port"
    return None


rule(
    ServingStackSpec,
    message="spec.secrets must include a Kubeconfig entry.",
    cel="self.secrets.exists(s, s.type == 'Kubeconfig')",
    field="secrets",
)(lambda s: any(x.type == "Kubeconfig" for x in s.secrets))


CloudNodePool = GKENodePool | EKSNodePool | AKSNodePool | NebiusNodePool | VultrNodePool
CloudCluster = GKECluster | EKSCluster | AKSCluster | NebiusCluster | VultrCluster


def _gpu_pool_rules(cls: type[CloudNodePool], *, zones: bool) -> None:
    def has_gpu(pool: CloudNodePool) -> bool:
        return pool.role != "GPU" or pool.gpu is not None

    def has_zones(pool: CloudNodePool) -> bool:
        return pool.role != "GPU" or getattr(pool, "zones", None) is not None

    rule(
        cls,
        message="gpu is required when role is GPU.",
        cel="self.role != 'GPU' || has(self.gpu)",
        field="gpu",
    )(has_gpu)
    if zones:
        rule(
            cls,
            message="zones is required when role is GPU.",
            cel="self.role != 'GPU' || has(self.zones)",
            field="zones",
        )(has_zones)


_gpu_pool_rules(GKENodePool, zones=True)
_gpu_pool_rules(EKSNodePool, zones=True)
_gpu_pool_rules(AKSNodePool, zones=False)
_gpu_pool_rules(NebiusNodePool, zones=False)
_gpu_pool_rules(VultrNodePool, zones=False)


def _max_with_min(pool: NebiusNodePool | VultrNodePool) -> bool:
    return pool.min_node_count is None or pool.max_node_count is not None


_MAX_WITH_MIN = "maxNodeCount is required when minNodeCount is set."
_MAX_WITH_MIN_CEL = "!has(self.minNodeCount) || has(self.maxNodeCount)"
rule(NebiusNodePool, message=_MAX_WITH_MIN, cel=_MAX_WITH_MIN_CEL, field="maxNodeCount")(
    _max_with_min
)
rule(VultrNodePool, message=_MAX_WITH_MIN, cel=_MAX_WITH_MIN_CEL, field="maxNodeCount")(
    _max_with_min
)


def _published_secrets(
    cls: type[CloudCluster],
    types: tuple[str, ...],
    *,
    namespaced: bool,
) -> None:
    """What a cloud cluster kind may publish in status.secrets.

    The kinds share one status type, but each cloud hands out different
    credentials: a GKE cluster a Google service account key, an EKS, AKS or VKE
    cluster only its kubeconfig (which carries usable credentials), a Nebius
    cluster a Nebius service account key that may live in another namespace.
    """
    kind = cls.kind_info.kind
    article = "an" if kind[0] in "AEIOU" else "a"

    def checker(obj: CloudCluster, path: str) -> Iterator[FieldError]:
        status: CloudClusterStatus | None = obj.status
        for index, secret in enumerate(status.secrets or () if status else ()):
            where = f"{join_path(path, 'status.secrets')}[{index}]"
            if secret.type not in types:
                yield FieldError(
                    join_path(where, "type"),
                    f"unsupported value {shown(secret.type)}: {article} {kind} publishes only "
                    f"{', '.join(types)}",
                )
            if secret.namespace is not None and not namespaced:
                yield FieldError(
                    join_path(where, "namespace"),
                    f"{article} {kind} publishes its secrets in its own namespace; "
                    "remove namespace",
                )

    check(cls)(checker)


_published_secrets(GKECluster, ("Kubeconfig", "GoogleApplicationCredentials"), namespaced=False)
_published_secrets(EKSCluster, ("Kubeconfig",), namespaced=False)
_published_secrets(AKSCluster, ("Kubeconfig",), namespaced=False)
_published_secrets(VultrCluster, ("Kubeconfig",), namespaced=False)
_published_secrets(
    NebiusCluster, ("Kubeconfig", "NebiusServiceAccountCredentials"), namespaced=True
)


# --- object metadata ----------------------------------------------------------------


def metadata_errors(obj: HasKindInfo, meta: ObjectMeta) -> Iterator[FieldError]:
    """Name, namespace, label and annotation problems of a top-level object."""
    info = type(obj).kind_info
    if not meta.name:
        yield FieldError("metadata.name", "required field is missing")
    else:
        # ModelDeployment and InferenceCluster names become label values on the
        # replicas and endpoints they own, so they must fit a label value too.
        label_bound = info.kind in ("ModelDeployment", "InferenceCluster")
        problem = dns_label_problem(meta.name) if label_bound else dns_subdomain_problem(meta.name)
        if problem:
            why = " (it becomes a label value on composed objects)" if label_bound else ""
            yield FieldError("metadata.name", f"invalid name {shown(meta.name)}: {problem}{why}")
    if (
        meta.namespace is not None
        and info.namespaced
        and (problem := dns_label_problem(meta.namespace))
    ):
        yield FieldError(
            "metadata.namespace", f"invalid namespace {shown(meta.namespace)}: {problem}"
        )
    yield from _label_errors(meta.labels, "metadata.labels", reserved=False)
    yield from _annotation_errors(meta.annotations, "metadata.annotations")
    if isinstance(obj, InferenceGateway) and meta.name and meta.name != GATEWAY_SINGLETON_NAME:
        yield FieldError(
            "metadata.name",
            f"the InferenceGateway is a singleton and must be named {GATEWAY_SINGLETON_NAME!r}",
        )


def _label_errors(
    labels: Mapping[str, str] | None, path: str, *, reserved: bool
) -> Iterable[FieldError]:
    for key, value in (labels or {}).items():
        if reserved and key.startswith(RESERVED_LABEL_PREFIX):
            yield FieldError(
                key_path(path, key),
                f"label keys must not use the reserved {RESERVED_LABEL_PREFIX} prefix",
            )
        elif problem := qualified_name_problem(key):
            yield FieldError(key_path(path, key), f"invalid label key: {problem}")
        if problem := label_value_problem(value):
            yield FieldError(key_path(path, key), f"invalid label value {shown(value)}: {problem}")


# Kubernetes bounds annotations as a whole, not per value: an applied object's
# last-applied-configuration annotation alone is often tens of kilobytes.
ANNOTATIONS_MAX_BYTES = 256 * 1024


def _annotation_errors(annotations: Mapping[str, str] | None, path: str) -> Iterable[FieldError]:
    for key in annotations or {}:
        # Annotation keys are qualified names where case does not matter (as in Kubernetes).
        if problem := qualified_name_problem(key.lower()):
            yield FieldError(key_path(path, key), f"invalid annotation key: {problem}")
    total = sum(len(k.encode()) + len(v.encode()) for k, v in (annotations or {}).items())
    if total > ANNOTATIONS_MAX_BYTES:
        yield FieldError(
            path,
            f"annotations may hold at most {ANNOTATIONS_MAX_BYTES} bytes of keys and values "
            f"in total (got {total})",
        )
