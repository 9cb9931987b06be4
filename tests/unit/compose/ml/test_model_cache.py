"""ModelCache composition: footprint, per-cluster objects and phases, token handling, PVC safety."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from modelplane_core import api
from modelplane_core.compose import model_cache
from modelplane_core.compose.composition import Observed, ObservedResource
from modelplane_core.compose.workloads.cache_storage import cache_pvc_name
from tests.unit.compose.ml.fixtures import (
    cluster,
    inner,
    inner_of,
    keys,
    observed_object,
    resolve,
    schema_problems,
)

TOKEN = base64.b64encode(b"hf_not_a_real_token").decode()


def cache(
    *,
    selector: Mapping[str, str] | None = None,
    auth: bool = True,
    revision: str | None = "main",
    status: api.ModelCacheStatus | None = None,
) -> api.ModelCache:
    return api.ModelCache(
        metadata=api.ObjectMeta(name="qwen", namespace="ml-team"),
        spec=api.ModelCacheSpec(
            source="HuggingFace",
            hugging_face=api.HuggingFaceSource(
                repo="Qwen/Qwen3-8B",
                revision=revision,
                auth_secret=api.SecretKeyReference(name="hf-token") if auth else None,
                size_gib=20,
            ),
            cluster_selector=api.LabelSelector(match_labels=dict(selector)) if selector else None,
        ),
        status=status,
    )


def secret(value: str | None = TOKEN, key: str = "HF_TOKEN") -> dict[str, Any]:
    data = {key: value} if value is not None else {}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "hf-token", "namespace": "ml-team"},
        "data": data,
    }


def rwx(name: str, **kwargs: Any) -> dict[str, Any]:
    return cluster(name, storage_class=kwargs.pop("storage_class", "modelplane-rwx"), **kwargs)


def observe(
    mc: api.ModelCache,
    clusters: Sequence[dict[str, Any]] | None,
    secrets: Sequence[dict[str, Any]] | None = (),
    resources: Mapping[str, ObservedResource] | None = None,
) -> Observed[api.ModelCache]:
    """The inputs as Crossplane resolves the composer's requirements against ``clusters``."""
    seen = resources or {}
    staged = [k.removeprefix("pvc-") for k in seen if k.startswith("pvc-")]
    needed = model_cache.requirements(mc, staged)
    required = resolve([r for r in needed if r.kind == "InferenceCluster"], clusters or ())
    if clusters is None:
        required = {}
    if secrets is not None and mc.spec.hugging_face and mc.spec.hugging_face.auth_secret:
        required["auth-secret"] = tuple(secrets)
    return Observed(composite=mc, required=required, resources=seen)


def compose(*args: Any, **kwargs: Any) -> model_cache.Composition:
    return model_cache.compose(observe(*args, **kwargs))


def status_of(out: model_cache.Composition) -> dict[str, str]:
    return {c["name"]: c["phase"] for c in out.status["clusters"]}


def test_footprint_is_ready_selected_clusters_with_rwx_storage() -> None:
    out = compose(
        cache(),
        [
            rwx("a"),
            rwx("b", storage_class="filestore-rwx"),
            rwx("not-ready", ready=False),
            cluster("no-storage"),
            rwx("no-pc", provider_config=None),
        ],
        [secret()],
    )
    assert keys(out) == ["auth-a", "auth-b", "hydrate-a", "hydrate-b", "pvc-a", "pvc-b"]
    assert status_of(out) == {"a": "Pending", "b": "Pending"}
    assert out.status["summary"] == {"ready": "0/2"}
    assert inner_of(out, "pvc-b")["spec"]["storageClassName"] == "filestore-rwx"
    assert schema_problems(out) == []


