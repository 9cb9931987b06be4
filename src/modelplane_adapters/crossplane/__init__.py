"""Modelplane on Crossplane: one composition function for every kind, and its package.

Crossplane core drives reconciliation and providers reach the clusters; this
adapter only translates. A ``RunFunctionRequest`` becomes the core's
:class:`~modelplane_core.compose.Observed`, the core composer for the
composite's kind decides, and its :class:`~modelplane_core.compose.Composition`
becomes the ``RunFunctionResponse``. Nothing here makes a placement or
composition decision, so the same core runs unchanged behind the gRPC server
(:mod:`.server`), the offline ``modelplane render`` loop (:mod:`.render`) and
the tests.

Modules:

* :mod:`.structs` — protobuf ``Struct`` <-> plain data, with exact integers.
* :mod:`.machinery` — what Crossplane adds to an observed XR, and its removal.
* :mod:`.admission` — the XRD schema's limits, checked as the API server would.
* :mod:`.translate` — request -> ``Observed`` and ``Composition`` -> response.
* :mod:`.function` — the servicer: dispatch, and Fatal results instead of crashes.
* :mod:`.server` — ``modelplane function serve``.
* :mod:`.render` — ``modelplane render``: the function path without gRPC.
* :mod:`.xrd`, :mod:`.composition`, :mod:`.package` — the installable package.
"""
