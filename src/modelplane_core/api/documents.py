"""Manifests in and out: dispatch on apiVersion/kind, decode, encode, validate."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any, TypeAlias

import attrs

# Registers every kind's cross-field rules; imported for that effect.
from modelplane_core.api import rules as _rules  # noqa: F401
from modelplane_core.api.codec import structure, unstructure
from modelplane_core.api.deployment_layout import path_in_layout, read_layout, write_layout
from modelplane_core.api.errors import FieldError, ValidationError, shown
from modelplane_core.api.model_deployment import Layout, ModelDeployment
from modelplane_core.api.registry import (
    Resource,
    class_for_kind,
    is_our_group,
    kind_class,
    known_kinds,
)
from modelplane_core.api.rules import metadata_errors
from modelplane_core.api.validation import validate_value
from modelplane_core.api.yamlio import dump_documents, parse_documents


@attrs.frozen
class Unstructured:
    """A manifest of a kind that is not Modelplane's, carried through untouched.

    Real manifests mix kinds (a Namespace, a ClusterProviderConfig next to a
    ModelDeployment); reading them must not fail, and nothing here validates
    another project's API.
    """

    data: Mapping[str, Any]

    @property
    def api_version(self) -> str:
        return str(self.data.get("apiVersion", ""))

    @property
    def kind(self) -> str:
        return str(self.data.get("kind", ""))

    @property
    def name(self) -> str:
        metadata = self.data.get("metadata")
        return str(metadata.get("name", "")) if isinstance(metadata, Mapping) else ""


AnyObject: TypeAlias = Resource | Unstructured


def from_dict(data: object) -> Resource:
    """Decode one Modelplane manifest; raises :class:`ValidationError` on any structural problem."""
    if not isinstance(data, Mapping):
        raise ValidationError(
            [FieldError("", f"a manifest must be an object, got {type(data).__name__}")]
        )
    api_version, kind = data.get("apiVersion"), data.get("kind")
    missing = [
        FieldError(name, "required field is missing")
        for name, value in (("apiVersion", api_version), ("kind", kind))
        if not isinstance(value, str) or not value
    ]
    if missing:
        raise ValidationError(missing)
    cls = kind_class(str(api_version), str(kind))
    if cls is None:
        raise ValidationError([_unknown_kind(str(api_version), str(kind))])
    body = {k: v for k, v in data.items() if k not in ("apiVersion", "kind")}
    if cls is ModelDeployment:
        return _deployment(body)
    return structure(body, cls)


def _deployment(body: Mapping[str, Any]) -> ModelDeployment:
    """Read either layout into the seeds' shape; errors name the fields as written."""
    canonical, layout = read_layout(body)
    try:
        deployment = structure(canonical, ModelDeployment)
    except ValidationError as exc:
        raise ValidationError(_in_layout(exc.errors, layout)) from exc
    return attrs.evolve(deployment, layout=layout) if layout != "engines" else deployment


def _in_layout(errors: Iterable[FieldError], layout: Layout) -> list[FieldError]:
    return [FieldError(path_in_layout(e.path, layout), e.message) for e in errors]


def _unknown_kind(api_version: str, kind: str) -> FieldError:
    known = ", ".join(known_kinds())
    if not is_our_group(api_version):
        return FieldError(
            "apiVersion", f"{api_version} {kind} is not a Modelplane kind (known: {known})"
        )
    if kind in known_kinds():
        served = class_for_kind(kind).kind_info.api_version
        return FieldError("apiVersion", f"{kind} is served as {served}, not {api_version}")
    close = difflib.get_close_matches(kind, known_kinds(), n=1)
    hint = f"did you mean {close[0]}? " if close else ""
    return FieldError(
        "kind", f"unknown Modelplane kind {shown(kind)}; {hint}known kinds are {known}"
    )


def decode(data: object) -> AnyObject:
    """Like :func:`from_dict`, but other API groups' manifests become :class:`Unstructured`."""
    if (
        isinstance(data, Mapping)
        and isinstance(data.get("apiVersion"), str)
        and not is_our_group(data["apiVersion"])
    ):
        return Unstructured(data=data)
    return from_dict(data)


def to_dict(obj: AnyObject) -> dict[str, Any]:
    """Encode to a wire dict with ``apiVersion`` and ``kind`` first; unset optionals are omitted."""
    if isinstance(obj, Unstructured):
        return dict(obj.data)
    info = type(obj).kind_info
    encoded: dict[str, Any] = {"apiVersion": info.api_version, "kind": info.kind}
    encoded.update(unstructure(obj))
    if isinstance(obj, ModelDeployment):
        return write_layout(encoded, obj.layout)
    return encoded


def validate(obj: AnyObject) -> list[FieldError]:
    """Every semantic problem of a decoded object, with field paths, in document order.

    Objects are frozen, so a caller validating the same object on every
    reconcile can remember the answer per object (``modelplane_core.Cache``).
    """
    if isinstance(obj, Unstructured):
        return []
    resource: Any = obj
    problems = [*metadata_errors(resource, resource.metadata), *validate_value(resource)]
    if isinstance(obj, ModelDeployment):
        return list(_in_layout(problems, obj.layout))
    return problems


def load_yaml(text: str) -> list[AnyObject]:
    """Decode a YAML stream. Raises the first document's :class:`ValidationError`."""
    return [decode(document.data) for document in parse_documents(text)]


def dump_yaml(objects: Iterable[AnyObject]) -> str:
    """Encode objects as a multi-document YAML stream."""
    return dump_documents(to_dict(obj) for obj in objects)
