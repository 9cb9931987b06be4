"""What the API server and Crossplane check in an XRD's schema, beyond the XRD CRD itself.

The XRD CRD declares ``openAPIV3Schema`` as ``x-kubernetes-preserve-unknown-fields``,
so validating an XRD against it says nothing about the schema inside. Crossplane
turns that schema into a CRD, and the API server refuses a CRD whose schema is
not *structural* (Kubernetes "Specifying a structural schema") or breaks the
``apiextensions.k8s.io/v1`` restrictions. These are those rules, written from
the Kubernetes documentation, plus what Crossplane does with the schema:

* every node has a ``type`` (unless int-or-string or preserve-unknown-fields);
* ``properties`` and ``additionalProperties`` exclude each other, and
  ``additionalProperties: false`` is refused;
* no ``$ref``, ``definitions``, ``patternProperties``, ``dependencies``,
  ``additionalItems``, ``uniqueItems: true``, and ``items`` is one schema;
* logical junctors (``allOf``/``anyOf``/``oneOf``/``not``) set no ``type``,
  ``description``, ``default``, ``nullable`` or ``additionalProperties``, and name
  only fields declared outside them;
* list-type ``map`` has object items whose map keys are scalar properties that
  are required or defaulted; list-type ``set`` has scalar items;
* a default is valid for its own node; an ``enum`` value has the node's type;
* every ``x-kubernetes-validations`` rule parses as CEL, names only declared
  fields of an object (``self.<field>``), has a ``fieldPath`` that resolves,
  and iterates only lists with ``maxItems`` (the API server estimates a rule's
  cost from the bounds; an unbounded list blows the budget);
* Crossplane copies only the root ``description`` and the ``spec`` and
  ``status`` schemas into the CRD it generates, and owns ``spec.crossplane``:
  anything else at the root would be silently lost.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from typing import Any

import celpy
import jsonschema

JUNCTORS = ("allOf", "anyOf", "oneOf", "not")
FORBIDDEN_KEYWORDS = (
    "$ref",
    "$schema",
    "definitions",
    "dependencies",
    "patternProperties",
    "additionalItems",
    "id",
)
FORBIDDEN_IN_JUNCTORS = ("type", "description", "default", "nullable", "additionalProperties")
KNOWN_EXTENSIONS = frozenset(
    {
        "x-kubernetes-preserve-unknown-fields",
        "x-kubernetes-int-or-string",
        "x-kubernetes-embedded-resource",
        "x-kubernetes-list-type",
        "x-kubernetes-list-map-keys",
        "x-kubernetes-map-type",
        "x-kubernetes-validations",
    }
)
SCALARS = frozenset({"string", "integer", "number", "boolean"})
MACRO_OVER_FIELD = re.compile(r"\bself\.(\w+)\.(?:all|exists|exists_one|map|filter)\(")
SELF_FIELD = re.compile(r"\bself\.(\w+)")
RULE_KEYS = frozenset(
    {"rule", "message", "messageExpression", "reason", "fieldPath", "optionalOldSelf"}
)
RULE_REASONS = frozenset(
    {"FieldValueInvalid", "FieldValueForbidden", "FieldValueRequired", "FieldValueDuplicate"}
)


def xrd_schema_problems(schema: Mapping[str, Any]) -> list[str]:
    """Every reason Crossplane or the API server would refuse or mangle ``schema``."""
    problems = list(_root(schema))
    problems.extend(_node(schema, "openAPIV3Schema", root=True))
    return problems


def _root(schema: Mapping[str, Any]) -> Iterator[str]:
    if schema.get("type") != "object":
        yield "openAPIV3Schema: must be type object"
    properties = schema.get("properties", {})
    if "spec" not in properties:
        yield "openAPIV3Schema: declares no spec"
    for name in properties:
        if name not in ("spec", "status"):
            yield f"openAPIV3Schema.properties.{name}: Crossplane keeps only spec and status"
    for keyword in schema:
        if keyword not in ("type", "description", "properties", "required"):
            yield f"openAPIV3Schema.{keyword}: Crossplane drops root-level {keyword}"
    spec = properties.get("spec", {})
    if "crossplane" in spec.get("properties", {}):
        yield "openAPIV3Schema.properties.spec.properties.crossplane: owned by Crossplane"


def _node(schema: Mapping[str, Any], path: str, *, root: bool = False) -> Iterator[str]:
    if not isinstance(schema, Mapping):
        yield f"{path}: a schema must be an object"
        return
    for keyword in FORBIDDEN_KEYWORDS:
        if keyword in schema:
            yield f"{path}.{keyword}: not allowed in a CRD schema"
    for keyword in schema:
        if keyword.startswith("x-") and keyword not in KNOWN_EXTENSIONS:
            yield f"{path}.{keyword}: unknown extension"
    if schema.get("uniqueItems") is True:
        yield f"{path}.uniqueItems: must not be true"
    open_node = schema.get("x-kubernetes-int-or-string") or schema.get(
        "x-kubernetes-preserve-unknown-fields"
    )
    kind = schema.get("type")
    if not kind and not open_node:
        yield f"{path}.type: must be set"
    properties = schema.get("properties")
    additional = schema.get("additionalProperties")
    if properties is not None and additional is not None:
        yield f"{path}: properties and additionalProperties exclude each other"
    if additional is False:
        yield f"{path}.additionalProperties: must not be false"
    if (properties is not None or additional is not None) and kind not in (None, "object"):
        yield f"{path}: properties on a non-object"
    if "items" in schema and not isinstance(schema["items"], Mapping):
        yield f"{path}.items: must be a single schema"
    if kind == "array" and "items" not in schema:
        yield f"{path}.items: an array must declare its items"
    yield from _junctors(schema, path)
    yield from _list_type(schema, path)
    yield from _values(schema, path)
    yield from _rules(schema, path)
    for name, sub in (properties or {}).items():
        yield from _node(sub, f"{path}.properties.{name}")
    if isinstance(additional, Mapping):
        yield from _node(additional, f"{path}.additionalProperties")
    if isinstance(schema.get("items"), Mapping):
        yield from _node(schema["items"], f"{path}.items")
    for name in schema.get("required", ()):
        if properties is not None and name not in properties:
            yield f"{path}.required: {name} is not a declared property"


def _junctors(schema: Mapping[str, Any], path: str) -> Iterator[str]:
    declared = set(schema.get("properties", {}))
    for junctor in JUNCTORS:
        if junctor not in schema:
            continue
        branches = schema[junctor] if junctor != "not" else [schema[junctor]]
        for index, branch in enumerate(branches):
            where = f"{path}.{junctor}[{index}]"
            for keyword in FORBIDDEN_IN_JUNCTORS:
                if keyword in branch:
                    yield f"{where}.{keyword}: not allowed inside {junctor}"
            for name in set(branch.get("properties", {})) | set(branch.get("required", ())):
                if name not in declared:
                    yield f"{where}: {name} is not declared outside the junctor"


def _list_type(schema: Mapping[str, Any], path: str) -> Iterator[str]:
    list_type = schema.get("x-kubernetes-list-type")
    items = schema.get("items") if isinstance(schema.get("items"), Mapping) else {}
    keys = schema.get("x-kubernetes-list-map-keys")
    if list_type is None:
        if keys is not None:
            yield f"{path}: x-kubernetes-list-map-keys without x-kubernetes-list-type map"
        return
    if list_type not in ("atomic", "set", "map"):
        yield f"{path}.x-kubernetes-list-type: {list_type!r} is not atomic, set or map"
    if list_type == "set" and items.get("type") not in SCALARS:
        yield f"{path}: a set list must have scalar items"
    if list_type != "map":
        return
    if items.get("type") != "object":
        yield f"{path}: a map list must have object items"
    if not keys:
        yield f"{path}: a map list must name x-kubernetes-list-map-keys"
    item_properties = items.get("properties", {})
    required = set(items.get("required", ()))
    for key in keys or ():
        prop = item_properties.get(key)
        if prop is None:
            yield f"{path}: map key {key} is not a property of the items"
            continue
        if prop.get("type") not in SCALARS:
            yield f"{path}: map key {key} must be a scalar"
        if key not in required and "default" not in prop:
            yield f"{path}: map key {key} must be required or defaulted"


def _values(schema: Mapping[str, Any], path: str) -> Iterator[str]:
    bare = _without_rules(schema)
    if "default" in schema:
        for error in jsonschema.Draft7Validator(bare).iter_errors(schema["default"]):
            yield f"{path}.default: {error.message}"
    for index, value in enumerate(schema.get("enum", ())):
        kind = {k: v for k, v in bare.items() if k in ("type", "format")}
        for error in jsonschema.Draft7Validator(kind).iter_errors(value):
            yield f"{path}.enum[{index}]: {error.message}"


def _without_rules(schema: Any) -> Any:
    """The schema as JSON Schema: Kubernetes extensions dropped (CEL is checked apart)."""
    if isinstance(schema, list):
        return [_without_rules(s) for s in schema]
    if not isinstance(schema, Mapping):
        return schema
    return {
        k: (v if k in ("default", "enum") else _without_rules(v))
        for k, v in schema.items()
        if not k.startswith("x-kubernetes-")
    }


def _rules(schema: Mapping[str, Any], path: str) -> Iterator[str]:
    properties = schema.get("properties")
    for index, rule in enumerate(schema.get("x-kubernetes-validations", ())):
        where = f"{path}.x-kubernetes-validations[{index}]"
        unknown = set(rule) - RULE_KEYS
        if unknown:
            yield f"{where}: unknown keys {sorted(unknown)}"
        if "reason" in rule and rule["reason"] not in RULE_REASONS:
            yield f"{where}.reason: {rule['reason']!r} is not allowed"
        expression = rule.get("rule")
        if not isinstance(expression, str) or not expression:
            yield f"{where}.rule: must be a non-empty string"
            continue
        problem = _parse_problem(expression)
        if problem:
            yield f"{where}.rule: does not parse as CEL: {problem}"
        if schema.get("type") == "object" and properties is not None:
            for name in SELF_FIELD.findall(expression):
                if name not in properties:
                    yield f"{where}.rule: self.{name} is not a declared field"
            for name in MACRO_OVER_FIELD.findall(expression):
                target = properties.get(name, {})
                if target.get("type") == "array" and "maxItems" not in target:
                    yield f"{where}.rule: iterates self.{name}, which has no maxItems"
        field_path = rule.get("fieldPath")
        if field_path is not None and not _resolves(schema, field_path):
            yield f"{where}.fieldPath: {field_path} is not a field of this node"


@functools.cache
def _parse_problem(expression: str) -> str | None:
    try:
        _environment().compile(expression)
    except Exception as exc:  # celpy's parse errors have no common base worth naming
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    return None


@functools.cache
def _environment() -> celpy.Environment:
    return celpy.Environment()


def _resolves(schema: Mapping[str, Any], field_path: str) -> bool:
    if not field_path.startswith("."):
        return False
    node: Mapping[str, Any] = schema
    for part in field_path[1:].split("."):
        found = node.get("properties", {}).get(part)
        if not isinstance(found, Mapping):
            return False
        node = found
    return True


def schema_at(schema: Mapping[str, Any], json_path: str) -> Mapping[str, Any] | None:
    """The node a simple ``.a.b.c`` JSON path (printer column, scale path) points at."""
    node: Mapping[str, Any] = schema
    for part in json_path.lstrip(".").split("."):
        found = node.get("properties", {}).get(part)
        if not isinstance(found, Mapping):
            return None
        node = found
    return node


def rule_failures(value: Any, schema: Mapping[str, Any], path: str = "") -> list[str]:
    """Every ``x-kubernetes-validations`` rule ``value`` breaks, as the API server evaluates them.

    A rule runs on each node that is present, with ``self`` bound to it; an
    evaluation error (a missing field read without ``has``) fails the rule, as in
    Kubernetes. Transition rules (``oldSelf``) need an update and are skipped.
    """
    failures: list[str] = []
    for rule in schema.get("x-kubernetes-validations", ()):
        if "oldSelf" in rule["rule"]:
            continue
        try:
            result = _program(rule["rule"]).evaluate({"self": celpy.json_to_cel(value)})
        except Exception as exc:  # celpy raises its evaluation errors on some paths
            result = exc
        if isinstance(result, Exception) or not bool(result):
            failures.append(f"{path or '<root>'}: {rule.get('message', rule['rule'])}")
    if isinstance(value, Mapping):
        properties = schema.get("properties", {})
        additional = schema.get("additionalProperties")
        for key, item in value.items():
            if key in properties:
                failures += rule_failures(item, properties[key], f"{path}.{key}".lstrip("."))
            elif isinstance(additional, Mapping):
                failures += rule_failures(item, additional, f"{path}[{key}]")
    elif isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        for index, item in enumerate(value):
            failures += rule_failures(item, schema["items"], f"{path}[{index}]")
    return failures


@functools.cache
def _program(rule: str) -> Any:
    environment = _environment()
    return environment.program(environment.compile(rule))
