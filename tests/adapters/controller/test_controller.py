"""The controller against the test API server: real client, real HTTP, the shared engine."""

from __future__ import annotations

import copy
from typing import Any

from modelplane_adapters.controller.cache import OWNER_UID, RESOURCE_KEY
from modelplane_adapters.controller.writer import FIELD_MANAGER, FINALIZER
from modelplane_core.demo import tour_yaml
from modelplane_core.simulation import parse_scenario
from tests.adapters.controller.apiserver import ApiServer
from tests.adapters.controller.conftest import settled, wait_for

API = "modelplane.ai/v1alpha1"


def tour_objects() -> list[dict[str, Any]]:
    scenario = parse_scenario(tour_yaml())
    applied = [copy.deepcopy(dict(m)) for m in scenario.manifests]
    for timed in scenario.events:
        applied += [copy.deepcopy(dict(m)) for m in getattr(timed.event, "manifests", ())]
    return applied


def children_of(server: ApiServer, uid: str) -> list[dict[str, Any]]:
    found = []
    with server.lock:
        for obj in server.objects.values():
            if (obj["metadata"].get("labels") or {}).get(OWNER_UID) == uid:
                found.append(copy.deepcopy(obj))
    return found


def test_a_composite_gets_children_status_finalizer_and_events(apiserver, start) -> None:
    for manifest in tour_objects()[:3]:  # the gateway, a class, a cluster
        apiserver.put(manifest)
    run = start()
    settled(apiserver, run)
    cluster = apiserver.get(API, "InferenceCluster", "eks-us-east")
    assert FINALIZER in cluster["metadata"]["finalizers"]
    status = cluster["status"]
    generation = cluster["metadata"]["generation"]
    assert status["observedGeneration"] == generation
    types = {c["type"]: c for c in status["conditions"]}
    assert {"Synced", "Ready"} <= set(types)
    assert all(c["observedGeneration"] == generation for c in status["conditions"])
    assert all(c["lastTransitionTime"] for c in status["conditions"])
    children = children_of(apiserver, cluster["metadata"]["uid"])
    assert children, "the cluster composed nothing"
    for child in children:
        metadata = child["metadata"]
        assert metadata["annotations"][RESOURCE_KEY]
        assert any(m["manager"] == FIELD_MANAGER for m in metadata["managedFields"])
        assert metadata["ownerReferences"][0]["uid"] == cluster["metadata"]["uid"]
        assert metadata["ownerReferences"][0]["controller"] is True
    events = apiserver.list("v1", "Event")
    assert all(e["involvedObject"]["kind"] for e in events)


def test_a_second_pass_writes_nothing(apiserver, start) -> None:
    for manifest in tour_objects()[:3]:
        apiserver.put(manifest)
    run = start()
    settled(apiserver, run)
    version = apiserver.version
    requests = len(apiserver.requests)
    run.controller.resync()
    settled(apiserver, run)
    assert apiserver.version == version, "an unchanged fleet was written again"
    sent = [request for request in apiserver.requests[requests:] if request[0] != "GET"]
    assert sent == [], "an apply that changes nothing was sent"


def test_a_child_changed_by_someone_else_is_applied_again(apiserver, start) -> None:
    for manifest in tour_objects()[:3]:
        apiserver.put(manifest)
    run = start()
    settled(apiserver, run)
    cluster = apiserver.get(API, "InferenceCluster", "eks-us-east")
    child = next(c for c in children_of(apiserver, cluster["metadata"]["uid"]) if c.get("spec"))
    at = (child["apiVersion"], child["kind"], child["metadata"]["name"])
    namespace = child["metadata"].get("namespace", "")

    def edited_by_someone_else(spec: dict[str, Any]) -> dict[str, Any]:
        apiserver.put({**copy.deepcopy(child), "spec": spec}, manager="someone-else")
        settled(apiserver, run)
        return apiserver.get(*at, namespace)["spec"]

    # Server-side apply takes back what it owns; a field it never set stays.
    tampered = {**child["spec"], "tampered": True}
    assert edited_by_someone_else(tampered) == tampered
    first = next(iter(child["spec"]))
    assert edited_by_someone_else({**child["spec"], first: "overwritten"}) == child["spec"]


def test_deleting_a_composite_deletes_its_children_first(apiserver, start) -> None:
    for manifest in tour_objects()[:3]:
        apiserver.put(manifest)
    run = start()
    settled(apiserver, run)
    cluster = apiserver.get(API, "InferenceCluster", "eks-us-east")
    uid = cluster["metadata"]["uid"]
    assert children_of(apiserver, uid)
    with apiserver.lock:
        resource = apiserver.find(API, "InferenceCluster")
        apiserver._delete(resource, (resource, "", "eks-us-east"), {})
    wait_for(lambda: apiserver.get(API, "InferenceCluster", "eks-us-east") is None, what="deletion")
    assert children_of(apiserver, uid) == []
    kinds = [(t, o["kind"]) for _v, _r, t, o in apiserver.history if t == "DELETED"]
    assert kinds[-1] == ("DELETED", "InferenceCluster"), "the composite went before its children"
