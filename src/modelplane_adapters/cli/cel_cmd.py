"""``modelplane cel check|match``: debug a DRA selector before a deployment uses it.

``check`` answers "would Kubernetes accept this selector?" (with the error
position and the estimated cost); ``match`` answers "which of my devices does
it select, and why not the others?" against the InferenceClasses in files.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from modelplane_adapters.cli.manifests import (
    InputError,
    add_input_arguments,
    demo_documents,
    input_paths,
    read_documents,
)


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "cel",
        help="check a DRA CEL selector, or match it against InferenceClass devices",
        description="Debug Kubernetes DRA CEL device selectors the way the scheduler uses them.",
    )
    actions = parser.add_subparsers(dest="cel_command", metavar="ACTION")
    check = actions.add_parser(
        "check",
        help="compile EXPR: ok with its estimated cost, or the error and its position",
        description="Exit 0 when EXPR compiles, 1 when Kubernetes would reject it.",
    )
    check.add_argument("expression", metavar="EXPR")
    check.add_argument("-o", "--output", choices=("text", "json"), default="text")
    check.set_defaults(handler=run_check)
    match = actions.add_parser(
        "match",
        help="evaluate EXPR on every InferenceClass device in FILEs (or the demo fleet)",
        description=(
            "Evaluate EXPR against every device of every InferenceClass in the files and "
            "print matched, not matched, or error with the reason. Exit 0 when at least one "
            "device matches, 1 when none does or EXPR does not compile, 2 on unreadable input."
        ),
    )
    match.add_argument("expression", metavar="EXPR")
    add_input_arguments(match)
    match.add_argument(
        "--demo", action="store_true", help="match the built-in demo fleet's InferenceClasses"
    )
    match.add_argument("-o", "--output", choices=("text", "json"), default="text")
    match.set_defaults(handler=run_match)
    parser.set_defaults(handler=lambda _args: _usage(parser))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _compile(expression: str, output: str) -> Any:
    from modelplane_core import cel

    try:
        return cel.compile(expression)
    except cel.CompileError as exc:
        if output == "json":
            print(
                json.dumps(
                    {"ok": False, "error": exc.message, "line": exc.line, "column": exc.column}
                )
            )
        else:
            print(f"error: {exc}", file=sys.stderr)
            print(exc.pointer(expression), file=sys.stderr)
        return None


def run_check(args: argparse.Namespace) -> int:
    selector = _compile(args.expression, args.output)
    if selector is None:
        return 1
    if args.output == "json":
        print(json.dumps({"ok": True, "estimatedCost": selector.cost}))
    else:
        print(f"ok (estimated cost {selector.cost})")
    return 0


def run_match(args: argparse.Namespace) -> int:
    from modelplane_core import api

    paths = input_paths(args)
    if not paths and not args.demo:
        print("modelplane cel match: give FILEs (or -f PATH), or --demo", file=sys.stderr)
        return 2
    try:
        documents = read_documents(paths, recursive=args.recursive)
        if args.demo:
            documents += demo_documents()
    except InputError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    selector = _compile(args.expression, args.output)
    if selector is None:
        return 1
    rows: list[dict[str, Any]] = []
    for document in documents:
        try:
            obj = api.decode(document.data)
        except api.ValidationError as exc:
            print(f"{document.source}: {document.describe()}: skipped: {exc}", file=sys.stderr)
            continue
        if not isinstance(obj, api.InferenceClass):
            continue
        for device in obj.spec.devices:
            outcome = selector.evaluate(device)
            verdict = "error" if outcome.error else "matched" if outcome.matched else "not matched"
            rows.append(
                {
                    "inferenceClass": obj.metadata.name,
                    "device": device.name,
                    "driver": device.driver,
                    "result": verdict,
                    "reason": outcome.error,
                }
            )
    if args.output == "json":
        print(json.dumps({"devices": rows}, indent=2))
    else:
        for row in rows:
            reason = f" ({row['reason']})" if row["reason"] else ""
            print(f"{row['inferenceClass']}/{row['device']}: {row['result']}{reason}")
        if not rows:
            print("no InferenceClass devices found in the files", file=sys.stderr)
    return 0 if any(r["result"] == "matched" for r in rows) else 1
