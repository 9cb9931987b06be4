"""``modelplane validate FILE...``: every problem in every manifest, before a cluster sees it.

The checks are the API's and each kind's composer's own (``compose.preflight``):
a manifest that passes here is not refused later for a selector that does not
compile or a version DRA cannot parse.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from modelplane_adapters.cli.manifests import (
    DEMO,
    InputError,
    SourceDocument,
    add_input_arguments,
    demo_documents,
    input_paths,
    read_documents,
)


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "validate",
        help="check Modelplane manifests as the API and the composers would, reporting every "
        "problem",
        description=(
            "Validate Modelplane manifests with the API's rules and the checks each kind's "
            "composer makes (selectors compile, device values parse as DRA reads them, pools "
            "can be provisioned with their classes). Exit 0 when every object is valid, 1 when "
            "any has problems (each printed as 'FILE: Kind namespace/name: path: message') or "
            "no Modelplane object was found, 2 when a file cannot be read or is not YAML. "
            "Objects of other API groups are skipped."
        ),
    )
    add_input_arguments(parser)
    parser.add_argument("--demo", action="store_true", help="validate the built-in demo fleet")
    parser.add_argument("-o", "--output", choices=("text", "json"), default="text")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    paths = input_paths(args)
    if not paths and not args.demo:
        print(
            "modelplane validate: give one or more FILEs (or -f PATH), or --demo", file=sys.stderr
        )
        return 2
    try:
        documents = read_documents(paths, recursive=args.recursive)
    except InputError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    if args.demo:
        documents += demo_documents()
    results = check_documents(documents)
    problems = [p for result in results for p in result["problems"]]
    checked = sum(1 for r in results if not r["skipped"])
    if args.output == "json":
        report: dict[str, Any] = {"objects": results, "valid": bool(checked) and not problems}
        if not checked:
            report["error"] = _nothing_found(paths, len(results))
        print(json.dumps(report, indent=2))
    else:
        for result in results:
            for problem in result["problems"]:
                print(f"{result['file']}: {result['object']}: {problem}")
        if not checked:
            print(f"modelplane validate: {_nothing_found(paths, len(results))}", file=sys.stderr)
        else:
            invalid = sum(1 for r in results if r["problems"])
            skipped = len(results) - checked
            note = f", {skipped} of other API groups skipped" if skipped else ""
            verdict = f"{invalid} invalid" if invalid else "all valid"
            print(f"{checked} Modelplane objects checked{note}: {verdict}", file=sys.stderr)
    return 1 if problems or not checked else 0


def _nothing_found(paths: list[str], documents: int) -> str:
    where = ", ".join(paths) or DEMO
    if documents:
        return (
            f"no Modelplane objects in {where}: {documents} documents, all of other API groups "
            "(apiVersion modelplane.ai/... is what is checked)"
        )
    return f"no Modelplane objects in {where}: the input has no YAML documents"


def check_documents(documents: list[SourceDocument]) -> list[dict[str, Any]]:
    """One result per document: the object, whether it was skipped, and every problem."""
    from modelplane_core import api
    from modelplane_core.compose import preflight

    decoded: list[Any] = []
    for document in documents:
        try:
            decoded.append(api.decode(document.data))
        except api.ValidationError as exc:
            decoded.append(exc)
    classes = {
        obj.metadata.name or "": obj for obj in decoded if isinstance(obj, api.InferenceClass)
    }
    results = []
    for document, obj in zip(documents, decoded, strict=True):
        result: dict[str, Any] = {
            "file": document.source,
            "line": document.line,
            "object": document.describe(),
            "skipped": isinstance(obj, api.Unstructured),
            "problems": [],
        }
        if isinstance(obj, api.ValidationError):
            result["problems"] = [str(e) for e in obj.errors]
        else:
            result["problems"] = [str(e) for e in preflight.problems(obj, classes=classes)]
        results.append(result)
    return results
