"""``modelplane convert FILE... --to template|engines``: rewrite ModelDeployments in one layout.

Both layouts mean the same deployment (see ``docs/compatibility.md``): the
seeds' puts the engines directly under ``spec``, the reference's v0.3 one
nests everything but ``replicas`` under ``spec.template``. Conversion moves
fields and nothing else: no defaults are filled in, other kinds and other
API groups pass through unchanged, and a document that is not a valid
ModelDeployment stops the conversion with every problem named, so nothing
half-converted is ever printed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from typing import Any

from modelplane_adapters.cli.manifests import InputError, SourceDocument, read_documents
from modelplane_core import api
from modelplane_core.api.deployment_layout import read_layout, write_layout
from modelplane_core.api.model_deployment import Layout
from modelplane_core.api.yamlio import dump_documents

KIND = "ModelDeployment"


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "convert",
        help="rewrite ModelDeployments between the seeds' and the v0.3 (spec.template) layout",
        description=(
            "Rewrite every ModelDeployment in the files in one layout and print the YAML "
            "stream: 'template' is the reference's v0.3 layout (spec.template.spec.engines, "
            "spec.template.metadata.labels), 'engines' the seeds' (spec.engines, "
            "spec.replicaLabels). Other documents pass through unchanged; YAML comments are "
            "not kept. Exit 0 on success, 1 when a ModelDeployment is invalid (nothing is "
            "printed), 2 when a file cannot be read or is not YAML."
        ),
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="YAML files ('-' for stdin)")
    parser.add_argument(
        "--to",
        required=True,
        choices=("template", "engines"),
        help="the layout to write: template (v0.3) or engines (the seeds')",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        documents = read_documents(args.files)
    except InputError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    converted: list[Any] = []
    failed = False
    for document in documents:
        result, problems = convert(document.data, args.to)
        for problem in problems:
            print(f"{_where(document)}: {problem}", file=sys.stderr)
        failed = failed or bool(problems)
        converted.append(result)
    if failed:
        return 1
    sys.stdout.write(dump_documents(converted))
    return 0


def convert(data: Any, layout: Layout) -> tuple[Any, list[str]]:
    """``data`` in ``layout`` if it is a ModelDeployment, else unchanged; and its problems."""
    if not _is_deployment(data):
        return data, []
    try:
        deployment = api.from_dict(data)
    except api.ValidationError as exc:
        return data, [str(e) for e in exc.errors]
    problems = [str(e) for e in api.validate(deployment)]
    if problems:
        return data, problems
    seeds, _ = read_layout(data)
    return write_layout(seeds, layout), []


def _is_deployment(data: Any) -> bool:
    return (
        isinstance(data, Mapping)
        and data.get("apiVersion") == api.API_VERSION
        and data.get("kind") == KIND
    )


def _where(document: SourceDocument) -> str:
    return f"{document.source}:{document.line}: {document.describe()}"
