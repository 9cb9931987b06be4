"""Labels Modelplane puts on the pods and objects it composes on workload clusters.

Every replica of every team shares one workload namespace per cluster, so a
selector must never match another replica's pods: label values are derived
from the control-plane namespace *and* the replica name (see
:mod:`.replica_names`), never from the replica name alone.
"""

from __future__ import annotations

from typing import Final

# Every pod and object of one replica (handy for ``kubectl get -l``).
LABEL_REPLICA: Final = "modelplane.ai/replica"
# Pods that receive traffic (Standalone pods and gang leaders); what the
# replica's Service or InferencePool selects. Gang workers never carry it.
LABEL_SERVING: Final = "modelplane.ai/serving"
# The pods of one engine's Deployment; its selector, unique per engine.
LABEL_WORKLOAD: Final = "modelplane.ai/workload"
# The endpoint picker's pods.
LABEL_ENDPOINT_PICKER: Final = "modelplane.ai/endpoint-picker"
# Objects staged for a ModelCache.
LABEL_MODEL_CACHE: Final = "modelplane.ai/modelcache"
# The phase label llm-d's prefill and decode filters read.
LABEL_LLMD_ROLE: Final = "llm-d.ai/role"