def test_cluster_selector_narrows_the_footprint() -> None:
    out = compose(
        cache(selector={"tier": "frontier"}),
        [rwx("a", labels={"tier": "frontier"}), rwx("b", labels={"tier": "batch"})],
        [secret()],
    )
    assert status_of(out) == {"a": "Pending"}
    needed = model_cache.requirements(cache(selector={"tier": "frontier"}))
    # The selected clusters are fetched by their labels; a change to any other
    # cluster is neither fetched nor wakes the cache (and see below for staged ones).
    assert (needed[0].kind, needed[0].match_labels) == ("InferenceCluster", {"tier": "frontier"})
    assert (needed[1].kind, needed[1].match_name, needed[1].namespace) == (
        "Secret",
        "hf-token",
        "ml-team",
    )


def test_each_cluster_gets_a_rwx_pvc_and_a_job_fetching_repo_at_revision() -> None:
    out = compose(cache(), [rwx("a")], [secret()])
    pvc = inner_of(out, "pvc-a")
    assert pvc["metadata"]["name"] == cache_pvc_name("ml-team", "qwen")
    assert pvc["spec"]["accessModes"] == ["ReadWriteMany"]
    assert pvc["spec"]["resources"]["requests"]["storage"] == "20Gi"
    job = inner_of(out, "hydrate-a")
    pod = job["spec"]["template"]["spec"]
    env = {e["name"]: e for e in pod["containers"][0]["env"]}
    assert env["MODEL_REPO"]["value"] == "Qwen/Qwen3-8B"
    assert env["MODEL_REVISION"]["value"] == "main"
    auth = inner_of(out, "auth-a")
    assert env["HF_TOKEN"]["valueFrom"]["secretKeyRef"] == {
        "name": auth["metadata"]["name"],
        "key": "HF_TOKEN",
    }
    assert "data" not in auth  # filled by the provider from the user's Secret, see below
    assert pod["volumes"][0]["persistentVolumeClaim"]["claimName"] == pvc["metadata"]["name"]
    assert "Qwen" not in pod["containers"][0]["command"][2]  # values travel as env, not shell text
    job_object = out.resource("hydrate-a").manifest  # type: ignore[union-attr]
    assert "Delete" not in job_object["spec"]["managementPolicies"]


