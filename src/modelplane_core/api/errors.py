"""The one error shape every rejection uses: a field path and an actionable message."""

from __future__ import annotations

from collections.abc import Iterable

import attrs


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


def join_path(base: str, name: str) -> str:
    return f"{base}.{name}" if base else name


def index_path(base: str, index: int) -> str:
    return f"{base}[{index}]"


def key_path(base: str, key: str) -> str:
    # Kubernetes prints map keys unquoted in field paths: metadata.labels[app].
    return f"{base}[{key}]"
