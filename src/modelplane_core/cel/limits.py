"""The size limits the cost bound rests on, and the limits Kubernetes enforces.

Kubernetes rejects a selector whose *estimated* worst-case cost exceeds
1,000,000 units, estimating sizes from the DRA API's own limits. The same
bound holds here only if devices respect the same limits, so the device
activation enforces them too (``activation.py``): a device larger than these
limits is reported as an evaluation error instead of running unbounded.
"""

from __future__ import annotations

# k8s.io/dynamic-resource-allocation: resource.CELSelectorExpressionMaxLength / MaxCost.
MAX_EXPRESSION_BYTES = 10 * 1024
MAX_COST = 1_000_000
# cel-go's common.StringTraversalCostFactor: cost units per character or element traversed
# or built, in the estimate (checker.py) and at run time (meter.py) alike.
TRAVERSAL_FACTOR = 0.1
# cel-go's parser.MaxRecursionDepth default, which Kubernetes keeps (see nesting.py).
MAX_PARSER_RECURSION = 250

# Per device, as the Modelplane API allows (api/devices.py): attributes and capacity entries.
MAX_ATTRIBUTES = 32
MAX_CAPACITIES = 32
# Longest string a device can hold: qualified names and string attribute values.
MAX_STRING = 253
