"""The two wire layouts of a ModelDeployment, and the one object both become.

The seeds put a deployment's engines and placement directly under ``spec``;
the reference implementation's v0.3 API moved everything but ``replicas``
under ``spec.template.spec`` and added ``spec.template.metadata.labels``,
mirroring a Kubernetes Deployment's pod template. Manifests written for
either must run here unchanged, so both are read, each object in exactly one
layout, into the seeds' shape (the only one the rest of Modelplane knows).
``spec.template.metadata.labels`` becomes ``spec.replicaLabels``.

Everything here works on wire dicts, so a conversion keeps exactly what the
user wrote (no defaults filled in) and a field path can be named in the
layout the user wrote it in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from modelplane_core.api.codec import shown_value
from modelplane_core.api.errors import FieldError, ValidationError
from modelplane_core.api.model_deployment import Layout

# The spec fields the v0.3 layout moves under spec.template.spec, in wire order.
TEMPLATE_SPEC_FIELDS: Final = (
    "clusterSelector",
    "modelCacheRef",
    "serving",
    "tolerations",
    "engines",
)
LABELS_FIELD: Final = "replicaLabels"
TEMPLATE_LABELS_PATH: Final = "spec.template.metadata.labels"
_SEED_ONLY: Final = (*TEMPLATE_SPEC_FIELDS, LABELS_FIELD)
# Where the seeds' layout writes them (replicaLabels just before engines).
_SEED_ORDER: Final = (*TEMPLATE_SPEC_FIELDS[:-1], LABELS_FIELD, TEMPLATE_SPEC_FIELDS[-1])


def layout_of(manifest: Mapping[str, Any]) -> Layout:
    """The layout a ModelDeployment manifest is written in (``template`` if it has one)."""
    spec = manifest.get("spec")
    return "template" if isinstance(spec, Mapping) and "template" in spec else "engines"


def read_layout(body: Mapping[str, Any]) -> tuple[dict[str, Any], Layout]:
    """``body`` with its spec in the seeds' layout, and the layout it was written in.

    Raises :class:`ValidationError` when the spec mixes the two layouts or the
    template is malformed, naming the fields as the user wrote them. Problems
    of the fields themselves are left to the codec, whose paths
    :func:`path_in_layout` translates back.
    """
    spec = body.get("spec")
    if layout_of(body) == "engines" or not isinstance(spec, Mapping):
        return dict(body), "engines"
    errors: list[FieldError] = []
    mixed = [f"spec.{k}" for k in spec if k in _SEED_ONLY]
    if mixed:
        errors.append(
            FieldError(
                "spec.template",
                f"a ModelDeployment has one layout: set either spec.template (v0.3) or "
                f"{', '.join(mixed)} (the seeds' layout), not both",
            )
        )
    errors.extend(_unknown(spec, ("replicas", "template"), "spec", skip=_SEED_ONLY))
    template = spec["template"]
    if not isinstance(template, Mapping):
        raise ValidationError([*errors, _not_an_object("spec.template", template)])
    errors.extend(_unknown(template, ("metadata", "spec"), "spec.template"))
    moved: dict[str, Any] = {}
    template_spec = template.get("spec")
    if template_spec is None:
        errors.append(FieldError("spec.template.spec", "required field is missing"))
    elif not isinstance(template_spec, Mapping):
        errors.append(_not_an_object("spec.template.spec", template_spec))
    else:
        errors.extend(_unknown(template_spec, TEMPLATE_SPEC_FIELDS, "spec.template.spec"))
        moved.update((k, template_spec[k]) for k in TEMPLATE_SPEC_FIELDS if k in template_spec)
    metadata = template.get("metadata")
    if isinstance(metadata, Mapping):
        errors.extend(_unknown(metadata, ("labels",), "spec.template.metadata"))
        if metadata.get("labels") is not None:
            moved[LABELS_FIELD] = metadata["labels"]
    elif metadata is not None:
        errors.append(_not_an_object("spec.template.metadata", metadata))
    if errors:
        raise ValidationError(errors)
    canonical = {k: v for k, v in spec.items() if k == "replicas"}
    canonical.update((k, moved[k]) for k in _SEED_ORDER if k in moved)
    return {**body, "spec": canonical}, "template"


def write_layout(manifest: Mapping[str, Any], layout: Layout) -> dict[str, Any]:
    """A seeds'-layout ModelDeployment manifest rewritten in ``layout``; nothing else changes."""
    spec = manifest.get("spec")
    if layout == "engines" or not isinstance(spec, Mapping):
        return dict(manifest)
    template_spec = {k: spec[k] for k in TEMPLATE_SPEC_FIELDS if k in spec}
    template: dict[str, Any] = {}
    if spec.get(LABELS_FIELD) is not None:
        template["metadata"] = {"labels": spec[LABELS_FIELD]}
    template["spec"] = template_spec
    rest = {k: v for k, v in spec.items() if k not in _SEED_ONLY}
    return {**manifest, "spec": {**rest, "template": template}}


