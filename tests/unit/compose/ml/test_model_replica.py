"""ModelReplica composition: workloads, claims, placement, routing, readiness, waiting states."""

from __future__ import annotations

import pytest

from modelplane_core import api
from modelplane_core.api.meta import LABEL_POOL
from modelplane_core.compose import model_replica
from modelplane_core.compose.composition import DesiredResource, Observed
from modelplane_core.compose.topology import MODEL_MOUNT_PATH, WORKLOAD_NAMESPACE
from modelplane_core.compose.workloads.cache_storage import cache_pvc_name
from modelplane_core.compose.workloads.labels import LABEL_LLMD_ROLE, LABEL_SERVING
from modelplane_core.compose.workloads.pod_template import LEADER_ADDRESS_ENV, RANK_ENV
from tests.unit.compose.ml.fixtures import (
    cluster,
    container,
    engine,
    gang,
    gpu_request,
    inner,
    inner_of,
    keys,
    observe,
    observed_object,
    pd_replica,
    pod_templates,
    replica,
    schema_problems,
    standalone,
    template,
    with_observed,
)


def compose(rep: api.ModelReplica, *clusters: dict[str, object]) -> model_replica.Composition:
    found = clusters if clusters else (cluster(rep.spec.cluster_name),)
    return model_replica.compose(observe(rep, cluster=found))


def engine_container(pod: dict[str, object]) -> dict[str, object]:
    containers = pod["spec"]["containers"]  # type: ignore[index]
    return next(c for c in containers if c["name"] == "engine")  # type: ignore[no-any-return]


# --- Standalone -----------------------------------------------------------------------------


def test_standalone_engine_becomes_a_deployment_of_copies() -> None:
    out = compose(replica(engine("main", standalone(pool="l4"), copies=3)))
    deployment = inner_of(out, "workload-main")
    assert deployment["kind"] == "Deployment"
    assert deployment["spec"]["replicas"] == 3
    assert deployment["metadata"]["namespace"] == WORKLOAD_NAMESPACE
    pod = deployment["spec"]["template"]
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector.items() <= pod["metadata"]["labels"].items()
    assert pod["spec"]["nodeSelector"] == {LABEL_POOL: "l4"}
    assert schema_problems(out) == []


def test_every_object_is_wrapped_for_the_clusters_provider_config() -> None:
    out = compose(replica(), cluster("cluster-a", provider_config="kubeconfig-a"))
    for resource in out.resources:
        assert resource.manifest["kind"] == "Object"
        assert resource.manifest["spec"]["providerConfigRef"] == {
            "kind": "ClusterProviderConfig",
            "name": "kubeconfig-a",
        }


def test_workload_readiness_comes_from_its_available_condition() -> None:
    out = compose(replica(*gang_engine()))
    readiness = out.resource("workload-main").manifest["spec"]["readiness"]  # type: ignore[union-attr]
    assert readiness["policy"] == "DeriveFromCelQuery"
    assert '"Available"' in readiness["celQuery"]


HOPPER = 'device.attributes["gpu.nvidia.com"].architecture == "Hopper"'


def test_claim_template_carries_each_request_exactly_and_the_pod_references_it() -> None:
    requests = (
        gpu_request("gpu", 4, (HOPPER,)),
        gpu_request("nic", 2, ('device.driver == "nic.example.com"', "true")),
    )
    out = compose(replica(engine("main", standalone(requests=requests))))
    claim = inner_of(out, "claims-main-standalone")
    assert claim["apiVersion"] == "resource.k8s.io/v1"
    assert claim["spec"]["spec"]["devices"]["requests"] == [
        {
            "name": "gpu",
            "exactly": {
                "deviceClassName": "gpu.nvidia.com",
                "count": 4,
                "selectors": [{"cel": {"expression": HOPPER}}],
            },
        },
        {
            "name": "nic",
            "exactly": {
                "deviceClassName": "gpu.nvidia.com",
                "count": 2,
                "selectors": [
                    {"cel": {"expression": 'device.driver == "nic.example.com"'}},
                    {"cel": {"expression": "true"}},
                ],
            },
        },
    ]
    pod = inner_of(out, "workload-main")["spec"]["template"]
    assert pod["spec"]["resourceClaims"] == [
        {"name": "devices", "resourceClaimTemplateName": claim["metadata"]["name"]}
    ]
    assert engine_container(pod)["resources"] == {"claims": [{"name": "devices"}]}
    assert schema_problems(out) == []


