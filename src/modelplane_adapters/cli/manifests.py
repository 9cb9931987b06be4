"""Reading manifest files for CLI commands, with errors a person can locate.

Inputs are given as kubectl takes them: files, directories (every ``.yaml``,
``.yml`` and ``.json`` file in them, in name order; ``-R`` descends into
subdirectories) and ``-`` for stdin, as positional arguments or with ``-f``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Final

import attrs

from modelplane_core import api

MANIFEST_SUFFIXES: Final = (".yaml", ".yml", ".json")
# The source name of the built-in demo fleet's documents in messages.
DEMO: Final = "<demo fleet>"
# Longest name or value a message repeats; the rest is in the file.
SHOWN_CHARS: Final = 80


@attrs.frozen
class SourceDocument:
    """One YAML document of one input file."""

    source: str
    line: int
    data: Any

    def describe(self) -> str:
        """``Kind namespace/name`` as far as the raw document tells."""
        data = self.data if isinstance(self.data, Mapping) else {}
        kind = shorten(data["kind"]) if isinstance(data.get("kind"), str) else "<no kind>"
        metadata = data.get("metadata") if isinstance(data.get("metadata"), Mapping) else {}
        name = shorten(metadata["name"]) if isinstance(metadata.get("name"), str) else "<no name>"
        namespace = metadata.get("namespace")
        if isinstance(namespace, str):
            return f"{kind} {shorten(namespace)}/{name}"
        return f"{kind} {name}"

    @property
    def where(self) -> str:
        """``FILE:LINE`` of the document's first line."""
        return f"{self.source}:{self.line}"


class InputError(Exception):
    """A file that cannot be read or is not YAML; the CLI exits 2."""


def shorten(text: str, limit: int = SHOWN_CHARS) -> str:
    """``text``, cut to ``limit`` characters with a note of the full length."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text)} characters)"


def add_input_arguments(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    """FILE arguments, ``-f`` and ``-R``, as kubectl takes manifests."""
    parser.add_argument(
        "files",
        nargs="*",
        metavar="FILE",
        help="manifest files or directories ('-' for stdin)" + ("" if required else "; optional"),
    )
    parser.add_argument(
        "-f",
        "--filename",
        dest="filenames",
        action="append",
        default=[],
        metavar="PATH",
        help="a manifest file or directory, as kubectl -f (repeatable)",
    )
    parser.add_argument(
        "-R",
        "--recursive",
        action="store_true",
        help="also read the subdirectories of directories given",
    )


def input_paths(args: argparse.Namespace) -> list[str]:
    """The paths given as FILE arguments and with ``-f``, in that order."""
    return [*args.files, *args.filenames]


def read_documents(paths: Iterable[str], *, recursive: bool = False) -> list[SourceDocument]:
    """Every document of every path (``-`` is stdin; directories are expanded), or InputError."""
    documents: list[SourceDocument] = []
    for path in manifest_files(paths, recursive=recursive):
        text = read_text(path)
        try:
            parsed = api.parse_documents(text)
        except api.YamlSyntaxError as exc:
            raise InputError(yaml_error_message(path, exc)) from exc
        documents.extend(SourceDocument(source=path, line=d.line, data=d.data) for d in parsed)
    return documents


def yaml_error_message(path: str, exc: api.YamlSyntaxError) -> str:
    """``FILE:LINE:COLUMN: PATH: problem``, or ``...: YAML syntax error: problem``."""
    where = f"{path}:{exc.line}:{exc.column}" if exc.line is not None else path
    if exc.path is None:
        return f"{where}: YAML syntax error: {exc.problem}"
    return f"{where}: {exc.path}: {exc.problem}"


def manifest_files(paths: Iterable[str], *, recursive: bool = False) -> list[str]:
    """``paths`` with each directory replaced by the manifest files in it, in name order."""
    files: list[str] = []
    for path in paths:
        if path == "-" or not Path(path).is_dir():
            files.append(path)
            continue
        found = _directory_files(Path(path), recursive)
        if not found:
            hint = "" if recursive else " (-R also reads its subdirectories)"
            raise InputError(
                f"{path}: no {', '.join(MANIFEST_SUFFIXES)} files in this directory{hint}"
            )
        files.extend(found)
    return files


def _directory_files(directory: Path, recursive: bool) -> list[str]:
    pattern = "**/*" if recursive else "*"
    return sorted(
        str(p) for p in directory.glob(pattern) if p.suffix in MANIFEST_SUFFIXES and p.is_file()
    )


def demo_documents() -> list[SourceDocument]:
    """The built-in demo fleet (``modelplane_core.demo``), as if read from a file."""
    from modelplane_core.demo import fleet_yaml

    return [
        SourceDocument(source=DEMO, line=d.line, data=d.data)
        for d in api.parse_documents(fleet_yaml())
    ]


def read_text(path: str) -> str:
    """The text of ``path`` (``-`` is stdin), or :class:`InputError` saying why not."""
    if path == "-":
        return sys.stdin.read()
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InputError(f"{path}: cannot read: {reason}") from exc