def test_a_public_repo_copies_no_secret() -> None:
    out = compose(cache(auth=False, revision=None), [rwx("a")])
    assert keys(out) == ["hydrate-a", "pvc-a"]
    env = {
        e["name"]
        for e in inner_of(out, "hydrate-a")["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert "HF_TOKEN" not in env
    assert "MODEL_REVISION" not in env
    assert len(model_cache.requirements(cache(auth=False))) == 1


def live(
    out: model_cache.Composition,
    *,
    pvc: str | None = "Bound",
    job: str | None = None,
    only: Sequence[str] | None = None,
) -> dict[str, ObservedResource]:
    """Observed state for ``out``'s resources: PVC phase and Job condition."""
    seen: dict[str, ObservedResource] = {}
    for resource in out.resources:
        if only is not None and resource.key not in only:
            continue
        if resource.key.startswith("pvc-"):
            status = {"phase": pvc} if pvc else {}
            seen[resource.key] = observed_object(
                resource.manifest, ready=pvc == "Bound", applied_status=status
            )
        elif resource.key.startswith("hydrate-"):
            conditions = [{"type": job, "status": "True"}] if job else []
            seen[resource.key] = observed_object(
                resource.manifest,
                ready=job == "Complete",
                applied_status={"conditions": conditions},
            )
        else:
            seen[resource.key] = observed_object(resource.manifest)
    return seen


@pytest.mark.parametrize(
    ("pvc", "job", "phase", "reason"),
    [
        (None, None, "Pending", "Hydrating"),
        ("Bound", None, "Hydrating", "Hydrating"),
        ("Bound", "Complete", "Ready", "Staged"),
        ("Bound", "Failed", "Failed", "Failed"),
        (None, "Failed", "Failed", "Failed"),
    ],
)
def test_phase_follows_the_pvc_and_the_job(
    pvc: str | None, job: str | None, phase: str, reason: str
) -> None:
    first = compose(cache(), [rwx("a")], [secret()])
    out = compose(cache(), [rwx("a")], [secret()], resources=live(first, pvc=pvc, job=job))
    assert status_of(out) == {"a": phase}
    artifact = out.condition("ArtifactReady")
    assert artifact is not None
    assert artifact.reason == reason
    assert out.ready is (phase == "Ready")


def test_a_staged_cluster_keeps_only_its_pvc_and_stays_ready_after_the_job_is_gone() -> None:
    first = compose(cache(), [rwx("a")], [secret()])
    staged = compose(cache(), [rwx("a")], [secret()], resources=live(first, job="Complete"))
    assert keys(staged) == ["pvc-a"]
    assert [e.reason for e in staged.events] == ["Staged"]
    previous = api.ModelCacheStatus(
        clusters=(api.CacheClusterStatus(name="a", phase="Ready"),),
        conditions=(api.Condition(type="ArtifactReady", status="True"),),
    )
    later = compose(cache(status=previous), [rwx("a")], [], resources=live(first, only=["pvc-a"]))
    assert keys(later) == ["pvc-a"]
    assert status_of(later) == {"a": "Ready"}
    assert later.events == ()
    assert later.ready is True


def test_one_of_two_clusters_staged_is_partial() -> None:
    first = compose(cache(), [rwx("a"), rwx("b")], [secret()])
    seen = {
        **live(first, only=["pvc-b", "hydrate-b"]),
        **live(first, job="Complete", only=["pvc-a", "hydrate-a"]),
    }
    out = compose(cache(), [rwx("a"), rwx("b")], [secret()], resources=seen)
    assert status_of(out) == {"a": "Ready", "b": "Hydrating"}
    assert out.condition("ArtifactReady").reason == "Partial"  # type: ignore[union-attr]
    assert out.status["summary"] == {"ready": "1/2"}
    assert "hydrate-a" not in keys(out)
    assert "hydrate-b" in keys(out)


@pytest.mark.parametrize(
    "secrets", [[], [secret(value=None)], [secret(value="")], [secret(key="OTHER")]]
)
def test_a_missing_token_stages_the_pvc_only_and_says_how_to_fix_it(
    secrets: list[dict[str, Any]],
) -> None:
    out = compose(cache(), [rwx("a")], secrets)
    assert keys(out) == ["pvc-a"]
    artifact = out.condition("ArtifactReady")
    assert artifact is not None
    assert artifact.reason == "AuthSecretMissing"
    assert "ml-team/hf-token" in (artifact.message or "")
    assert "HF_TOKEN" in (artifact.message or "")
    assert any(e.type == "Warning" and e.reason == "AuthSecretMissing" for e in out.events)


def test_no_clusters_reports_no_clusters_not_a_missing_token() -> None:
    out = compose(cache(), [cluster("no-storage")], [])
    assert out.resources == ()
    assert out.condition("ClustersMatched").reason == "NoClusters"  # type: ignore[union-attr]
    assert out.condition("ArtifactReady").reason == "NoClusters"  # type: ignore[union-attr]
    assert "no-storage" in (out.condition("ClustersMatched").message or "")  # type: ignore[union-attr]
    assert not any(e.type == "Warning" for e in out.events)
    assert out.status["summary"] == {"ready": "0/0"}
    assert out.ready is False


def test_a_cluster_leaving_the_footprint_keeps_its_pvc() -> None:
    first = compose(cache(), [rwx("a"), rwx("b")], [secret()])
    seen = live(first, job="Complete")
    out = compose(cache(), [rwx("a"), rwx("b", ready=False)], [secret()], resources=seen)
    assert "pvc-b" in keys(out)
    assert inner(out.resource("pvc-b").manifest) == inner(seen["pvc-b"].manifest)  # type: ignore[union-attr]
    assert "hydrate-b" not in keys(out)
    assert "auth-b" not in keys(out)
    kept = next(c for c in out.status["clusters"] if c["name"] == "b")
    assert "PVC kept" in kept["message"]
    assert "not Ready" in kept["message"]
    assert kept["phase"] == "Ready"
    assert out.status["summary"] == {"ready": "1/1"}


def test_narrowing_the_selector_keeps_the_pvc_of_a_cluster_it_no_longer_selects() -> None:
    """The cluster it staged on is still fetched by name, so it is not taken for a deleted one."""
    both = [rwx("a", labels={"tier": "frontier"}), rwx("b", labels={"tier": "batch"})]
    first = compose(cache(), both, [secret()])
    seen = live(first, job="Complete")
    narrowed = cache(selector={"tier": "frontier"})
    needed = model_cache.requirements(narrowed, staged_on=["a", "b"])
    assert [(r.key, r.match_labels, r.match_name) for r in needed[:3]] == [
        ("clusters", {"tier": "frontier"}, None),
        ("staged-a", None, "a"),
        ("staged-b", None, "b"),
    ]
    out = compose(narrowed, both, [secret()], resources=seen)  # resolved as Crossplane does
    assert "pvc-b" in keys(out)
    assert inner(out.resource("pvc-b").manifest) == inner(seen["pvc-b"].manifest)  # type: ignore[union-attr]
    assert "hydrate-b" not in keys(out)
    assert "auth-b" not in keys(out)
    kept = next(c for c in out.status["clusters"] if c["name"] == "b")
    assert kept["message"] == "outside the footprint (no longer selected); PVC kept"
    assert out.status["summary"] == {"ready": "1/1"}


def test_a_deleted_cluster_takes_its_pvc_with_it() -> None:
    first = compose(cache(), [rwx("a"), rwx("b")], [secret()])
    out = compose(cache(), [rwx("a")], [secret()], resources=live(first))
    assert "pvc-b" not in keys(out)


def test_an_unreadable_cluster_drops_nothing() -> None:
    first = compose(cache(), [rwx("a"), rwx("b")], [secret()])
    broken = {
        "apiVersion": "modelplane.ai/v1alpha1",
        "kind": "InferenceCluster",
        "metadata": {"name": "b"},
    }
    out = compose(cache(), [rwx("a"), broken], [secret()], resources=live(first))
    assert "pvc-b" in keys(out)
    assert any(e.reason == "UnreadableCluster" for e in out.events)


@pytest.mark.parametrize("missing", ["clusters", "auth-secret"])
def test_unresolved_requirements_hold_the_pvcs(missing: str) -> None:
    first = compose(cache(), [rwx("a")], [secret()])
    seen = live(first)
    required = {"clusters": (rwx("a"),), "auth-secret": (secret(),)}
    del required[missing]
    out = model_cache.compose(Observed(composite=cache(), required=required, resources=seen))
    assert out.held
    assert sorted(keys(out)) == sorted(seen)
    assert out.condition("ArtifactReady").status == "Unknown"  # type: ignore[union-attr]


def test_staging_is_announced_once() -> None:
    first = compose(cache(), [rwx("a"), rwx("b")], [secret()])
    assert [e.message for e in first.events] == ["Staging Qwen/Qwen3-8B to 2 clusters: a, b"]
    again = compose(cache(), [rwx("a"), rwx("b")], [secret()], resources=live(first))
    assert again.events == ()


def test_the_token_is_referenced_never_copied_into_a_composed_object() -> None:
    out = compose(cache(), [rwx("a"), rwx("b")], [secret()])
    assert TOKEN not in repr(out)
    assert base64.b64decode(TOKEN).decode() not in repr(out)
    for key in ("auth-a", "auth-b"):
        (obj,) = [r.manifest for r in out.resources if r.key == key]
        # provider-kubernetes copies the key from the user's Secret on the control cluster.
        assert obj["spec"]["references"] == [
            {
                "patchesFrom": {
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "name": "hf-token",
                    "namespace": "ml-team",
                    "fieldPath": "data['HF_TOKEN']",
                },
                "toFieldPath": "data['HF_TOKEN']",
            }
        ]
