"""``modelplane controller run``: the standalone controller on the Kubernetes API.

It runs the same reconcile engine as ``modelplane simulate`` (and the same
composers as the Crossplane function) against a real cluster: see
docs/controller.md. Exit status: 0 stopped by SIGTERM/SIGINT, 1 the leader
lease was lost (restart to campaign again), 2 it could not start (no
kubeconfig, bad flag).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
import uuid
from typing import Any

DEFAULT_HEALTH = "127.0.0.1:8081"
DEFAULT_METRICS = "127.0.0.1:8080"


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "controller",
        help="run the standalone Modelplane controller (no Crossplane needed)",
        description="The standalone Modelplane controller on the Kubernetes API.",
    )
    commands = parser.add_subparsers(dest="controller_command", metavar="COMMAND")
    run = commands.add_parser(
        "run",
        help="watch every Modelplane kind and reconcile it with the core composers",
        description=(
            "Watch every Modelplane kind and what it composes, and reconcile: compose, "
            "server-side apply the desired objects, delete those no longer desired, write "
            "status. Uses the in-cluster service account, or --kubeconfig / $KUBECONFIG."
        ),
    )
    run.add_argument(
        "--kubeconfig",
        metavar="FILE",
        help="kubeconfig file (default: in-cluster, then $KUBECONFIG or ~/.kube/config)",
    )
    run.add_argument("--context", help="kubeconfig context (default: the current one)")
    run.add_argument(
        "--namespace",
        default="",
        help="reconcile namespaced composites in this namespace only; everything is still "
        "watched cluster-wide, as composers read across namespaces (default: every namespace)",
    )
    run.add_argument(
        "--leader-elect",
        action="store_true",
        help="reconcile only while holding a coordination.k8s.io/v1 Lease (run several replicas)",
    )
    run.add_argument(
        "--lease-namespace",
        default=os.environ.get("POD_NAMESPACE") or "modelplane-system",
        help="namespace of the leader Lease (default: $POD_NAMESPACE or modelplane-system)",
    )
    run.add_argument(
        "--metrics-address",
        default=DEFAULT_METRICS,
        metavar="HOST:PORT",
        help=f"serve Prometheus /metrics here; '' disables (default {DEFAULT_METRICS})",
    )
    run.add_argument(
        "--health-address",
        default=DEFAULT_HEALTH,
        metavar="HOST:PORT",
        help=f"serve /healthz and /readyz here; '' disables (default {DEFAULT_HEALTH})",
    )
    run.add_argument(
        "--workers", type=int, default=2, metavar="N", help="concurrent reconciles (default 2)"
    )
    run.add_argument(
        "--resync",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="reconcile everything this often even without changes (default 300)",
    )
    run.add_argument("-d", "--debug", action="store_true", help="debug logs")
    run.set_defaults(handler=run_controller)
    parser.set_defaults(handler=lambda _args: _usage(parser))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def run_controller(args: argparse.Namespace) -> int:
    import logging

    from modelplane_adapters.controller.observability import configure_logging

    configure_logging(logging.DEBUG if args.debug else logging.INFO)
    if args.workers < 1:
        print("modelplane controller run: --workers must be at least 1", file=sys.stderr)
        return 2
    try:
        kube = connect(args.kubeconfig, args.context)
    except Exception as exc:
        print(
            f"modelplane controller run: cannot configure the Kubernetes client: {exc}",
            file=sys.stderr,
        )
        return 2
    from modelplane_adapters.controller.manager import Controller, Options

    identity = os.environ.get("POD_NAME") or f"{socket.gethostname()}_{uuid.uuid4().hex[:8]}"
    controller = Controller(
        kube,
        Options(
            namespace=args.namespace,
            workers=args.workers,
            resync=args.resync,
            leader_elect=args.leader_elect,
            lease_namespace=args.lease_namespace,
            identity=identity,
            metrics_address=args.metrics_address or None,
            health_address=args.health_address or None,
        ),
    )

    def stop(signum: int, _frame: object) -> None:
        logging.getLogger("modelplane.controller").info(
            "signal received: shutting down", extra={"signal": signal.Signals(signum).name}
        )
        controller.stop.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        return controller.run()
    except OSError as exc:  # a listen address in use or not ours
        print(f"modelplane controller run: {exc}", file=sys.stderr)
        return 2


def connect(kubeconfig: str | None, context: str | None) -> Any:
    """A :class:`Kube` from --kubeconfig, else in-cluster, else $KUBECONFIG / ~/.kube/config."""
    from kubernetes import client, config

    from modelplane_adapters.controller.kube import Kube

    configuration = client.Configuration()
    if kubeconfig:
        config.load_kube_config(
            config_file=kubeconfig, context=context, client_configuration=configuration
        )
    else:
        try:
            config.load_incluster_config(client_configuration=configuration)
        except config.ConfigException:
            config.load_kube_config(context=context, client_configuration=configuration)
    # One connection per watched kind plus the workers': urllib3's default pool is 10.
    configuration.connection_pool_maxsize = 128
    return Kube(client.ApiClient(configuration))
