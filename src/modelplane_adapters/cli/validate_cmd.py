"""``modelplane validate FILE...``: every problem in every manifest, before a cluster sees it."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from modelplane_adapters.cli.manifests import InputError, SourceDocument, read_documents
from modelplane_core import api
from modelplane_core.demo import fleet_yaml

DEMO = "<demo fleet>"


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "validate",
        help="check Modelplane manifests against the API, reporting every problem",
        description=(
            "Validate Modelplane manifests. Exit 0 when every object is valid, 1 when any "
            "has problems (each printed as 'FILE: Kind namespace/name: path: message'), "
            "2 when a file cannot be read or is not YAML. Objects of other API groups "
            "are skipped."
        ),
    )
    parser.add_argument("files", nargs="*", metavar="FILE", help="YAML files ('-' for stdin)")
    parser.add_argument("--demo", action="store_true", help="validate the built-in demo fleet")
    parser.add_argument("-o", "--output", choices=("text", "json"), default="text")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if not args.files and not args.demo:
        print("modelplane validate: give one or more FILEs, or --demo", file=sys.stderr)
        return 2
    try:
        documents = read_documents(args.files)
    except InputError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    if args.demo:
        documents += [
            SourceDocument(source=DEMO, line=d.line, data=d.data)
            for d in api.parse_documents(fleet_yaml())
        ]
    results = [_check(document) for document in documents]
    problems = [p for result in results for p in result["problems"]]
    if args.output == "json":
        print(json.dumps({"objects": results, "valid": not problems}, indent=2))
    else:
        for result in results:
            for problem in result["problems"]:
                print(f"{result['file']}: {result['object']}: {problem}")
        checked = sum(1 for r in results if not r["skipped"])
        invalid = sum(1 for r in results if r["problems"])
        skipped = len(results) - checked
        note = f", {skipped} of other API groups skipped" if skipped else ""
        verdict = f"{invalid} invalid" if invalid else "all valid"
        print(f"{checked} Modelplane objects checked{note}: {verdict}", file=sys.stderr)
    return 1 if problems else 0


def _check(document: SourceDocument) -> dict[str, Any]:
    result: dict[str, Any] = {
        "file": document.source,
        "line": document.line,
        "object": document.describe(),
        "skipped": False,
        "problems": [],
    }
    try:
        obj = api.decode(document.data)
    except api.ValidationError as exc:
        result["problems"] = [str(e) for e in exc.errors]
        return result
    if isinstance(obj, api.Unstructured):
        result["skipped"] = True
        return result
    result["problems"] = [str(e) for e in api.validate(obj)]
    return result
