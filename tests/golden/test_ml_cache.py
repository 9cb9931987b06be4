"""Golden ModelCache compositions: staging the example cache on a two-cluster fleet."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from modelplane_core import api
from modelplane_core.compose import model_cache
from modelplane_core.compose.composition import Observed
from tests.golden_support import as_yaml, assert_golden
from tests.unit.compose.ml.fixtures import (
    cluster,
    example,
    observed_object,
    resolve,
    schema_problems,
)

SECRET = {
    "apiVersion": "v1",
    "kind": "Secret",
    "metadata": {"name": "hf-token", "namespace": "ml-team"},
    "data": {"HF_TOKEN": base64.b64encode(b"hf_example_not_a_token").decode()},
}
FLEET = [
    cluster("gke-us-east", storage_class="modelplane-rwx"),
    cluster("eks-us-west", storage_class="modelplane-rwx-efs"),
    cluster("byo-no-storage"),
]


def required(
    cache: api.ModelCache, live: Mapping[str, Any] | None = None
) -> dict[str, tuple[Mapping[str, Any], ...]]:
    """The cache's requirements resolved against the fleet and its Secret, as Crossplane does."""
    staged = [k.removeprefix("pvc-") for k in live or {} if k.startswith("pvc-")]
    return resolve(model_cache.requirements(cache, staged), [*FLEET, SECRET])


def test_first_pass_stages_on_every_rwx_cluster() -> None:
    cache = example("concepts", "model-cache.yaml")
    composition = model_cache.compose(Observed(composite=cache, required=required(cache)))
    assert schema_problems(composition) == []
    assert_golden("ml/cache-first-pass", as_yaml(api.to_dict(cache), composition.to_dict()))


def test_one_cluster_staged_one_hydrating() -> None:
    cache = example("concepts", "model-cache.yaml")
    first = model_cache.compose(Observed(composite=cache, required=required(cache)))
    live = {}
    for resource in first.resources:
        staged = resource.key.endswith("gke-us-east")
        if resource.key.startswith("pvc-"):
            live[resource.key] = observed_object(
                resource.manifest, applied_status={"phase": "Bound"}
            )
        elif resource.key.startswith("hydrate-"):
            conditions = [{"type": "Complete", "status": "True"}] if staged else []
            live[resource.key] = observed_object(
                resource.manifest, ready=staged, applied_status={"conditions": conditions}
            )
        else:
            live[resource.key] = observed_object(resource.manifest)
    composition = model_cache.compose(
        Observed(composite=cache, required=required(cache, live), resources=live)
    )
    assert schema_problems(composition) == []
    assert_golden("ml/cache-partial", as_yaml(composition.to_dict()))
