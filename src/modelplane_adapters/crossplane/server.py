"""Serving the function over gRPC with the SDK's runtime (``modelplane function serve``).

The SDK's ``runtime.serve`` does the real work: a ``grpc.aio`` server with the
v1 service, the v1beta1 service (for older Crossplane), reflection, and a
graceful stop on SIGTERM. Crossplane runs the function image with its mTLS
certificates mounted and ``TLS_SERVER_CERTS_DIR`` pointing at them; for local
use (``crossplane render``, ``modelplane render`` against a live server,
tests) ``--insecure`` serves plaintext.

The default listen address follows from that: with mTLS the function listens
on every interface (Crossplane calls it from another pod, and authenticates
with its client certificate); plaintext listens on loopback only unless an
address is given, as local development servers do, so ``--insecure`` never
exposes an unauthenticated port by accident. Asking for both plaintext and
certificates is an error rather than one silently winning.
"""

from __future__ import annotations

import logging
import sys
from typing import Final

from crossplane.function import logging as sdk_logging
from crossplane.function import runtime

from modelplane_adapters.crossplane.function import FunctionRunner

DEFAULT_ADDRESS: Final = "0.0.0.0:9443"  # mTLS, in a cluster
DEFAULT_INSECURE_ADDRESS: Final = "127.0.0.1:9443"  # plaintext, on this machine only
DEFAULT_MAX_MESSAGE_MB: Final = 4


class ServeError(ValueError):
    """The server cannot start as asked (no credentials and not --insecure, both, bad certs)."""


def grpc_options(max_recv_mb: int, max_send_mb: int | None = None) -> list[tuple[str, int]]:
    """Message size limits, and no SO_REUSEPORT.

    gRPC enables SO_REUSEPORT by default on Linux, so a second server on a busy
    port would start "successfully" and share the traffic; a function that
    cannot have its port should say so instead.
    """
    send = max_send_mb if max_send_mb is not None else max_recv_mb
    return [
        ("grpc.max_receive_message_length", max_recv_mb * 1024 * 1024),
        ("grpc.max_send_message_length", send * 1024 * 1024),
        ("grpc.so_reuseport", 0),
    ]


def default_address(insecure: bool) -> str:
    """Where to listen when no address is given (see the module doc)."""
    return DEFAULT_INSECURE_ADDRESS if insecure else DEFAULT_ADDRESS


def serve(
    address: str | None = None,
    *,
    insecure: bool = False,
    tls_certs_dir: str | None = None,
    debug: bool = False,
    max_recv_mb: int = DEFAULT_MAX_MESSAGE_MB,
    max_send_mb: int | None = None,
) -> None:
    """Serve until SIGTERM. Raises :class:`ServeError` when it cannot start."""
    if insecure and tls_certs_dir:
        raise ServeError(
            f"--insecure asks for plaintext, but TLS certificates are configured ({tls_certs_dir}, "
            "from --tls-certs-dir or TLS_SERVER_CERTS_DIR); use one or the other"
        )
    address = address or default_address(insecure)
    configure_logging(debug)
    creds = None
    if tls_certs_dir:
        try:
            creds = runtime.load_credentials(tls_certs_dir)
        except OSError as exc:
            raise ServeError(f"cannot load TLS certificates from {tls_certs_dir}: {exc}") from exc
    if creds is None and not insecure:
        raise ServeError(
            "no TLS certificates: pass --tls-certs-dir (or set TLS_SERVER_CERTS_DIR, as "
            "Crossplane does), or --insecure for local use"
        )
    mode = "insecure (plaintext)" if insecure else f"mTLS with certificates from {tls_certs_dir}"
    logging.getLogger("modelplane.function").info(
        "starting the Modelplane composition function on %s, %s", address, mode
    )
    try:
        runtime.serve(
            FunctionRunner(),
            address,
            creds=creds,
            insecure=insecure,
            options=grpc_options(max_recv_mb, max_send_mb),
        )
    except RuntimeError as exc:  # grpc reports a port it cannot bind this way
        if "bind" not in str(exc).lower():
            raise
        raise ServeError(f"cannot listen on {address}: {exc}") from exc


def configure_logging(debug: bool) -> None:
    """Log lines on stderr: the SDK's structured logs and ours."""
    sdk_logging.configure(level=sdk_logging.Level.DEBUG if debug else sdk_logging.Level.INFO)
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.DEBUG if debug else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
