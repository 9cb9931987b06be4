"""``modelplane package build OUTDIR``: the Crossplane package, generated from the code."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from modelplane_core import __version__


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "package",
        help="build the Crossplane package (XRDs, Compositions, function, Configuration)",
        description="Generate the Modelplane Crossplane packages from the API types.",
    )
    commands = parser.add_subparsers(dest="package_command", metavar="COMMAND")
    build = commands.add_parser(
        "build",
        help="write the Configuration and Function package trees to OUTDIR",
        description=(
            "Write OUTDIR/configuration (crossplane.yaml with its dependencies, one XRD and "
            "one Pipeline Composition per kind), OUTDIR/function (package metadata and the "
            "Dockerfile of the function image), OUTDIR/install (objects to kubectl apply), "
            "OUTDIR/README.md (how to build, push and install) and OUTDIR/controller (the "
            "standalone controller: CRDs, RBAC, Deployment, Dockerfile)."
        ),
    )
    build.add_argument("outdir", metavar="OUTDIR", type=Path)
    build.add_argument(
        "--registry",
        default=None,
        help="registry and organisation the packages are pushed to "
        "(default xpkg.upbound.io/modelplane)",
    )
    build.add_argument(
        "--version",
        dest="package_version",
        default=__version__,
        help=f"package version (default {__version__}, the installed modelplane)",
    )
    build.set_defaults(handler=run_build)
    parser.set_defaults(handler=lambda _args: _usage(parser))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _controller(outdir: Path, registry: str, version: str) -> list[Path]:
    """The standalone controller's flavour: OUTDIR/controller (CRDs, RBAC, Deployment)."""
    from modelplane_adapters.controller.manifests import write_controller

    return write_controller(outdir, registry=registry, version=version)


def run_build(args: argparse.Namespace) -> int:
    # The generator imports the SDK-free package modules only; still, load them on demand.
    from modelplane_adapters.crossplane.package import (
        DEFAULT_REGISTRY,
        write_package,
    )

    registry = args.registry or DEFAULT_REGISTRY
    try:
        written = write_package(args.outdir, registry=registry, version=args.package_version)
        written += _controller(args.outdir, registry, args.package_version)
    except OSError as exc:
        print(f"modelplane package build: cannot write {args.outdir}: {exc}", file=sys.stderr)
        return 2
    for path in written:
        print(path)
    print(f"{len(written)} files written under {args.outdir}", file=sys.stderr)
    return 0
