"""``modelplane render XR.yaml``: what the composition function would answer, offline.

The offline equivalent of ``crossplane render``: the same request translation,
composer and response translation as the running function, plus Crossplane's
side of the required-resources handshake. Exit status: 0 rendered, 1 the
function answered with a Fatal result (or its requirements never settled),
2 the inputs could not be read.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from typing import Any

from modelplane_adapters.cli.manifests import InputError, SourceDocument, read_documents


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "render",
        help="print what the composition function composes for a composite (like crossplane "
        "render)",
        description=(
            "Run the Modelplane composition function locally for the composite in XR.yaml and "
            "print the desired composite status, conditions, events, requirements and desired "
            "resources (with readiness) as YAML. Requirements the function returns are "
            "resolved against the objects given with --required, and the function is called "
            "again, as Crossplane does. Exit 0 rendered, 1 Fatal result or unsettled "
            "requirements, 2 unreadable input."
        ),
    )
    parser.add_argument("composite", metavar="XR.yaml", help="the composite resource ('-': stdin)")
    parser.add_argument(
        "--observed",
        nargs="+",
        action="extend",
        default=[],
        metavar="FILE",
        help="observed composed resources, keyed by their "
        "crossplane.io/composition-resource-name annotation",
    )
    parser.add_argument(
        "--required",
        nargs="+",
        action="extend",
        default=[],
        metavar="FILE",
        help="objects the function's required-resource selectors may match",
    )
    parser.add_argument("--context", metavar="FILE", help="pipeline context (a YAML mapping)")
    parser.add_argument(
        "--max-calls",
        type=int,
        default=None,
        metavar="N",
        help="stop the required-resources handshake after N calls (default 6, as Crossplane)",
    )
    parser.add_argument(
        "--address",
        metavar="HOST:PORT",
        help="call a running function (modelplane function serve --insecure) instead of "
        "running it in-process",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    # The SDK and protobuf load only for this command, so `modelplane version` stays fast.
    from modelplane_adapters.crossplane import render as rendering

    try:
        composite = _single_composite(read_documents([args.composite]), args.composite)
        observed = rendering.observed_by_key(_mappings(read_documents(args.observed)))
        available = tuple(_mappings(read_documents(args.required)))
        context = _context(args.context)
    except (InputError, rendering.RenderInputError) as exc:
        print(f"modelplane render: {exc}", file=sys.stderr)
        return 2
    inputs = rendering.RenderInputs(
        composite=composite, observed=observed, available=available, context=context
    )
    max_calls = rendering.DEFAULT_MAX_CALLS if args.max_calls is None else args.max_calls
    try:
        if args.address:
            result = rendering.render_remote(inputs, args.address, max_calls=max_calls)
        else:
            result = rendering.render(inputs, max_calls=max_calls)
    except rendering.RenderCallError as exc:
        print(f"modelplane render: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(result.to_yaml())
    if not result.stable:
        print(
            f"modelplane render: the function's requirements were still changing after "
            f"{result.calls} calls",
            file=sys.stderr,
        )
        return 1
    return 1 if result.fatal else 0


def _single_composite(documents: list[SourceDocument], source: str) -> dict[str, Any]:
    mappings = [d for d in documents if isinstance(d.data, Mapping)]
    if len(documents) != 1 or len(mappings) != 1:
        raise InputError(
            f"{source}: expected exactly one composite resource, found {len(documents)} documents"
        )
    return dict(mappings[0].data)


def _mappings(documents: list[SourceDocument]) -> list[dict[str, Any]]:
    out = []
    for document in documents:
        if not isinstance(document.data, Mapping):
            raise InputError(f"{document.source}:{document.line}: expected an object")
        out.append(dict(document.data))
    return out


def _context(path: str | None) -> dict[str, Any]:
    if path is None:
        return {}
    documents = read_documents([path])
    if len(documents) != 1 or not isinstance(documents[0].data, Mapping):
        raise InputError(f"{path}: the context must be a single YAML mapping")
    return dict(documents[0].data)
