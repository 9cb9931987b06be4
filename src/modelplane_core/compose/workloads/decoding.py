"""Decoding the related resources a composer asked for.

Required resources arrive as raw wire dicts (from Crossplane) or as typed
objects (from a caller that already decoded them). A Modelplane object that does
not decode is reported by name, never allowed to crash the composer (a crash
would stall the whole composite) and never silently treated as absent (which
could tear down what depends on it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeVar

from modelplane_core.api.documents import from_dict
from modelplane_core.api.errors import ValidationError
from modelplane_core.compose.composition import Required

T = TypeVar("T")


def object_name(raw: object) -> str:
    """``namespace/name`` (or ``name``) of a raw manifest, for messages."""
    if not isinstance(raw, Mapping):
        return "<not an object>"
    metadata = raw.get("metadata")
    if not isinstance(metadata, Mapping):
        return "<unnamed>"
    name = str(metadata.get("name") or "<unnamed>")
    namespace = metadata.get("namespace")
    return f"{namespace}/{name}" if namespace else name


def decode_all(items: Sequence[Required], cls: type[T]) -> tuple[list[T], list[str]]:
    """The objects of type ``cls`` that decode, and a readable problem per one that does not."""
    decoded: list[T] = []
    problems: list[str] = []
    for raw in items:
        if isinstance(raw, cls):
            decoded.append(raw)
            continue
        try:
            obj = from_dict(raw)
        except ValidationError as exc:
            first = exc.errors[0] if exc.errors else "unreadable"
            problems.append(f"{cls.__name__} {object_name(raw)} cannot be read: {first}")
            continue
        if isinstance(obj, cls):
            decoded.append(obj)
        else:
            problems.append(f"{object_name(raw)} is not a {cls.__name__}")
    return decoded, problems
