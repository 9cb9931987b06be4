"""Faults: API errors, timeouts, expired watches, a lost lease. Nothing lost, nothing torn down."""

from __future__ import annotations

from modelplane_adapters.controller.cache import OWNER_UID
from modelplane_core.reconcile import key_of
from tests.adapters.controller.apiserver import ApiServer
from tests.adapters.controller.conftest import settled, wait_for
from tests.adapters.controller.test_controller import API, tour_objects


def deletes(server: ApiServer) -> list[str]:
    return [path for method, path in server.requests if method == "DELETE"]


def fleet(server: ApiServer) -> None:
    for manifest in tour_objects()[:3]:
        server.put(manifest)


def composed(server: ApiServer) -> set[tuple[str, str, str, str]]:
    with server.lock:
        return {
            key_of(o)
            for o in server.objects.values()
            if OWNER_UID in (o["metadata"].get("labels") or {})
        }


def test_server_errors_and_conflicts_are_retried_until_converged(apiserver, start) -> None:
    fleet(apiserver)
    apiserver.fail("PATCH", r"/apis/", 500, times=6)
    apiserver.fail("PATCH", r"/status$", 409, times=3)
    run = start()
    settled(apiserver, run)
    cluster = apiserver.get(API, "InferenceCluster", "eks-us-east")
    assert cluster["status"]["observedGeneration"] == cluster["metadata"]["generation"]
    errors = run.controller.metrics.errors
    assert sum(errors.values()) >= 1
    assert "controller_runtime_reconcile_errors_total" in run.controller.metrics.exposition()
    assert not [f for f in apiserver.faults if f.times], "the injected faults were not all hit"
    assert deletes(apiserver) == []


def test_timeouts_are_retried(apiserver, start) -> None:
    fleet(apiserver)
    apiserver.fail("PATCH", r"/apis/", None, times=2, delay=6.0)  # the client gives up at 5 s
    run = start()
    settled(apiserver, run, timeout=90)
    assert apiserver.get(API, "InferenceCluster", "eks-us-east")["status"]["conditions"]
    assert deletes(apiserver) == []


def test_an_expired_watch_lists_again_and_misses_nothing(apiserver, start) -> None:
    fleet(apiserver)
    run = start()
    settled(apiserver, run)
    informer = run.controller.informers[(API, "InferenceCluster")]
    relists = informer.relists
    before = composed(apiserver)
    # Another kind moves on, so the cluster watch's last version is no longer the newest.
    apiserver.put(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "x"}}
    )
    apiserver.compact()
    apiserver.drop_watches()
    cluster = apiserver.get(API, "InferenceCluster", "eks-us-east")
    cluster["metadata"]["labels"] = {**(cluster["metadata"].get("labels") or {}), "tier": "gold"}
    apiserver.put(cluster)
    wait_for(lambda: informer.relists > relists, what="a relist after 410 Gone")
    wait_for(
        lambda: (
            (
                run.controller.cache.get(key_of(cluster)).manifest["metadata"].get("labels") or {}
            ).get("tier")
            == "gold"
        ),
        what="the change made while the watch was down",
    )
    settled(apiserver, run)
    assert composed(apiserver) == before
    assert deletes(apiserver) == []


def test_losing_the_lease_stops_work_and_tears_nothing_down(apiserver, start) -> None:
    from modelplane_adapters.controller.leader import LeaderElector

    fleet(apiserver)
    first = start(leader_elect=True, identity="first", lease_namespace="kube-system")
    settled(apiserver, first)
    built = composed(apiserver)
    assert built
    elector = first.controller.elector
    assert elector is not None
    assert elector.leading.is_set()
    # Another replica takes the lease over (as after a partition): the first must stop.
    lease = apiserver.get("coordination.k8s.io/v1", "Lease", "modelplane-controller", "kube-system")
    lease["spec"]["holderIdentity"] = "second"
    apiserver.put(lease)
    wait_for(lambda: first.code == 1 or elector.lost.is_set(), timeout=40, what="leadership lost")
    first.thread.join(30)
    assert first.code == 1
    writes = apiserver.version
    # The fleet changes while nobody leads: nothing is written, nothing is deleted.
    cluster = apiserver.get(API, "InferenceCluster", "eks-us-east")
    cluster["metadata"]["labels"] = {"tier": "gold"}
    apiserver.put(cluster)
    assert apiserver.version == writes + 1
    # A new leader (after the lease expires) converges the same fleet, deleting nothing.
    lease = apiserver.get("coordination.k8s.io/v1", "Lease", "modelplane-controller", "kube-system")
    lease["spec"]["holderIdentity"] = ""
    apiserver.put(lease)
    second = start(leader_elect=True, identity="second", lease_namespace="kube-system")
    wait_for(
        lambda: second.controller.elector and second.controller.elector.leading.is_set(),
        what="the second replica leading",
    )
    settled(apiserver, second)
    assert composed(apiserver) == built
    assert deletes(apiserver) == []
    assert second.stop() == 0
    lease = apiserver.get("coordination.k8s.io/v1", "Lease", "modelplane-controller", "kube-system")
    assert lease["spec"]["holderIdentity"] == "", "a graceful stop releases the lease"
    assert isinstance(LeaderElector, type)