def test_user_template_is_carried_through_verbatim_and_nothing_is_injected() -> None:
    env = (
        api.EnvVar(name="PLAIN", value="1"),
        api.EnvVar(
            name="VLLM_HOST_IP",
            value_from=api.EnvVarSource(
                field_ref=api.ObjectFieldSelector(field_path="status.podIP")
            ),
        ),
        api.EnvVar(
            name="HF_TOKEN",
            value_from=api.EnvVarSource(secret_key_ref=api.KeySelector(name="hf", key="token")),
        ),
        api.EnvVar(
            name="MODE",
            value_from=api.EnvVarSource(
                config_map_key_ref=api.KeySelector(name="cfg", key="mode", optional=True)
            ),
        ),
    )
    tmpl = template(
        container(
            args=("--model=x", "--tensor-parallel-size=2"), command=("vllm", "serve"), env=env
        ),
        labels={"team": "research", "sidecar.istio.io/inject": "false"},
        annotations={"prometheus.io/scrape": "true"},
        pull_secrets=("ngc",),
    )
    out = compose(replica(engine("main", standalone(tmpl=tmpl))))
    pod = inner_of(out, "workload-main")["spec"]["template"]
    main = engine_container(pod)
    assert main["command"] == ["vllm", "serve"]
    assert main["args"] == ["--model=x", "--tensor-parallel-size=2"]
    assert main["env"] == [
        {"name": "PLAIN", "value": "1"},
        {"name": "VLLM_HOST_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
        {"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": "hf", "key": "token"}}},
        {
            "name": "MODE",
            "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "mode", "optional": True}},
        },
    ]
    assert pod["metadata"]["labels"]["team"] == "research"
    assert pod["metadata"]["labels"]["sidecar.istio.io/inject"] == "false"
    assert pod["metadata"]["annotations"] == {"prometheus.io/scrape": "true"}
    assert pod["spec"]["imagePullSecrets"] == [{"name": "ngc"}]
    assert schema_problems(out) == []


def test_unified_serving_is_a_service_in_front_of_the_serving_pods() -> None:
    out = compose(replica(engine("a"), engine("b")))
    assert "pool" not in keys(out)
    assert not any(k.startswith("picker-") for k in keys(out))
    service = inner_of(out, "service")
    selector = service["spec"]["selector"]
    for key in ("workload-a", "workload-b"):
        labels = inner_of(out, key)["spec"]["template"]["metadata"]["labels"]
        assert selector.items() <= labels.items()
    route = inner_of(out, "route")
    rule = route["spec"]["rules"][0]
    assert rule["backendRefs"] == [{"name": service["metadata"]["name"], "port": 8000}]
    assert rule["matches"][0]["path"] == {"type": "PathPrefix", "value": "/ml-team/qwen-a1b2c/"}
    assert rule["filters"][0]["urlRewrite"]["path"]["replacePrefixMatch"] == "/"
    assert route["spec"]["parentRefs"] == [
        {"name": "inference-gateway", "namespace": "modelplane-system"}
    ]


# --- Gangs ----------------------------------------------------------------------------------


def gang_engine(**kwargs: object) -> tuple[api.ReplicaEngine]:
    return (engine("main", *gang(**kwargs), copies=2),)  # type: ignore[arg-type]


def test_gang_engine_becomes_a_leader_worker_set_sized_leader_plus_workers() -> None:
    out = compose(replica(*gang_engine(nodes=3), cache="weights"))
    lws = inner_of(out, "workload-main")
    assert lws["kind"] == "LeaderWorkerSet"
    assert lws["spec"]["replicas"] == 2
    assert lws["spec"]["leaderWorkerTemplate"]["size"] == 4
    assert {"claims-main-leader", "claims-main-worker"} <= set(keys(out))
    assert schema_problems(out) == []


