"""Multi-document YAML in and out, the way kubectl reads and prints manifests.

Reading is strict where PyYAML is lenient, because a manifest is JSON written
as YAML and everything read here ends up as JSON (in an API server, or in the
``Struct`` of a Crossplane function request). Each of these is an error with
its line, column and field path instead of a surprise later:

* a duplicate key (PyYAML keeps the last one silently; the API server rejects it);
* nesting deeper than :data:`MAX_DEPTH` (PyYAML's pure loader recurses until
  ``RecursionError``);
* aliases expanding to more than :data:`MAX_ALIAS_NODES` nodes: a kilobyte
  "billion laughs" document costs nothing to parse but minutes and gigabytes
  for whoever walks it;
* values a Kubernetes object cannot hold: ``.nan`` and ``.inf``, integers
  outside int64 (the API server's range), ``!!binary``, ``!!set``,
  ``!!timestamp`` and other explicit tags, and keys that are not strings.

Implicit timestamps stay strings (Kubernetes treats them as RFC 3339 text).
Anchors, aliases and ``<<`` merge keys work as in YAML 1.1.

Parsing uses libyaml (PyYAML's C extension) when it is installed, about ten
times faster than the pure-Python parser, and builds the data from its event
stream with an explicit stack (no recursion); without the extension the pure
parser feeds the same builder, so both give the same data and the same errors.

Dumping prints multi-line strings (CEL selectors) as literal blocks and keeps
key order, so a dump reads like the manifest a person wrote.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any, Final

import attrs
import yaml
from yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    DocumentStartEvent,
    Event,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.nodes import ScalarNode

# libyaml when PyYAML was built with it (the wheels are); the pure parser otherwise.
_Parser: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Deeper than any real manifest (a CRD schema nests a few dozen levels), and
# shallow enough that every recursive consumer downstream stays far from
# Python's recursion limit.
MAX_DEPTH: Final = 100
# Nodes that aliases may add to one document by repetition. Reusing a block a
# few times is fine; an alias bomb multiplies to billions and is refused here.
MAX_ALIAS_NODES: Final = 100_000
# Kubernetes integers are int64.
MIN_INT: Final = -(2**63)
MAX_INT: Final = 2**63 - 1
# Longest scalar quoted back in an error message.
SHOWN_CHARS: Final = 40

_TOO_DEEP: Final = (
    f"nested deeper than {MAX_DEPTH} levels; no manifest needs that many, and tools "
    "reading it may fail"
)
_TAG: Final = "tag:yaml.org,2002:"
_STR: Final = _TAG + "str"
_INT: Final = _TAG + "int"
_FLOAT: Final = _TAG + "float"
_BOOL: Final = _TAG + "bool"
_NULL: Final = _TAG + "null"
_MERGE: Final = _TAG + "merge"
_MAP_TAGS: Final = frozenset({None, "!", _TAG + "map"})
_SEQ_TAGS: Final = frozenset({None, "!", _TAG + "seq"})
_TAG_ADVICE: Final = {
    _TAG + "binary": "write base64 text as a plain string instead",
    _TAG + "timestamp": "write the time as a string, as Kubernetes does",
    _TAG + "set": "write a list instead",
    _TAG + "omap": "write a mapping instead",
    _TAG + "pairs": "write a mapping or a list instead",
}
# YAML 1.1 plain-scalar resolution (PyYAML's), by first character, without timestamps.
_RESOLVERS: Final[dict[str, tuple[tuple[str, re.Pattern[str]], ...]]] = {
    first: tuple((tag, regexp) for tag, regexp in resolvers if tag != _TAG + "timestamp")
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_PLAIN_INT: Final = re.compile(r"[-+]?(?:0|[1-9][0-9]*)\Z")
_FIELD_NAME: Final = re.compile(r"[A-Za-z_$][A-Za-z0-9_$-]*\Z")


class _Merge:
    """The ``<<`` merge key, told apart from a quoted "<<" string."""


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
    """The text is not YAML a manifest can hold.

    ``line`` and ``column`` are 1-based; ``path`` is the field path of the
    offending node (``spec.replicas``) when the text parsed but a value is not
    allowed, and None for a syntax error.
    """

    def __init__(
        self, problem: str, line: int | None, column: int | None, path: str | None = None
    ) -> None:
        self.problem = problem
        self.line = line
        self.column = column
        self.path = path
        where = f"line {line}, column {column}: " if line is not None else ""
        field = f"{path}: " if path else ""
        super().__init__(f"{where}{field}{problem}")


@attrs.frozen
class YamlDocument:
    """One non-empty document of a stream: its position (0-based) and start line (1-based)."""

    index: int
    line: int
    data: Any


def parse_documents(text: str) -> list[YamlDocument]:
    """Every non-empty document in ``text``; raises :class:`YamlSyntaxError` with a position."""
    try:
        parser = _Parser(text)
    except yaml.reader.ReaderError as exc:
        raise _reader_error(text, exc, in_bytes=False) from exc
    except UnicodeEncodeError as exc:
        raise _encoding_error(text, exc) from exc
    try:
        return _read_stream(parser)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(p for p in (exc.context, exc.problem) if p) or str(exc)
        if "maximum nesting depth" in problem:  # libyaml's own limit (1000), met reading ahead
            problem = _TOO_DEEP
        raise YamlSyntaxError(
            problem, mark.line + 1 if mark else None, mark.column + 1 if mark else None
        ) from exc
    except yaml.reader.ReaderError as exc:
        in_bytes = not isinstance(parser, yaml.reader.Reader)  # libyaml counts bytes
        raise _reader_error(text, exc, in_bytes=in_bytes) from exc
    except UnicodeEncodeError as exc:  # a lone surrogate cannot be encoded for libyaml
        raise _encoding_error(text, exc) from exc
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(str(exc), None, None) from exc
    finally:
        parser.dispose()


def _read_stream(parser: Any) -> list[YamlDocument]:
    documents: list[YamlDocument] = []
    get_event = parser.get_event
    get_event()  # StreamStartEvent
    index = 0
    while True:
        event = get_event()
        if type(event) is StreamEndEvent:
            return documents
        if type(event) is not DocumentStartEvent:  # the parser guarantees it; be explicit
            raise YamlSyntaxError("expected the start of a document", *_position(event))
        first = parser.peek_event()
        data = _Builder(parser).document()
        if type(get_event()) is not DocumentEndEvent:
            raise YamlSyntaxError("expected the end of a document", *_position(first))
        if data is not None:
            documents.append(YamlDocument(index=index, line=first.start_mark.line + 1, data=data))
        index += 1


def _position(event: Event) -> tuple[int | None, int | None]:
    mark = event.start_mark
    return (mark.line + 1, mark.column + 1) if mark is not None else (None, None)


class _Frame:
    """An open mapping or sequence: what is built so far and where its next child goes."""

    __slots__ = ("anchor", "data", "key", "lines", "merged", "size")

    def __init__(self, data: dict[str, Any] | list[Any], anchor: str | None) -> None:
        self.data = data
        self.anchor = anchor
        self.size = 1
        # Mappings only: the pending key (None while a key is expected), the line of
        # each key (for duplicate reports) and the entries ``<<`` merged in.
        self.key: str | _Merge | None = None
        self.lines: dict[str, int] = {}
        self.merged: dict[str, Any] | None = None


class _Builder:
    """Python data for one document, from the parser's events, with every check."""

    def __init__(self, parser: Any) -> None:
        # The parser is also PyYAML's SafeConstructor: its int and float readers are reused.
        self.parser = parser
        self.get_event = parser.get_event
        self.stack: list[_Frame] = []
        # anchor -> (value, expanded size); None marks an anchor still being built.
        self.anchors: dict[str, tuple[Any, int] | None] = {}
        self.alias_nodes = 0

    def document(self) -> Any:
        """The root value; the parser stands before the DocumentEndEvent afterwards."""
        get_event = self.get_event
        stack = self.stack
        while True:
            event = get_event()
            kind = type(event)
            if kind is ScalarEvent:
                value: Any = self._scalar(event)
                size = 1
                anchor = event.anchor
            elif kind is MappingStartEvent or kind is SequenceStartEvent:
                self._open(event, kind is MappingStartEvent)
                continue
            elif kind is MappingEndEvent or kind is SequenceEndEvent:
                frame = stack.pop()
                value = frame.data
                if frame.merged is not None:
                    value = {**frame.merged, **value}
                size, anchor = frame.size, frame.anchor
            elif kind is AliasEvent:
                value, size = self._alias(event)
                anchor = None
            else:
                raise YamlSyntaxError("unexpected YAML event", *_position(event), self._path())
            if anchor is not None:
                self.anchors[anchor] = (value, size)
            if not stack:
                return value
            self._add(stack[-1], value, size, event)

    def _open(self, event: Any, mapping: bool) -> None:
        allowed = _MAP_TAGS if mapping else _SEQ_TAGS
        if event.tag not in allowed:
            raise self._error(event, _tag_problem(event.tag, "mapping" if mapping else "sequence"))
        if len(self.stack) >= MAX_DEPTH:
            raise self._error(event, _TOO_DEEP)
        if self.stack and self.stack[-1].key is None and isinstance(self.stack[-1].data, dict):
            raise self._error(event, "a mapping key must be a string, not a mapping or a list")
        if event.anchor is not None:
            self.anchors[event.anchor] = None
        self.stack.append(_Frame({} if mapping else [], event.anchor))

    def _add(self, frame: _Frame, value: Any, size: int, event: Any) -> None:
        frame.size += size
        data = frame.data
        if isinstance(data, list):
            data.append(value)
            return
        key = frame.key
        if key is None:
            if type(value) is not str and not isinstance(value, _Merge):
                written = event.value if type(event) is ScalarEvent else None
                raise self._error(event, _key_problem(value, written))
            if value in frame.lines:
                raise self._error(
                    event,
                    f"duplicate key {_show(value)} (first at line {frame.lines[value]}); "
                    "a later value would silently replace the first",
                    key=value,
                )
            frame.key = value
            if type(value) is str:
                frame.lines[value] = event.start_mark.line + 1
            return
        frame.key = None
        if isinstance(key, _Merge):
            self._merge(frame, value, event)
        else:
            data[key] = value

    def _merge(self, frame: _Frame, value: Any, event: Any) -> None:
        """``<<: *base`` or ``<<: [*a, *b]``: entries the mapping does not set itself."""
        sources = value if type(value) is list else [value]
        merged = frame.merged if frame.merged is not None else {}
        for source in reversed(sources):  # earlier sources win, as in YAML 1.1
            if type(source) is not dict:
                raise self._error(event, "a << merge key takes a mapping or a list of mappings")
            merged.update(source)
        frame.merged = merged

    def _alias(self, event: Any) -> tuple[Any, int]:
        anchor = event.anchor
        if anchor not in self.anchors:
            raise self._error(event, f"alias *{anchor} refers to no anchor &{anchor} before it")
        found = self.anchors[anchor]
        if found is None:
            raise self._error(event, f"alias *{anchor} refers to a node that contains it")
        value, size = found
        self.alias_nodes += size
        if self.alias_nodes > MAX_ALIAS_NODES:
            raise self._error(
                event,
                f"aliases expand this document by more than {MAX_ALIAS_NODES} nodes "
                "(an alias bomb?); write the repeated parts out or reuse them less",
            )
        return value, size

    def _scalar(self, event: Any) -> Any:
        value: str = event.value
        tag = event.tag
        if tag is None:
            if not event.implicit[0]:
                return value  # quoted: always a string
            tag = _resolve(value)
            if tag == _STR:
                return value
        elif tag == "!":
            return value
        if tag == _INT:
            return self._int(event, value)
        if tag == _FLOAT:
            number = self._constructed(event, "construct_yaml_float", value, tag)
            if not math.isfinite(number):
                raise self._error(
                    event,
                    f"{value} is not a number JSON can hold (no NaN or infinity); "
                    "quote it if it is text",
                )
            return number
        if tag == _BOOL:
            if value.lower() not in yaml.SafeLoader.bool_values:
                raise self._error(event, f"{_show(value)} is not a boolean (true or false)")
            return yaml.SafeLoader.bool_values[value.lower()]
        if tag == _NULL:
            return None
        if tag == _STR:
            return value
        if tag == _MERGE:
            stack = self.stack
            in_key = bool(stack) and type(stack[-1].data) is dict and stack[-1].key is None
            return _Merge() if in_key else value
        if tag == _TAG + "value":  # YAML 1.1's "=": only PyYAML knows it; it is text
            return value
        raise self._error(event, _tag_problem(tag, "scalar"))

    def _int(self, event: Any, value: str) -> int:
        # Thousands of digits would also trip Python's own conversion limit: judge by length.
        number: int | None = None
        if len(value) <= 100:
            number = (
                int(value)
                if _PLAIN_INT.match(value)
                else self._constructed(event, "construct_yaml_int", value, _INT)
            )
        if number is None or not MIN_INT <= number <= MAX_INT:
            raise self._error(
                event,
                f"integer {_show(value)} is outside the 64-bit range of Kubernetes integers; "
                "quote it if it is text",
            )
        return number

    def _constructed(self, event: Any, method: str, value: str, tag: str) -> Any:
        try:
            return getattr(self.parser, method)(ScalarNode(tag, value))
        except (ValueError, yaml.YAMLError) as exc:
            problem = f"{_show(value)} is not a valid {tag[len(_TAG) :]}: {exc}"
            raise self._error(event, problem) from exc

    def _path(self, key: str | None = None) -> str:
        path = ""
        for frame in self.stack:
            if type(frame.data) is list:
                path = f"{path}[{len(frame.data)}]"
            elif isinstance(frame.key, str):
                path = _join(path, frame.key)
        return _join(path, key) if key is not None else path

    def _error(self, event: Any, problem: str, key: str | None = None) -> YamlSyntaxError:
        return YamlSyntaxError(problem, *_position(event), self._path(key) or "<document>")


