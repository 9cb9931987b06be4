"""The controller's parts on their own: queue, metrics, logs, generated manifests, kind table."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

import yaml

from modelplane_adapters.cli.main import main
from modelplane_adapters.controller.kinds import COMPOSED, REQUIRED, watched_kinds
from modelplane_adapters.controller.manifests import crds, deployment
from modelplane_adapters.controller.observability import JsonFormatter, Metrics
from modelplane_adapters.controller.workqueue import WorkQueue
from modelplane_core import api
from modelplane_core.demo import tour_yaml
from modelplane_core.simulation import Simulation, parse_scenario
from tests.support import REPO_ROOT


def test_a_key_is_queued_once_and_never_processed_twice_at_once() -> None:
    queue: WorkQueue[str] = WorkQueue()
    queue.add("a")
    queue.add("a")
    assert len(queue) == 1
    assert queue.get(0.1) == "a"
    queue.add("a")  # changed while being processed
    assert queue.get(0.05) is None, "handed to a second worker"
    queue.done("a")
    assert queue.get(0.1) == "a"
    queue.done("a")
    assert queue.idle


def test_failures_back_off_exponentially_until_forgotten() -> None:
    queue: WorkQueue[str] = WorkQueue(base_delay=0.01, max_delay=0.04)
    delays = [queue.add_rate_limited("a") for _ in range(4)]
    assert delays == [0.01, 0.02, 0.04, 0.04]
    queue.forget("a")
    assert queue.add_rate_limited("a") == 0.01
    assert queue.get(1.0) == "a"


def test_shutdown_wakes_waiting_workers() -> None:
    queue: WorkQueue[str] = WorkQueue()
    got: list[str | None] = []
    worker = threading.Thread(target=lambda: got.append(queue.get()))
    worker.start()
    queue.shutdown()
    worker.join(5)
    assert got == [None]


def test_metrics_are_prometheus_text() -> None:
    metrics = Metrics()
    metrics.observe("ModelDeployment", "success", 0.02)
    metrics.observe("ModelDeployment", "error", 3.0)
    text = metrics.exposition()
    assert (
        'controller_runtime_reconcile_total{controller="modelplane",kind="ModelDeployment",'
        'result="error"} 1' in text
    )
    assert 'le="0.025"} 1' in text
    assert 'le="+Inf"} 2' in text
    assert "workqueue_depth" in text
    for line in text.splitlines():
        assert line.startswith("#") or len(line.rsplit(" ", 1)) == 2


def test_logs_are_one_json_object_per_line() -> None:
    record = logging.makeLogRecord(
        {
            "name": "modelplane",
            "levelname": "INFO",
            "msg": "reconciled %s",
            "args": ("x",),
            "object": "ModelDeployment a/b",
        }
    )
    entry = json.loads(JsonFormatter().format(record))
    assert entry["msg"] == "reconciled x"
    assert entry["object"] == "ModelDeployment a/b"


def test_the_crds_carry_the_xrd_schemas_and_the_status_subresource() -> None:
    generated = {c["spec"]["names"]["kind"]: c for c in crds()}
    assert set(generated) == {c.kind_info.kind for c in api.KINDS}
    for cls in api.KINDS:
        version = generated[cls.kind_info.kind]["spec"]["versions"][0]
        schema = version["schema"]["openAPIV3Schema"]
        assert schema["properties"]["spec"] == api.openapi_schema(cls)["properties"]["spec"]
        assert "observedGeneration" in schema["properties"]["status"]["properties"]
        assert "status" in version["subresources"]
    assert "scale" in generated["ModelDeployment"]["spec"]["versions"][0]["subresources"]


def test_the_deployment_listens_on_the_pod_ip_and_probes_health() -> None:
    container = deployment("example/controller:v1")["spec"]["template"]["spec"]["containers"][0]
    assert "--leader-elect" in container["args"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"


def test_every_kind_the_tour_composes_is_watched() -> None:
    simulation = Simulation.from_scenario(parse_scenario(tour_yaml()))
    simulation.run()
    table = set(watched_kinds())
    missing = {key[:2] for key in simulation.store} - table
    assert missing == set()


def test_every_kind_a_golden_composition_composes_is_watched() -> None:
    composed = set()
    for path in (REPO_ROOT / "tests" / "golden" / "expected").rglob("*.yaml"):
        for document in yaml.safe_load_all(path.read_text()):
            for resource in (
                (document or {}).get("resources") or () if isinstance(document, dict) else ()
            ):
                manifest = resource.get("manifest") if isinstance(resource, dict) else None
                if isinstance(manifest, dict):
                    composed.add((manifest["apiVersion"], manifest["kind"]))
    assert composed, "no golden compositions found"
    assert composed - set(watched_kinds()) == set()
    assert set(REQUIRED) <= set(watched_kinds())
    assert len(set(COMPOSED)) == len(COMPOSED)


def test_package_build_writes_the_controller_flavour(tmp_path: Path) -> None:
    assert main(["package", "build", str(tmp_path)]) == 0
    install = list(yaml.safe_load_all((tmp_path / "controller" / "install.yaml").read_text()))
    kinds = [d["kind"] for d in install if d]
    assert kinds == [
        "Namespace",
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "Role",
        "RoleBinding",
        "Deployment",
    ]
    assert len(
        list(yaml.safe_load_all((tmp_path / "controller" / "crds.yaml").read_text()))
    ) == len(api.KINDS)