def path_in_layout(path: str, layout: Layout) -> str:
    """A seeds'-layout field path as the user wrote it in ``layout``.

    ``spec`` itself (where the serving-mode pairing rules report) becomes
    ``spec.template.spec``, because that is where the engines and serving live.
    """
    if layout == "engines":
        return path
    if path == "spec":
        return "spec.template.spec"
    if _under(path, f"spec.{LABELS_FIELD}"):
        return TEMPLATE_LABELS_PATH + path[len(f"spec.{LABELS_FIELD}") :]
    for name in TEMPLATE_SPEC_FIELDS:
        if _under(path, f"spec.{name}"):
            return "spec.template.spec." + path[len("spec.") :]
    return path


def _under(path: str, prefix: str) -> bool:
    return path == prefix or (path.startswith(prefix) and path[len(prefix)] in ".[")


def _unknown(
    data: Mapping[Any, Any], allowed: tuple[str, ...], path: str, *, skip: tuple[str, ...] = ()
) -> list[FieldError]:
    return [
        FieldError(f"{path}.{key}", f"unknown field (allowed here: {', '.join(sorted(allowed))})")
        for key in sorted(map(str, data))
        if key not in allowed and key not in skip
    ]


def _not_an_object(path: str, value: object) -> FieldError:
    return FieldError(path, f"expected an object, got {shown_value(value)}")


# Label syntax the XRD enforces on replicaLabels / template.metadata.labels (Python
# validation reports the same problems key by key, see rules.py).
_LABEL_RULES: Final = (
    (
        "!has(self.{f}) || self.{f}.all(k, !k.startsWith('modelplane.ai/'))",
        "label keys must not use the reserved modelplane.ai/ prefix",
    ),
    (
        "!has(self.{f}) || self.{f}.all(k, k.matches('^([a-z0-9]([-a-z0-9]*[a-z0-9])?"
        "(\\\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{{0,61}}[A-Za-z0-9])?$'))",
        "label keys must be valid Kubernetes label keys",
    ),
    (
        # Standard CEL only (no strings extension), so every CEL engine can check it.
        "!has(self.{f}) || self.{f}.all(k, k.matches('^([^/]{{1,253}}/)?[^/]+$'))",
        "label key prefixes must be DNS subdomains of at most 253 characters",
    ),
    (
        "!has(self.{f}) || self.{f}.all(k, "
        "self.{f}[k].matches('^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$'))",
        "label values must be valid Kubernetes label values",
    ),
)


def xrd_spec_schema(seed_spec: Mapping[str, Any]) -> dict[str, Any]:
    """The ModelDeployment XRD's ``spec`` schema, accepting both layouts, one at a time.

    ``seed_spec`` is the schema of the seeds' layout. The template layout gets
    the same field schemas and the same rules under ``spec.template.spec``; the
    seeds' rules at ``spec`` only apply when that layout is the one in use.
    """
    properties = dict(seed_spec["properties"])
    labels = properties[LABELS_FIELD]
    label_value = {**labels["additionalProperties"], "maxLength": 63}
    labels = {**labels, "additionalProperties": label_value}
    properties[LABELS_FIELD] = labels
    template_spec: dict[str, Any] = {
        "type": "object",
        "required": ["engines"],
        "properties": {k: properties[k] for k in TEMPLATE_SPEC_FIELDS},
    }
    rules = list(seed_spec.get("x-kubernetes-validations", ()))
    if rules:
        template_spec["x-kubernetes-validations"] = rules
    template = {
        "type": "object",
        "description": "The reference implementation's v0.3 layout of everything but replicas; "
        "set it or the fields beside it (engines, ...), not both.",
        "required": ["spec"],
        "properties": {
            "metadata": {
                "type": "object",
                "properties": {"labels": labels},
                "x-kubernetes-validations": _label_validations("labels"),
            },
            "spec": template_spec,
        },
    }
    one_layout = " || ".join(f"has(self.{k})" for k in _SEED_ONLY)
    guarded = [{**r, "rule": f"has(self.template) || ({r['rule']})"} for r in rules]
    return {
        **{k: v for k, v in seed_spec.items() if k not in ("properties", "required")},
        "required": [r for r in seed_spec.get("required", ()) if r != "engines"],
        "properties": {**properties, "template": template},
        "x-kubernetes-validations": [
            {
                "rule": "has(self.template) != has(self.engines)",
                "message": "set spec.engines (the seeds' layout) or spec.template.spec.engines "
                "(the v0.3 layout), exactly one",
            },
            {
                "rule": f"!has(self.template) || !({one_layout})",
                "message": "a ModelDeployment has one layout: with spec.template set, "
                "clusterSelector, modelCacheRef, serving, tolerations, replicaLabels and "
                "engines belong under spec.template",
            },
            *guarded,
            *_label_validations(LABELS_FIELD),
        ],
    }


def _label_validations(field: str) -> list[dict[str, str]]:
    return [{"rule": rule.format(f=field), "message": message} for rule, message in _LABEL_RULES]
