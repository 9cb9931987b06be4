"""``modelplane render XR.yaml``: what the composition function would answer, offline.

The offline equivalent of ``crossplane render``: the same request translation,
composer and response translation as the running function, plus Crossplane's
side of the required-resources handshake. Exit status: 0 rendered, 1 the
function answered with a Fatal result (or its requirements never settled),
2 the inputs could not be read.

Manifests written by hand have no status, but a ModelDeployment schedules
onto what its InferenceClusters publish. As ``modelplane schedule`` does,
every required InferenceCluster without ``status.gpuPools`` gets the pools its
InferenceClasses (also given with ``--required``) would publish and counts as
Ready, with the provider config its composer would publish (what ModelCaches
and ModelReplicas target it through); a note on stderr says so, and what could
not be derived.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from typing import Any

from modelplane_adapters.cli.manifests import (
    DEMO,
    InputError,
    SourceDocument,
    demo_documents,
    read_documents,
    shorten,
)

DEMO_COMPOSITE = ("ModelDeployment", "ml-team", "chat")


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
            "again, as Crossplane does. InferenceClusters without a status get the pools of "
            "their InferenceClasses and count as Ready, as in 'modelplane schedule'. Exit 0 "
            "rendered, 1 Fatal result or unsettled requirements, 2 unreadable input."
        ),
    )
    parser.add_argument(
        "composite",
        nargs="?",
        metavar="XR.yaml",
        help="the composite resource ('-': stdin); with --demo, the demo's ModelDeployment chat",
    )
    parser.add_argument(
        "--observed",
        nargs="+",
        action="extend",
        default=[],
        metavar="PATH",
        help="observed composed resources (files or directories), keyed by their "
        "crossplane.io/composition-resource-name annotation",
    )
    parser.add_argument(
        "--required",
        nargs="+",
        action="extend",
        default=[],
        metavar="PATH",
        help="objects (files or directories) the function's required-resource selectors may match",
    )
    parser.add_argument(
        "-R", "--recursive", action="store_true", help="also read subdirectories of directories"
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="use the built-in demo fleet as --required objects (and its ModelDeployment "
        "ml-team/chat as the composite when XR.yaml is not given)",
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
    from modelplane_adapters.crossplane.structs import StructError, json_ready

    if args.composite is None and not args.demo:
        print("modelplane render: give XR.yaml, or --demo", file=sys.stderr)
        return 2
    try:
        demo = demo_documents() if args.demo else []
        if args.composite is None:
            composite_docs = [_demo_composite(demo)]
        else:
            composite_docs = read_documents([args.composite])
        observed_docs = read_documents(args.observed, recursive=args.recursive)
        required_docs = read_documents(args.required, recursive=args.recursive) + demo
        for document in (*composite_docs, *observed_docs, *required_docs):
            try:
                json_ready(document.data)
            except StructError as exc:
                raise InputError(f"{document.where}: {exc}") from exc
        composite = _single_composite(composite_docs, args.composite or DEMO)
        observed = rendering.observed_by_key(_mappings(observed_docs))
        available = tuple(_with_derived_status(_mappings(required_docs)))
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


def _demo_composite(demo: list[SourceDocument]) -> SourceDocument:
    kind, namespace, name = DEMO_COMPOSITE
    for document in demo:
        metadata = document.data.get("metadata", {})
        if (document.data.get("kind"), metadata.get("namespace"), metadata.get("name")) == (
            kind,
            namespace,
            name,
        ):
            return document
    raise InputError(f"{DEMO}: no {kind} {namespace}/{name}")  # the demo fleet is ours


def _with_derived_status(manifests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Required objects, InferenceClusters without published pools given them (see module doc)."""
    import attrs

    from modelplane_core import api
    from modelplane_core.compose.inference_cluster import provider_config_name
    from modelplane_core.simulation import publish

    decoded: list[Any] = []
    for manifest in manifests:
        try:
            decoded.append(api.decode(manifest))
        except api.ValidationError:
            decoded.append(None)  # passed on as written: the composer reports it
    classes = {o.metadata.name or "": o for o in decoded if isinstance(o, api.InferenceClass)}
    out: list[dict[str, Any]] = []
    derived: list[str] = []
    for manifest, obj in zip(manifests, decoded, strict=True):
        if not isinstance(obj, api.InferenceCluster) or (
            obj.status is not None and obj.status.gpu_pools is not None
        ):
            out.append(manifest)
            continue
        published, notices = publish(obj, classes)
        if published.status is not None and published.status.provider_config_ref is None:
            # What the cluster's composer publishes once it can reach the cluster: the
            # ModelCache and ModelReplica composers target the cluster through it.
            reference = api.ProviderConfigReference(
                name=provider_config_name(obj.metadata.name or "")
            )
            published = attrs.evolve(
                published, status=attrs.evolve(published.status, provider_config_ref=reference)
            )
        name = shorten(obj.metadata.name or "")
        derived.append(name)
        for notice in notices:
            print(
                f"modelplane render: note: InferenceCluster {name}: {notice.message}",
                file=sys.stderr,
            )
        out.append(api.to_dict(published))
    if derived:
        print(
            f"modelplane render: note: InferenceClusters without a status ({', '.join(derived)}) "
            "get the pools of their InferenceClasses from --required and count as Ready, as "
            "in 'modelplane schedule'; give them a status to render against it instead",
            file=sys.stderr,
        )
    return out


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
            raise InputError(f"{document.where}: expected an object")
        out.append(dict(document.data))
    return out


def _context(path: str | None) -> dict[str, Any]:
    if path is None:
        return {}
    documents = read_documents([path])
    if len(documents) != 1 or not isinstance(documents[0].data, Mapping):
        raise InputError(f"{path}: the context must be a single YAML mapping")
    return dict(documents[0].data)
