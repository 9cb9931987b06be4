"""End to end against a real cluster, opt-in: set KUBECONFIG (a throwaway kind cluster)."""

from __future__ import annotations

import os
import threading
import time

import pytest

pytestmark = pytest.mark.skipif(
    not os.environ.get("KUBECONFIG"), reason="set KUBECONFIG to run against a real cluster"
)


def test_an_inference_class_is_reconciled_on_a_real_cluster() -> None:
    from modelplane_adapters.cli.controller_cmd import connect
    from modelplane_adapters.controller.kube import APPLY
    from modelplane_adapters.controller.manager import Controller, Options
    from modelplane_adapters.controller.manifests import crds

    kube = connect(os.environ["KUBECONFIG"], None)
    for crd in crds():
        kube.request(
            "PATCH",
            f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{crd['metadata']['name']}",
            query={"fieldManager": "modelplane-e2e", "force": "true"},
            body=crd,
            content_type=APPLY,
        )
    time.sleep(3)  # CRDs become served
    from tests.adapters.controller.test_controller import tour_objects

    name = f"e2e-{int(time.time())}"
    path = "/apis/modelplane.ai/v1alpha1/inferenceclasses"
    body = next(m for m in tour_objects() if m["kind"] == "InferenceClass")
    body["metadata"] = {"name": name}
    kube.request("POST", path, body=body)
    controller = Controller(kube, Options(workers=1))
    thread = threading.Thread(target=controller.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            obj = kube.request("GET", f"{path}/{name}")
            if (obj.get("status") or {}).get("observedGeneration") == obj["metadata"]["generation"]:
                break
            time.sleep(1)
        else:
            pytest.fail("the InferenceClass was not reconciled")
    finally:
        controller.stop.set()
        thread.join(30)
        kube.request("DELETE", f"{path}/{name}")
