"""Reading manifest files for CLI commands, with errors a person can locate."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from modelplane_core import api


@attrs.frozen
class SourceDocument:
    """One YAML document of one input file."""

    source: str
    line: int
    data: Any

    def describe(self) -> str:
        """``Kind namespace/name`` as far as the raw document tells."""
        data = self.data if isinstance(self.data, Mapping) else {}
        kind = data.get("kind") if isinstance(data.get("kind"), str) else "<no kind>"
        metadata = data.get("metadata") if isinstance(data.get("metadata"), Mapping) else {}
        name = metadata.get("name") if isinstance(metadata.get("name"), str) else "<no name>"
        namespace = metadata.get("namespace")
        return f"{kind} {namespace}/{name}" if isinstance(namespace, str) else f"{kind} {name}"


class InputError(Exception):
    """A file that cannot be read or is not YAML; the CLI exits 2."""


def read_documents(paths: Iterable[str]) -> list[SourceDocument]:
    """Every document of every path (``-`` is stdin), or :class:`InputError`."""
    documents: list[SourceDocument] = []
    for path in paths:
        text = read_text(path)
        try:
            parsed = api.parse_documents(text)
        except api.YamlSyntaxError as exc:
            where = f"{path}:{exc.line}:{exc.column}" if exc.line is not None else path
            raise InputError(f"{where}: YAML syntax error: {exc.problem}") from exc
        documents.extend(SourceDocument(source=path, line=d.line, data=d.data) for d in parsed)
    return documents


def read_text(path: str) -> str:
    """The text of ``path`` (``-`` is stdin), or :class:`InputError` saying why not."""
    if path == "-":
        return sys.stdin.read()
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InputError(f"{path}: cannot read: {reason}") from exc
