"""The standalone controller: the shared reconcile engine on the Kubernetes API.

``modelplane controller run`` (:mod:`modelplane_adapters.cli.controller_cmd`)
runs :class:`~.manager.Controller`; docs/controller.md explains how it differs
from the Crossplane path.
"""
