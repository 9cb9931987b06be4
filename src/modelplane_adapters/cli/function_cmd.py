"""``modelplane function serve``: run the Crossplane composition function.

Flags follow the Crossplane SDK's standard function options, environment
variables included, because Crossplane's function runtime configures the
container through them (it mounts the mTLS certificates and sets
``TLS_SERVER_CERTS_DIR``).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "function",
        help="run the Modelplane Crossplane composition function",
        description="The Modelplane composition function for Crossplane.",
    )
    commands = parser.add_subparsers(dest="function_command", metavar="COMMAND")
    serve = commands.add_parser(
        "serve",
        help="serve the composition function over gRPC",
        description=(
            "Serve the composition function over gRPC (RunFunction, v1 and v1beta1) for "
            "every Modelplane kind. Crossplane runs this with mTLS; use --insecure locally."
        ),
    )
    serve.add_argument(
        "--address",
        default=os.environ.get("ADDRESS") or None,
        help="address to listen on (env ADDRESS; default 0.0.0.0:9443 with mTLS, "
        "127.0.0.1:9443 with --insecure)",
    )
    serve.add_argument(
        "--insecure",
        action="store_true",
        default=_env_flag("INSECURE"),
        help="serve plaintext gRPC without mTLS, for local use (env INSECURE); "
        "conflicts with --tls-certs-dir",
    )
    serve.add_argument(
        "--tls-certs-dir",
        "--tls-server-certs-dir",
        dest="tls_certs_dir",
        default=os.environ.get("TLS_SERVER_CERTS_DIR") or None,
        metavar="DIR",
        help="directory holding tls.crt, tls.key and ca.crt (env TLS_SERVER_CERTS_DIR)",
    )
    serve.add_argument(
        "--max-recv-message-size",
        type=int,
        default=None,
        metavar="MB",
        help="largest request accepted, in MB (env MAX_RECV_MESSAGE_SIZE; default 4)",
    )
    serve.add_argument(
        "-d", "--debug", action="store_true", default=_env_flag("DEBUG"), help="debug logs"
    )
    serve.set_defaults(handler=run_serve)
    parser.set_defaults(handler=lambda _args: _usage(parser))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def run_serve(args: argparse.Namespace) -> int:
    # gRPC and the SDK load only when serving, so other commands stay fast.
    from modelplane_adapters.crossplane.server import ServeError, serve

    size = args.max_recv_message_size
    if size is None:
        raw = os.environ.get("MAX_RECV_MESSAGE_SIZE", "4")
        if not raw.strip().isdigit():
            print(
                f"modelplane function serve: MAX_RECV_MESSAGE_SIZE={raw!r} is not a number of MB",
                file=sys.stderr,
            )
            return 2
        size = int(raw)
    try:
        serve(
            args.address,
            insecure=args.insecure,
            tls_certs_dir=args.tls_certs_dir,
            debug=args.debug,
            max_recv_mb=size,
        )
    except ServeError as exc:
        print(f"modelplane function serve: {exc}", file=sys.stderr)
        return 2
    return 0