RANK_FROM_LWS = {
    "name": RANK_ENV,
    "valueFrom": {
        "fieldRef": {"fieldPath": "metadata.labels['leaderworkerset.sigs.k8s.io/worker-index']"}
    },
}


def test_leader_address_and_rank_are_injected_first_into_every_gang_pod() -> None:
    user_env = (api.EnvVar(name="NCCL_DEBUG", value="INFO"),)
    leader = template(container(command=("sh", "-c", "serve"), args=None, env=user_env))
    worker = template(
        container(command=("sh", "-c", "join $(MODELPLANE_LEADER_ADDRESS)"), args=None)
    )
    out = compose(replica(*gang_engine(leader=leader, worker=worker), cache="weights"))
    leader_pod, worker_pod = pod_templates(inner_of(out, "workload-main"))
    for pod, user in ((leader_pod, [{"name": "NCCL_DEBUG", "value": "INFO"}]), (worker_pod, [])):
        main = engine_container(pod)
        assert main["env"] == [
            {"name": LEADER_ADDRESS_ENV, "value": "$(LWS_LEADER_ADDRESS)"},
            RANK_FROM_LWS,
            *user,
        ]
        assert "args" not in main
    assert engine_container(worker_pod)["command"] == [
        "sh",
        "-c",
        "join $(MODELPLANE_LEADER_ADDRESS)",
    ]


def test_the_cache_is_mounted_in_every_gang_pod_and_no_model_flag_is_added() -> None:
    out = compose(replica(*gang_engine(), cache="qwen-coder"))
    for pod in pod_templates(inner_of(out, "workload-main")):
        claim = {
            "name": "model-cache",
            "persistentVolumeClaim": {"claimName": cache_pvc_name("ml-team", "qwen-coder")},
        }
        assert claim in pod["spec"]["volumes"]
        main = engine_container(pod)
        assert {"name": "model-cache", "mountPath": MODEL_MOUNT_PATH} in main["volumeMounts"]
        assert main["args"] == ["--model=Qwen/Qwen3-8B"]


def test_without_a_cache_nothing_is_mounted_at_the_model_path() -> None:
    out = compose(replica())
    pod = inner_of(out, "workload-main")["spec"]["template"]
    assert all(v["name"] != "model-cache" for v in pod["spec"]["volumes"])
    assert all(m["mountPath"] != MODEL_MOUNT_PATH for m in engine_container(pod)["volumeMounts"])


def test_only_the_leader_serves_and_workers_expose_nothing() -> None:
    out = compose(replica(*gang_engine()))
    leader_pod, worker_pod = pod_templates(inner_of(out, "workload-main"))
    assert LABEL_SERVING in leader_pod["metadata"]["labels"]
    assert LABEL_SERVING not in worker_pod["metadata"]["labels"]
    assert "readinessProbe" in engine_container(leader_pod)
    assert "ports" not in engine_container(worker_pod)


def test_members_pin_to_their_own_pools_and_claim_through_their_own_templates() -> None:
    out = compose(replica(*gang_engine(leader_pool="head", worker_pool="frontier")))
    leader_pod, worker_pod = pod_templates(inner_of(out, "workload-main"))
    assert leader_pod["spec"]["nodeSelector"] == {LABEL_POOL: "head"}
    assert worker_pod["spec"]["nodeSelector"] == {LABEL_POOL: "frontier"}
    assert (
        leader_pod["spec"]["resourceClaims"][0]["resourceClaimTemplateName"]
        == inner_of(out, "claims-main-leader")["metadata"]["name"]
    )
    assert (
        worker_pod["spec"]["resourceClaims"][0]["resourceClaimTemplateName"]
        == inner_of(out, "claims-main-worker")["metadata"]["name"]
    )


