"""Semantic validation: bounds, patterns and every cross-field rule, with exact paths."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from modelplane_core import api

CEL = 'device.capacity["gpu.nvidia.com"].memory.compareTo(quantity("20Gi")) >= 0'


def container(name: str = "engine") -> dict[str, Any]:
    return {"spec": {"containers": [{"name": name, "image": "vllm/vllm-openai:v0.23.0"}]}}


def standalone() -> dict[str, Any]:
    return {
        "role": "Standalone",
        "nodeSelector": {"devices": [{"name": "gpu", "count": 1, "selectors": [{"cel": CEL}]}]},
        "template": container(),
    }


def deployment() -> dict[str, Any]:
    return {
        "apiVersion": "modelplane.ai/v1alpha1",
        "kind": "ModelDeployment",
        "metadata": {"name": "qwen", "namespace": "ml-team"},
        "spec": {"replicas": 1, "engines": [{"name": "qwen", "members": [standalone()]}]},
    }


def cluster() -> dict[str, Any]:
    return {
        "apiVersion": "modelplane.ai/v1alpha1",
        "kind": "InferenceCluster",
        "metadata": {"name": "byo-us-east"},
        "spec": {
            "cluster": {"source": "Existing", "existing": {"secretRef": {"name": "kubeconfig"}}},
            "nodePools": [{"name": "gpu-h100", "className": "h100", "nodeCount": 2}],
        },
    }


def inference_class() -> dict[str, Any]:
    return {
        "apiVersion": "modelplane.ai/v1alpha1",
        "kind": "InferenceClass",
        "metadata": {"name": "h100"},
        "spec": {
            "devices": [
                {
                    "name": "gpu",
                    "driver": "gpu.nvidia.com",
                    "deviceClassName": "gpu.nvidia.com",
                    "count": 8,
                    "attributes": {"architecture": {"string": "Hopper"}},
                    "capacity": {"memory": {"value": "81559Mi"}},
                }
            ]
        },
    }


def problems(manifest: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e.path, e.message) for e in api.validate(api.from_dict(manifest))]


Mutation = Callable[[dict[str, Any]], None]


def engine0(m: dict[str, Any]) -> dict[str, Any]:
    engine: dict[str, Any] = m["spec"]["engines"][0]
    return engine


def make_gang(m: dict[str, Any]) -> None:
    leader = standalone() | {"role": "Leader"}
    worker = standalone() | {"role": "Worker", "worker": {"nodes": 2}}
    engine0(m)["members"] = [leader, worker]


def prefill_decode(phases: list[str | None], engines: int = 2) -> Mutation:
    def mutate(m: dict[str, Any]) -> None:
        m["spec"]["serving"] = {"mode": "PrefillDecode"}
        m["spec"]["engines"] = [
            {"name": f"e{i}", "members": [standalone()]} | ({"phase": p} if p else {})
            for i, p in zip(range(engines), phases + [None] * engines, strict=False)
        ]

    return mutate


DEPLOYMENT_CASES: list[tuple[str, Mutation, list[tuple[str, str]]]] = [
    ("valid", lambda m: None, []),
    (
        "replicas out of range",
        lambda m: m["spec"].update(replicas=11),
        [("spec.replicas", "must be at most 10 (got 11)")],
    ),
    (
        "engine name not a DNS label",
        lambda m: engine0(m).update(name="Qwen_3"),
        [
            (
                "spec.engines[0].name",
                "invalid value 'Qwen_3': must be a DNS label: lowercase letters, digits and '-', "
                "starting and ending with a letter or digit",
            )
        ],
    ),
    (
        "duplicate engine names",
        lambda m: m["spec"]["engines"].append(copy.deepcopy(engine0(m))),
        [
            (
                "spec.engines[1]",
                "duplicate entry (name='qwen'); the same entry is also at index 0",
            )
        ],
    ),
    (
        "copies zero",
        lambda m: engine0(m).update(copies=0),
        [("spec.engines[0].copies", "must be at least 1 (got 0)")],
    ),
    (
        "container not named engine",
        lambda m: engine0(m)["members"][0].update(template=container("vllm")),
        [
            (
                "spec.engines[0].members[0].template.spec.containers",
                "the single container must be named 'engine'",
            )
        ],
    ),
    (
        "worker block on a Standalone member",
        lambda m: engine0(m)["members"][0].update(worker={"nodes": 1}),
        [("spec.engines[0].members[0].worker", "worker may only be set on a Worker member")],
    ),
    (
        "two Standalone members",
        lambda m: engine0(m)["members"].append(standalone()),
        [
            (
                "spec.engines[0].members",
                "an engine must be either a single Standalone member or one Leader and one Worker",
            )
        ],
    ),
    (
        "no member requests devices",
        lambda m: engine0(m)["members"][0].pop("nodeSelector"),
        [
            (
                "spec.engines[0].members",
                "at least one member of an engine must carry a nodeSelector requesting devices",
            )
        ],
    ),
    (
        "gang without a cache",
        make_gang,
        [
            (
                "spec.modelCacheRef",
                "a gang engine (a Leader with Workers) spans several nodes and requires "
                "spec.modelCacheRef, so every pod of the gang mounts the same weights",
            )
        ],
    ),
    (
        "gang with a cache",
        lambda m: (make_gang(m), m["spec"].update(modelCacheRef={"name": "weights"})),
        [],
    ),
    (
        "claimless coordinator leader",
        lambda m: (
            make_gang(m),
            engine0(m)["members"][0].pop("nodeSelector"),
            m["spec"].update(modelCacheRef={"name": "weights"}),
        ),
        [],
    ),
    (
        "phase under Unified",
        lambda m: engine0(m).update(phase="Prefill"),
        [("spec", "engine phase may only be set when serving.mode is PrefillDecode")],
    ),
    ("PrefillDecode pair", prefill_decode(["Prefill", "Decode"]), []),
    (
        "PrefillDecode with two Prefill engines",
        prefill_decode(["Prefill", "Prefill"]),
        [
            ("spec", "PrefillDecode serving requires exactly one engine with phase Prefill"),
            ("spec", "PrefillDecode serving requires exactly one engine with phase Decode"),
        ],
    ),
    (
        "PrefillDecode with three engines",
        prefill_decode(["Prefill", "Decode", "Decode"], engines=3),
        [
            (
                "spec",
                "PrefillDecode serving requires exactly two engines (one Prefill, one Decode)",
            ),
            ("spec", "PrefillDecode serving requires exactly one engine with phase Decode"),
        ],
    ),
    (
        "Equal toleration without a key",
        lambda m: m["spec"].update(tolerations=[{"operator": "Equal", "value": "on"}]),
        [("spec.tolerations[0].key", "an Equal toleration must set a key")],
    ),
    (
        "Exists toleration with a value",
        lambda m: m["spec"].update(tolerations=[{"operator": "Exists", "key": "k", "value": "v"}]),
        [("spec.tolerations[0].value", "an Exists toleration must not set a value")],
    ),
    (
        "reserved pod label prefix",
        lambda m: engine0(m)["members"][0]["template"].update(
            metadata={"labels": {"modelplane.ai/serving": "x"}}
        ),
        [
            (
                "spec.engines[0].members[0].template.metadata.labels[modelplane.ai/serving]",
                "label keys must not use the reserved modelplane.ai/ prefix",
            )
        ],
    ),
    (
        "invalid selector label value",
        lambda m: m["spec"].update(clusterSelector={"matchLabels": {"region": "us east"}}),
        [
            (
                "spec.clusterSelector.matchLabels[region]",
                "invalid label value 'us east': a label value must consist of letters, digits, "
                "'-', '_' or '.', and start and end with a letter or digit",
            )
        ],
    ),
    (
        "env with value and valueFrom",
        lambda m: engine0(m)["members"][0]["template"]["spec"]["containers"][0].update(
            env=[
                {
                    "name": "A",
                    "value": "1",
                    "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}},
                }
            ]
        ),
        [
            (
                "spec.engines[0].members[0].template.spec.containers[0].env[0]",
                "set either value or valueFrom, not both",
            )
        ],
    ),
    (
        "deployment name too long for a label value",
        lambda m: m["metadata"].update(name="x" * 64),
        [
            (
                "metadata.name",
                f"invalid name '{'x' * 64}': must be at most 63 characters "
                "(it becomes a label value on composed objects)",
            )
        ],
    ),
]


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [pytest.param(m, e, id=name) for name, m, e in DEPLOYMENT_CASES],
)
def test_model_deployment_rules(mutate: Mutation, expected: list[tuple[str, str]]) -> None:
    manifest = deployment()
    mutate(manifest)
    assert problems(manifest) == expected


CLUSTER_CASES: list[tuple[str, Mutation, list[tuple[str, str]]]] = [
    ("valid", lambda m: None, []),
    (
        "source block missing",
        lambda m: m["spec"]["cluster"].update(source="GKE"),
        [("spec.cluster.gke", "spec.cluster.gke is required when spec.cluster.source is GKE.")],
    ),
    (
        "pool name not a DNS label",
        lambda m: m["spec"]["nodePools"][0].update(name="GPU_H100"),
        [
            (
                "spec.nodePools[0].name",
                "invalid value 'GPU_H100': must be a DNS label: lowercase letters, digits and '-', "
                "starting and ending with a letter or digit",
            )
        ],
    ),
    (
        "negative node count",
        lambda m: m["spec"]["nodePools"][0].update(nodeCount=-1),
        [("spec.nodePools[0].nodeCount", "must be at least 0 (got -1)")],
    ),
    (
        "min above max",
        lambda m: m["spec"]["nodePools"][0].update(minNodeCount=5, maxNodeCount=2),
        [("spec.nodePools[0].minNodeCount", "minNodeCount must not exceed maxNodeCount")],
    ),
    (
        "EFA on an existing cluster",
        lambda m: m["spec"]["nodePools"][0].update(fabric={"type": "EFA"}),
        [("spec.nodePools[0].fabric.type", "EFA is only available on EKS clusters, not Existing")],
    ),
    (
        "InfiniBand without its block",
        lambda m: (
            m["spec"]["cluster"].update(source="Nebius", nebius={}),
            m["spec"]["nodePools"][0].update(fabric={"type": "InfiniBand"}),
        ),
        [
            (
                "spec",
                "fabric.infiniband is required when fabric.type is InfiniBand and "
                "cluster.source is Nebius.",
            )
        ],
    ),
    (
        "InfiniBand on AKS needs no fabric id",
        lambda m: (
            m["spec"]["cluster"].update(source="AKS", aks={"location": "westeurope"}),
            m["spec"]["nodePools"][0].update(fabric={"type": "InfiniBand"}),
        ),
        [],
    ),
    (
        "InfiniBand elsewhere",
        lambda m: m["spec"]["nodePools"][0].update(fabric={"type": "InfiniBand"}),
        [
            (
                "spec.nodePools[0].fabric.type",
                "InfiniBand is only available on Nebius and AKS clusters, not Existing",
            )
        ],
    ),
    (
        "duplicate taints",
        lambda m: m["spec"].update(
            taints=[
                {"key": "maint", "effect": "NoSchedule"},
                {"key": "maint", "effect": "NoSchedule"},
            ]
        ),
        [
            (
                "spec.taints[1]",
                "duplicate entry (key='maint', effect='NoSchedule'); "
                "the same entry is also at index 0",
            )
        ],
    ),
    (
        "node count beyond int64",
        lambda m: m["spec"]["nodePools"][0].update(nodeCount=2**63),
        [
            (
                "spec.nodePools[0].nodeCount",
                "must fit in a signed 64-bit integer (got 9223372036854775808)",
            )
        ],
    ),
    (
        "cluster name too long for a label value",
        lambda m: m["metadata"].update(name="c" * 64),
        [
            (
                "metadata.name",
                f"invalid name '{'c' * 64}': must be at most 63 characters "
                "(it becomes a label value on composed objects)",
            )
        ],
    ),
]


@pytest.mark.parametrize(
    ("mutate", "expected"), [pytest.param(m, e, id=name) for name, m, e in CLUSTER_CASES]
)
def test_inference_cluster_rules(mutate: Mutation, expected: list[tuple[str, str]]) -> None:
    manifest = cluster()
    mutate(manifest)
    assert problems(manifest) == expected


CLASS_CASES: list[tuple[str, Mutation, list[tuple[str, str]]]] = [
    ("valid", lambda m: None, []),
    (
        "DRA device without a device class",
        lambda m: m["spec"]["devices"][0].pop("deviceClassName"),
        [("spec.devices[0].deviceClassName", "deviceClassName is required when claim is DRA")],
    ),
    (
        "synthetic device without a device class",
        lambda m: (
            m["spec"]["devices"][0].pop("deviceClassName"),
            m["spec"]["devices"][0].update(claim="Synthetic"),
        ),
        [],
    ),
    (
        "attribute with two values",
        lambda m: m["spec"]["devices"][0]["attributes"].update(x={"string": "a", "int": 1}),
        [
            (
                "spec.devices[0].attributes[x]",
                "exactly one of string, version, bool, int must be set",
            )
        ],
    ),
    (
        "attribute name not an identifier",
        lambda m: m["spec"]["devices"][0]["attributes"].update({"compute-cap": {"int": 9}}),
        [
            (
                "spec.devices[0].attributes[compute-cap]",
                "invalid name 'compute-cap': use at most 32 letters, digits and '_', "
                "starting with a letter or '_' (no '-' or '.'), so a selector can read it as "
                'device.attributes["<driver>"].<name>',
            )
        ],
    ),
    (
        "qualified attribute name",
        lambda m: m["spec"]["devices"][0]["attributes"].update(
            {"resource.kubernetes.io/pcieRoot": {"string": "pci0"}}
        ),
        [],
    ),
    (
        "provider block missing",
        lambda m: m["spec"].update(provisioning={"provider": "EKS"}),
        [
            (
                "spec.provisioning.eks",
                "spec.provisioning.eks is required when spec.provisioning.provider is EKS.",
            )
        ],
    ),
    (
        "device count above 64",
        lambda m: m["spec"]["devices"][0].update(count=65),
        [("spec.devices[0].count", "must be at most 64 (got 65)")],
    ),
]


@pytest.mark.parametrize(
    ("mutate", "expected"), [pytest.param(m, e, id=name) for name, m, e in CLASS_CASES]
)
def test_inference_class_rules(mutate: Mutation, expected: list[tuple[str, str]]) -> None:
    manifest = inference_class()
    mutate(manifest)
    assert problems(manifest) == expected


def test_service_endpoint_and_gateway_rules() -> None:
    service = {
        "apiVersion": "modelplane.ai/v1alpha1",
        "kind": "ModelService",
        "metadata": {"name": "qwen", "namespace": "ml-team"},
        "spec": {"endpoints": [{"selector": {}, "weight": 0}]},
    }
    assert problems(service) == [
        ("spec.endpoints[0].weight", "must be at least 1 (got 0)"),
        (
            "spec.endpoints[0].selector.matchLabels",
            "selector.matchLabels must name at least one label; an empty selector would route "
            "to every endpoint in the namespace",
        ),
    ]
    endpoint = {
        "apiVersion": "modelplane.ai/v1alpha1",
        "kind": "ModelEndpoint",
        "metadata": {"name": "e", "namespace": "ml-team"},
        "spec": {"url": "api.together.xyz/v1", "rewritePath": "v1/"},
    }
    assert problems(endpoint) == [
        ("spec.url", "invalid URL 'api.together.xyz/v1': it must start with http:// or https://"),
        ("spec.rewritePath", "must be an absolute path starting with '/'"),
    ]
    gateway = {
        "apiVersion": "modelplane.ai/v1alpha1",
        "kind": "InferenceGateway",
        "metadata": {"name": "front"},
        "spec": {"backend": "Traefik", "traefik": {"version": "40.2.0", "loadBalancer": "MetalLB"}},
    }
    assert problems(gateway) == [
        ("metadata.name", "the InferenceGateway is a singleton and must be named 'default'"),
        (
            "spec.traefik.metallb",
            "spec.traefik.metallb is required when spec.traefik.loadBalancer is MetalLB.",
        ),
    ]


def test_validation_never_raises_on_objects_built_in_code() -> None:
    # Objects constructed in Python skip the codec; odd values must still be reported.
    spec = api.ModelDeploymentSpec(replicas=-3, engines=())
    obj = api.ModelDeployment(metadata=api.ObjectMeta(), spec=spec)
    assert [e.path for e in api.validate(obj)] == ["metadata.name", "spec.replicas", "spec.engines"]


def test_annotations_are_bounded_in_total_like_kubernetes() -> None:
    manifest = deployment()
    # A large last-applied-configuration is normal on an object read back from a cluster.
    manifest["metadata"]["annotations"] = {
        "kubectl.kubernetes.io/last-applied-configuration": "x" * 100_000,
        "Example.COM/Owner": "ml-team",  # case does not matter in annotation keys
    }
    assert problems(manifest) == []
    manifest["metadata"]["annotations"] = {"a": "x" * 200_000, "b": "y" * 62_143}
    assert problems(manifest) == [
        (
            "metadata.annotations",
            "annotations may hold at most 262144 bytes of keys and values in total (got 262145)",
        )
    ]
    manifest["metadata"]["annotations"] = {"bad key": "x"}
    [(path, message)] = problems(manifest)
    assert path == "metadata.annotations[bad key]"
    assert message.startswith("invalid annotation key: ")


@pytest.mark.parametrize(
    ("kind", "secret", "expected"),
    [
        ("GKECluster", {"type": "GoogleApplicationCredentials"}, []),
        (
            "EKSCluster",
            {"type": "GoogleApplicationCredentials"},
            [
                (
                    "status.secrets[1].type",
                    "unsupported value 'GoogleApplicationCredentials': an EKSCluster publishes "
                    "only Kubeconfig",
                )
            ],
        ),
        ("NebiusCluster", {"type": "NebiusServiceAccountCredentials", "namespace": "infra"}, []),
        (
            "GKECluster",
            {"type": "GoogleApplicationCredentials", "namespace": "infra"},
            [
                (
                    "status.secrets[1].namespace",
                    "a GKECluster publishes its secrets in its own namespace; remove namespace",
                )
            ],
        ),
    ],
)
def test_cloud_clusters_publish_only_their_own_secrets(
    kind: str, secret: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    pools = {
        "GKECluster": {"name": "system", "role": "System", "machineType": "e2-standard-4"},
        "EKSCluster": {"name": "system", "role": "System", "instanceType": "m6i.large"},
        "NebiusCluster": {"name": "system", "role": "System", "platform": "cpu-d3", "preset": "4"},
    }
    spec: dict[str, Any] = {"nodePools": [pools[kind]]}
    if kind != "NebiusCluster":
        spec["region"] = "us-west1"
    if kind == "GKECluster":
        spec["project"] = "my-project"
    manifest = {
        "apiVersion": "infrastructure.modelplane.ai/v1alpha1",
        "kind": kind,
        "metadata": {"name": "c", "namespace": "infra"},
        "spec": spec,
        "status": {
            "secrets": [
                {"type": "Kubeconfig", "name": "kc", "key": "kubeconfig"},
                {"name": "creds", "key": "key"} | secret,
            ]
        },
    }
    assert problems(manifest) == expected