def _resolve(value: str) -> str:
    """The tag of a plain scalar, by YAML 1.1's implicit rules (without timestamps)."""
    for tag, regexp in _RESOLVERS.get(value[:1], ()):
        if regexp.match(value):
            return tag
    return _STR


def _join(path: str, key: str) -> str:
    if _FIELD_NAME.match(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{key}]"


def _tag_problem(tag: str, node: str) -> str:
    short = "!!" + tag[len(_TAG) :] if tag.startswith(_TAG) else tag
    advice = _TAG_ADVICE.get(tag, "remove the tag")
    return (
        f"the tag {short} is not allowed on a {node}: a manifest holds only strings, numbers, "
        f"booleans, null, mappings and lists; {advice}"
    )


def _key_problem(key: object, written: str | None) -> str:
    """Why ``key`` cannot be a manifest's key; ``written`` is its text in the file, if a scalar."""
    if written is None:
        return "a mapping key must be a string"
    kind = {bool: "a boolean", int: "a number", float: "a number"}.get(type(key), "null")
    return (
        f"the key {written} reads as {kind}, not a string; mapping keys in a manifest "
        f'are strings: quote it ("{written}")'
    )


def _show(value: str) -> str:
    """``value`` quoted for a message, shortened when long (the reader has the file)."""
    if len(value) > SHOWN_CHARS:
        return repr(value[:SHOWN_CHARS]) + f"... ({len(value)} characters)"
    return repr(value)


def _reader_error(text: str, exc: yaml.reader.ReaderError, *, in_bytes: bool) -> YamlSyntaxError:
    """A character YAML does not allow (a control character, say), with its position."""
    position = exc.position
    if in_bytes:  # an offset into the UTF-8 encoding: count the characters before it
        position = len(text.encode("utf-8")[: max(position, 0)].decode("utf-8", "ignore"))
    position = min(max(position, 0), len(text))
    line, column = _line_column(text, position)
    character = exc.character
    shown = f"#x{character:04x}" if isinstance(character, int) else repr(character)
    # The two parsers word this differently; say it one way.
    return YamlSyntaxError(
        f"unacceptable character {shown}: YAML allows only printable characters, tab and "
        "line breaks",
        line,
        column,
    )


def _encoding_error(text: str, exc: UnicodeEncodeError) -> YamlSyntaxError:
    line, column = _line_column(text, exc.start)
    character = ord(text[exc.start])
    return YamlSyntaxError(
        f"unacceptable character #x{character:04x}: {exc.reason} (not valid Unicode text)",
        line,
        column,
    )


def _line_column(text: str, position: int) -> tuple[int, int]:
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    return line, column


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
