"""Multi-document YAML in and out, the way kubectl reads and prints manifests.

Timestamps stay strings (Kubernetes treats them as RFC 3339 text), multi-line
strings such as CEL selectors print as literal blocks, and key order is kept so
a dump reads like the manifest a person wrote.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import attrs
import yaml


class _Loader(yaml.SafeLoader):
    """SafeLoader without the implicit timestamp type (metadata timestamps stay str)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


# Characters YAML also reads as line breaks. PyYAML may print them raw inside a
# plain or quoted scalar, where the loader folds them into a space; only a
# double-quoted scalar escapes them, so it is the one style that round-trips.
_OTHER_BREAKS = frozenset("\r\x85\u2028\u2029")


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if _OTHER_BREAKS.intersection(value):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _represent_str)


class YamlSyntaxError(ValueError):
    """The text is not YAML; ``line`` and ``column`` are 1-based."""

    def __init__(self, problem: str, line: int | None, column: int | None) -> None:
        self.problem = problem
        self.line = line
        self.column = column
        where = f"line {line}, column {column}: " if line is not None else ""
        super().__init__(f"{where}{problem}")


@attrs.frozen
class YamlDocument:
    """One non-empty document of a stream: its position (0-based) and start line (1-based)."""

    index: int
    line: int
    data: Any


def parse_documents(text: str) -> list[YamlDocument]:
    """Every non-empty document in ``text``; raises :class:`YamlSyntaxError` with a position."""
    try:
        loader = _Loader(text)
    except yaml.reader.ReaderError as exc:
        raise _reader_error(text, exc) from exc
    documents: list[YamlDocument] = []
    try:
        index = 0
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            data = loader.construct_document(node)
            if data is not None:
                documents.append(
                    YamlDocument(index=index, line=node.start_mark.line + 1, data=data)
                )
            index += 1
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(p for p in (exc.context, exc.problem) if p) or str(exc)
        raise YamlSyntaxError(
            problem, mark.line + 1 if mark else None, mark.column + 1 if mark else None
        ) from exc
    except yaml.reader.ReaderError as exc:
        raise _reader_error(text, exc) from exc
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(str(exc), None, None) from exc
    finally:
        loader.dispose()
    return documents


def _reader_error(text: str, exc: yaml.reader.ReaderError) -> YamlSyntaxError:
    """A character YAML does not allow (a control character, say), with its position."""
    position = min(max(exc.position, 0), len(text))
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    character = exc.character
    shown = f"#x{character:04x}" if isinstance(character, int) else repr(character)
    return YamlSyntaxError(f"unacceptable character {shown}: {exc.reason}", line, column)


def dump_documents(documents: Iterable[Any]) -> str:
    """Dump wire dicts as a ``---``-separated YAML stream."""
    return yaml.dump_all(
        list(documents),
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=100,
        explicit_start=False,
    )


_TRAILING_SPACES = re.compile(r"[ \t]+$", re.MULTILINE)


def dump_document(data: Any) -> str:
    return _TRAILING_SPACES.sub("", dump_documents([data]))