def test_claimless_leader_gets_no_claim_but_is_still_pinned() -> None:
    out = compose(replica(*gang_engine(leader_requests=(), leader_pool="gpu")))
    assert "claims-main-leader" not in keys(out)
    leader_pod, _ = pod_templates(inner_of(out, "workload-main"))
    assert "resourceClaims" not in leader_pod["spec"]
    assert "resources" not in engine_container(leader_pod)
    assert leader_pod["spec"]["nodeSelector"] == {LABEL_POOL: "gpu"}
    assert schema_problems(out) == []


# --- PrefillDecode ----------------------------------------------------------------------------


def test_prefill_decode_is_an_inference_pool_with_its_endpoint_picker() -> None:
    out = compose(pd_replica())
    assert "service" not in keys(out)
    assert {
        "pool",
        "picker-deployment",
        "picker-service",
        "picker-config",
        "picker-serviceaccount",
        "picker-role",
        "picker-rolebinding",
    } <= set(keys(out))
    pool = inner_of(out, "pool")
    picker = inner_of(out, "picker-service")["metadata"]["name"]
    assert pool["spec"]["endpointPickerRef"]["name"] == picker
    assert pool["spec"]["targetPorts"] == [{"number": 8000}]
    route = inner_of(out, "route")
    assert route["spec"]["rules"][0]["backendRefs"] == [
        {
            "group": "inference.networking.k8s.io",
            "kind": "InferencePool",
            "name": pool["metadata"]["name"],
        }
    ]
    assert schema_problems(out) == []


def test_prefill_decode_pods_are_role_labelled_by_phase_and_all_pooled() -> None:
    out = compose(pd_replica())
    selector = inner_of(out, "pool")["spec"]["selector"]["matchLabels"]
    roles = {}
    for name in ("prefill", "decode"):
        labels = inner_of(out, f"workload-{name}")["spec"]["template"]["metadata"]["labels"]
        assert selector.items() <= labels.items()
        roles[name] = labels[LABEL_LLMD_ROLE]
    assert roles == {"prefill": "prefill", "decode": "decode"}


def test_prefill_decode_serving_pods_carry_llm_d_labels_and_the_nixl_side_channel() -> None:
    user = (api.EnvVar(name="VLLM_NIXL_SIDE_CHANNEL_PORT", value="6000"),)
    out = compose(
        replica(
            engine("prefill", standalone(tmpl=template(container(env=user))), phase="Prefill"),
            engine(
                "decode",
                standalone(tmpl=template(container(args=("--port=8001",)))),
                phase="Decode",
            ),
            mode="PrefillDecode",
        )
    )
    prefill = inner_of(out, "workload-prefill")["spec"]["template"]
    decode = inner_of(out, "workload-decode")["spec"]["template"]
    app = prefill["metadata"]["labels"][LABEL_SERVING]
    for pod in (prefill, decode):
        labels = pod["metadata"]["labels"]
        assert labels["llm-d.ai/inference-serving"] == "true"
        assert labels["app"] == app
    host = {
        "name": "VLLM_NIXL_SIDE_CHANNEL_HOST",
        "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}},
    }
    # The user's own port wins and is not duplicated; the host is still provided.
    assert engine_container(prefill)["env"] == [
        {"name": "VLLM_NIXL_SIDE_CHANNEL_PORT", "value": "6000"},
        host,
    ]
    assert engine_container(decode)["env"] == [
        host,
        {"name": "VLLM_NIXL_SIDE_CHANNEL_PORT", "value": "5557"},
    ]
    assert schema_problems(out) == []


def test_unified_pods_get_no_prefill_decode_plumbing() -> None:
    pod = inner_of(compose(replica()), "workload-main")["spec"]["template"]
    assert "env" not in engine_container(pod)
    assert not {"app", "llm-d.ai/inference-serving", LABEL_LLMD_ROLE} & set(
        pod["metadata"]["labels"]
    )


