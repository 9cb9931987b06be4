"""Entry point of the ``modelplane`` command.

Each subcommand lives in its own module exposing ``register(subparsers)``; the
module adds its parser and sets ``handler`` to a function taking the parsed
arguments and returning the process exit code. Exit codes follow the usual
convention of linters and ``kubectl``: 0 success, 1 the input has problems the
command reported, 2 the command could not run (unreadable file, bad usage).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from types import ModuleType

from modelplane_core import __version__

# Each module keeps heavy imports (gRPC, celpy) inside its handlers, so building
# the parser stays cheap for `modelplane version`.
SUBCOMMANDS = (
    "validate_cmd",
    "convert_cmd",
    "cel_cmd",
    "schedule_cmd",
    "render_cmd",
    "function_cmd",
    "package_cmd",
    "simulate_cmd",
    "controller_cmd",
    "version_cmd",
    "completion_cmd",
)

# The extra that brings each optional top-level module, for a helpful message
# when a command needs one that is not installed.
EXTRAS = {
    "crossplane": "crossplane",
    "grpc": "crossplane",
    "google": "crossplane",
    "matplotlib": "plot",
    "kubernetes": "controller",
}


def _subcommand_modules() -> list[ModuleType]:
    return [importlib.import_module(f"modelplane_adapters.cli.{name}") for name in SUBCOMMANDS]


def build_parser() -> argparse.ArgumentParser:
    """Build the full argument parser; exposed for tests and shell completion."""
    parser = argparse.ArgumentParser(
        prog="modelplane",
        description="Modelplane: schedule and compose AI model replicas across a GPU fleet.",
    )
    parser.add_argument("--version", action="version", version=f"modelplane {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _subcommand_modules():
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return handler(args)
    except BrokenPipeError:  # `modelplane ... | head` is not an error
        return 0
    except KeyboardInterrupt:
        return 130
    except ModuleNotFoundError as exc:
        extra = EXTRAS.get((exc.name or "").split(".")[0])
        if extra is None:
            raise
        print(
            f"modelplane {args.command}: this command needs the '{extra}' extra "
            f"({exc.name} is not installed): pip install 'modelplane[{extra}]'",
            file=sys.stderr,
        )
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
