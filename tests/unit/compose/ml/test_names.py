"""Names of composed objects: DNS-safe, at most 63 characters, stable, and never shared."""

from __future__ import annotations

import re
from typing import Any

import pytest

from modelplane_core.compose import model_replica
from modelplane_core.compose.model_endpoint import backend_service_name
from modelplane_core.compose.workloads.cache_storage import (
    auth_secret_name,
    cache_pvc_name,
    hydration_job_name,
)
from modelplane_core.compose.workloads.replica_names import WORKLOAD_NAME_MAX, ReplicaNames
from tests.unit.compose.ml.fixtures import (
    cluster,
    engine,
    gang,
    inner,
    observe,
    pd_replica,
    replica,
    schema_problems,
)

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS_1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
LONG_NS = "n" * 63
LONG_REPLICA = "r" * 200 + ".and.dots"
LONG_ENGINE = "e" * 63


def all_names(composition: Any) -> list[tuple[str, str]]:
    """(kind, name) of every object a replica composes, including claim templates."""
    return [
        (inner(r.manifest)["kind"], inner(r.manifest)["metadata"]["name"])
        for r in composition.resources
    ]


def composed(namespace: str, name: str, **kwargs: Any) -> Any:
    rep = (
        pd_replica(name=name, namespace=namespace)
        if kwargs.pop("pd", False)
        else replica(engine(kwargs.pop("engine", "main"), *gang()), name=name, namespace=namespace)
    )
    return model_replica.compose(observe(rep, cluster=[cluster("cluster-a")]))


@pytest.mark.parametrize(
    ("namespace", "name", "engine_name"),
    [
        ("ml-team", "qwen", "main"),
        (LONG_NS, LONG_REPLICA, LONG_ENGINE),
        ("1team", "9lives", "0e"),
    ],
)
def test_every_sub_object_name_is_a_short_dns_label(
    namespace: str, name: str, engine_name: str
) -> None:
    names = ReplicaNames(namespace, name)
    for derived in (
        names.replica_id,
        names.route,
        names.pool,
        names.claim_template(engine_name, "Leader"),
        names.claim_template(engine_name, "Worker"),
    ):
        assert len(derived) <= 63, derived
        assert DNS_LABEL.match(derived), derived
    for dns1035 in (names.service, names.endpoint_picker, names.workload(engine_name)):
        assert len(dns1035) <= 63, dns1035
        assert DNS_1035.match(dns1035), dns1035
    assert len(names.workload(engine_name)) <= WORKLOAD_NAME_MAX


def test_long_names_compose_objects_that_validate() -> None:
    for pd in (False, True):
        out = composed(LONG_NS, LONG_REPLICA, engine=LONG_ENGINE, pd=pd)
        assert schema_problems(out) == []
        for kind, name in all_names(out):
            assert len(name) <= 63, (kind, name)


def test_names_are_stable_across_reconciles() -> None:
    assert all_names(composed("ml-team", "qwen")) == all_names(composed("ml-team", "qwen"))


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (("ml-team", "qwen-cluster-a-0"), ("ml-team", "qwen-cluster-a-1")),  # co-located replicas
        (("team-a", "qwen"), ("team-b", "qwen")),  # same replica name, two teams
        (("ml", "team-qwen"), ("ml-team", "qwen")),  # same joined text
        ((LONG_NS, LONG_REPLICA + "x"), (LONG_NS, LONG_REPLICA + "y")),  # differ past truncation
    ],
)
def test_no_two_replicas_share_any_object_name(a: tuple[str, str], b: tuple[str, str]) -> None:
    for pd in (False, True):
        first = set(all_names(composed(*a, pd=pd)))
        second = set(all_names(composed(*b, pd=pd)))
        assert first.isdisjoint(second)


def test_no_two_replicas_share_a_selector_label() -> None:
    first = ReplicaNames("team-a", "qwen")
    second = ReplicaNames("team-b", "qwen")
    assert first.replica_id != second.replica_id


def test_engines_of_one_replica_get_distinct_workloads_and_claims() -> None:
    names = ReplicaNames("ml-team", "qwen")
    assert names.workload("prefill") != names.workload("decode")
    assert names.claim_template("main", "Leader") != names.claim_template("main", "Worker")


def test_cache_object_names_are_labels_distinct_per_namespace() -> None:
    for build in (cache_pvc_name, hydration_job_name, auth_secret_name):
        a, b = build("team-a", "qwen"), build("team-b", "qwen")
        assert a != b
        long = build(LONG_NS, "c" * 253)
        assert len(long) <= 63
        assert DNS_LABEL.match(long)
    assert (
        len({cache_pvc_name("a", "b"), hydration_job_name("a", "b"), auth_secret_name("a", "b")})
        == 3
    )


def test_endpoint_backend_names_are_service_names() -> None:
    for endpoint in ("kimi-k2-together", "1st.provider", "x" * 253):
        name = backend_service_name(endpoint)
        assert len(name) <= 63, name
        assert DNS_1035.match(name), name
    assert backend_service_name("a.b") != backend_service_name("a-b")