def test_replica_labels_reach_every_pod_under_the_members_and_managed_ones() -> None:
    leader = template(labels={"team": "leader-team"})
    out = compose(
        replica(
            *gang_engine(leader=leader),
            cache="weights",
            labels={
                "team": "search",
                "tier": "prod",
                "modelplane.ai/deployment": "qwen",
                "crossplane.io/composite": "qwen",
            },
        )
    )
    leader_pod, worker_pod = pod_templates(inner_of(out, "workload-main"))
    assert leader_pod["metadata"]["labels"]["team"] == "leader-team"
    assert worker_pod["metadata"]["labels"]["team"] == "search"
    for pod in (leader_pod, worker_pod):
        labels = pod["metadata"]["labels"]
        assert labels["tier"] == "prod"
        assert "modelplane.ai/deployment" not in labels
        assert "crossplane.io/composite" not in labels
    assert schema_problems(out) == []


def test_decode_pods_get_the_routing_sidecar_on_the_pool_port_and_keep_their_flags() -> None:
    out = compose(pd_replica(decode_args=("--model=m", "--port", "9100")))
    decode_pod = inner_of(out, "workload-decode")["spec"]["template"]
    containers = decode_pod["spec"]["containers"]
    assert [c["name"] for c in containers] == ["engine", "routing-sidecar"]
    engine_c, sidecar = containers
    assert engine_c["args"] == ["--model=m", "--port", "9100"]
    assert engine_c["ports"] == [{"containerPort": 9100, "protocol": "TCP"}]
    assert "--vllm-port=9100" in sidecar["args"]
    assert sidecar["ports"] == [{"containerPort": 8000, "protocol": "TCP"}]
    prefill_pod = inner_of(out, "workload-prefill")["spec"]["template"]
    assert [c["name"] for c in prefill_pod["spec"]["containers"]] == ["engine"]
    assert not any(e.type == "Warning" for e in out.events)


@pytest.mark.parametrize("args", [("--model=m",), ("--model=m", "--port=8000")])
def test_a_decode_engine_that_would_collide_with_the_sidecar_is_warned_about(
    args: tuple[str, ...],
) -> None:
    out = compose(pd_replica(decode_args=args))
    warnings = [e for e in out.events if e.type == "Warning"]
    assert len(warnings) == 1
    assert "--port=8001" in warnings[0].message
    assert "decode" in warnings[0].message


def test_the_picker_config_uses_the_decode_engines_block_size() -> None:
    out = compose(pd_replica(decode_args=("--port=8001", "--block-size", "32")))
    config = inner_of(out, "picker-config")["data"]["epp-config.yaml"]
    assert "blockSizeTokens: 32" in config
    assert "prefix-based-pd-decider" in config
    checksum = inner_of(out, "picker-deployment")["spec"]["template"]["metadata"]["annotations"]
    other = compose(pd_replica(decode_args=("--port=8001",)))
    other_checksum = inner_of(other, "picker-deployment")["spec"]["template"]["metadata"][
        "annotations"
    ]
    assert checksum != other_checksum


# --- Readiness and conditions ---------------------------------------------------------------


def observe_all(
    rep: api.ModelReplica, *, ready: set[str] | None = None, applied: bool = True
) -> Observed[api.ModelReplica]:
    first = compose(rep)
    ready_keys = {r.key for r in first.resources} if ready is None else ready
    return with_observed(
        observe(rep, cluster=[cluster(rep.spec.cluster_name)]),
        {
            r.key: observed_object(r.manifest, ready=r.key in ready_keys, applied=applied)
            for r in first.resources
        },
    )


def test_a_fresh_replica_is_deploying_and_announces_itself() -> None:
    out = compose(replica())
    assert out.condition("ModelAccepted").status == "False"  # type: ignore[union-attr]
    assert out.condition("ModelReady").status == "False"  # type: ignore[union-attr]
    assert [e.reason for e in out.events] == ["Composing"]
    assert all(r.ready is False for r in out.resources)
    assert out.requirements[0].match_name == "cluster-a"


def test_observed_ready_workloads_make_the_replica_serving() -> None:
    rep = replica()
    out = model_replica.compose(observe_all(rep))
    assert out.condition("ModelAccepted").reason == "Accepted"  # type: ignore[union-attr]
    assert out.condition("ModelReady").status == "True"  # type: ignore[union-attr]
    assert all(r.ready for r in out.resources)
    assert out.events == ()


