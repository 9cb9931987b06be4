"""The one error shape every rejection uses: a field path and an actionable message."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

import attrs

# Longest value a message quotes; the reader has the file for the rest.
SHOWN_CHARS: Final = 80
# Longest key a field path repeats: beyond any real one (a label key is at most 317).
PATH_KEY_CHARS: Final = 320


@attrs.frozen
class FieldError:
    """A problem at ``path`` (Kubernetes field-path syntax, e.g. ``spec.engines[0].name``)."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ValidationError(ValueError):
    """Raised when a manifest cannot become a typed object; carries every problem found."""

    def __init__(self, errors: Iterable[FieldError]) -> None:
        self.errors: list[FieldError] = list(errors)
        super().__init__("\n".join(str(e) for e in self.errors) or "invalid object")


def shown(value: object) -> str:
    """``repr(value)`` for a message, cut to :data:`SHOWN_CHARS` with its full length noted.

    A bad value can be megabytes long; a message repeating it whole is
    unreadable, and one message per problem would repeat it many times.
    """
    text = repr(value)
    if len(text) <= SHOWN_CHARS:
        return text
    length = f" ({len(value)} characters)" if isinstance(value, str) else ""
    return f"{text[:SHOWN_CHARS]}...{length}"


def _cut(key: str) -> str:
    if len(key) <= PATH_KEY_CHARS:
        return key
    return f"{key[:PATH_KEY_CHARS]}...({len(key)} characters)"


def join_path(base: str, name: str) -> str:
    name = _cut(name)
    return f"{base}.{name}" if base else name


def index_path(base: str, index: int) -> str:
    return f"{base}[{index}]"


def key_path(base: str, key: str) -> str:
    # Kubernetes prints map keys unquoted in field paths: metadata.labels[app].
    return f"{base}[{_cut(key)}]"
