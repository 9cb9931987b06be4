"""Fixtures: the test API server on 127.0.0.1, the real ``kubernetes`` client, a controller."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

pytest.importorskip("kubernetes")

from kubernetes import client

from modelplane_adapters.controller.kinds import COMPOSED
from modelplane_adapters.controller.kube import Kube
from modelplane_adapters.controller.manager import Controller, Options
from modelplane_adapters.controller.manifests import crds
from tests.adapters.controller.apiserver import ApiServer, Resource

CLUSTER_SCOPED = {"GatewayClass", "ClusterProviderConfig"}


def serve_composed(server: ApiServer) -> None:
    """The composed kinds' CRDs, as their providers would install them (status included)."""
    for api_version, kind in COMPOSED:
        group, _, version = api_version.rpartition("/")
        if (group, version, kind.lower() + "s") in server.resources or group == "":
            continue
        server.serve(
            Resource(group, version, kind, kind.lower() + "s", kind not in CLUSTER_SCOPED, True)
        )


@pytest.fixture
def apiserver() -> Iterator[ApiServer]:
    with ApiServer() as server:
        for crd in crds():
            server.put(crd)
        serve_composed(server)
        yield server


def kube_for(server: ApiServer, *, timeout: float = 5.0) -> Kube:
    configuration = client.Configuration(host=server.url)
    configuration.connection_pool_maxsize = 128
    return Kube(client.ApiClient(configuration), timeout=timeout)


@pytest.fixture
def kube(apiserver: ApiServer) -> Kube:
    return kube_for(apiserver)


class Running:
    """A controller on a thread; ``stop()`` shuts it down gracefully and returns its exit code."""

    def __init__(self, controller: Controller) -> None:
        self.controller = controller
        self.code: int | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        self.code = self.controller.run()

    def stop(self) -> int | None:
        self.controller.stop.set()
        self.thread.join(30)
        return self.code


@pytest.fixture
def start(apiserver: ApiServer) -> Iterator[Callable[..., Running]]:
    running: list[Running] = []

    def start_controller(**options: Any) -> Running:
        defaults: dict[str, Any] = {"workers": 2, "watch_seconds": 5, "resync": 30.0}
        controller = Controller(kube_for(apiserver), Options(**{**defaults, **options}))
        run = Running(controller)
        running.append(run)
        return run

    yield start_controller
    for run in running:
        run.stop()


def wait_for(predicate: Callable[[], Any], timeout: float = 30.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what or predicate}")


def converged(server: ApiServer, controller: Controller) -> bool:
    """Nothing left to happen: every informer handled the newest event of its kind, and
    the queue holds nothing (no key queued, in flight, or waiting for a retry)."""
    with server.lock:
        version = server.version
        latest = {(r.api_version, r.kind): server.latest(r) for r in server.resources.values()}
    if not controller.started.is_set() or not controller.queue.drained:
        return False
    for kind, informer in list(controller.informers.items()):
        if int(informer.handled or 0) < latest.get(kind, 0):
            return False
    # Nothing was written meanwhile (a reconcile that ended between the checks).
    return controller.queue.drained and server.version == version


def settled(server: ApiServer, run: Running | Controller, timeout: float = 60.0) -> None:
    """Wait until the controller has nothing left to do."""
    controller = run.controller if isinstance(run, Running) else run
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if converged(server, controller):
            return
        time.sleep(0.02)
    raise AssertionError("the controller did not settle")