def test_applied_but_unavailable_workloads_are_starting() -> None:
    rep = replica(engine("a"), engine("b"))
    out = model_replica.compose(observe_all(rep, ready={"route", "service", "workload-a"}))
    serving = out.condition("ModelReady")
    assert serving is not None
    assert serving.reason == "ModelStarting"
    assert "b" in (serving.message or "")
    assert "a," not in (serving.message or "")
    assert out.resource("workload-b").ready is False  # type: ignore[union-attr]


def test_prefill_decode_is_not_serving_until_its_picker_is_available() -> None:
    rep = pd_replica()
    everything = {r.key for r in compose(rep).resources}
    out = model_replica.compose(observe_all(rep, ready=everything - {"picker-deployment"}))
    serving = out.condition("ModelReady")
    assert serving is not None
    assert serving.status == "False"
    assert "picker" in (serving.message or "")


# --- Waiting states hold ----------------------------------------------------------------------


def running(rep: api.ModelReplica) -> Observed[api.ModelReplica]:
    return observe_all(rep)


@pytest.mark.parametrize(
    ("required", "reason", "warns"),
    [
        ({}, "WaitingForCluster", False),
        ({"cluster": ()}, "ClusterNotFound", True),
        (
            {"cluster": (cluster("cluster-a", provider_config=None),)},
            "WaitingForProviderConfig",
            False,
        ),
        (
            {"cluster": ({"apiVersion": "modelplane.ai/v1alpha1", "kind": "InferenceCluster"},)},
            "InvalidCluster",
            True,
        ),
        ({"cluster": (cluster("some-other-cluster"),)}, "ClusterNotFound", True),
    ],
)
def test_waiting_states_hold_the_running_workloads(
    required: dict[str, tuple[dict[str, object], ...]], reason: str, warns: bool
) -> None:
    rep = replica(*gang_engine(), cache="weights")
    live = running(rep)
    out = model_replica.compose(
        Observed(composite=rep, resources=live.resources, required=required)
    )
    assert out.held
    assert sorted(keys(out)) == sorted(live.resources)
    for resource in out.resources:
        assert inner(resource.manifest) == inner(live.resources[resource.key].manifest)
        assert resource.ready is True
    accepted = out.condition("ModelAccepted")
    assert accepted is not None
    assert accepted.reason == reason
    assert accepted.status == "False"
    assert any(e.type == "Warning" for e in out.events) == warns
    assert out.requirements == model_replica.requirements(rep)


def test_waiting_with_nothing_running_is_not_ready() -> None:
    out = model_replica.compose(observe(replica()))
    assert out.held
    assert out.resources == ()
    assert out.ready is False


def test_an_invalid_spec_holds_and_warns() -> None:
    bad = replica(engine("main", *gang(), standalone()))  # three members: not a valid shape
    live = running(replica())
    out = model_replica.compose(
        Observed(composite=bad, resources=live.resources, required=live.required)
    )
    assert out.held
    assert sorted(keys(out)) == sorted(live.resources)
    assert out.condition("ModelAccepted").reason == "InvalidSpec"  # type: ignore[union-attr]
    assert [e.type for e in out.events] == ["Warning"]


def test_composition_does_not_depend_on_input_order() -> None:
    rep = pd_replica()
    live = running(rep)
    reversed_resources = dict(reversed(list(live.resources.items())))
    a = model_replica.compose(live).to_dict()
    b = model_replica.compose(
        Observed(composite=rep, resources=reversed_resources, required=live.required)
    ).to_dict()
    assert a == b


def test_desired_resources_are_all_distinct_objects() -> None:
    out = compose(pd_replica())
    identities = [
        (inner(r.manifest)["kind"], inner(r.manifest)["metadata"]["name"]) for r in out.resources
    ]
    assert len(identities) == len(set(identities))
    assert all(isinstance(r, DesiredResource) for r in out.resources)
