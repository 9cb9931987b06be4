"""``modelplane version``: print the installed version."""

from __future__ import annotations

import argparse
from typing import Any

from modelplane_core import __version__


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "version", help="print the modelplane version"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    print(f"modelplane {__version__}")
    return 0
