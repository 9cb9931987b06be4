"""The reference implementation's XRDs as an oracle: would its API server accept a manifest?

The reference's CompositeResourceDefinitions (``../shared/reference/xrds``) are
applied the way the Kubernetes API server applies a CRD's structural schema
to a create request, in its order:

1. unknown fields are rejected (``kubectl`` uses strict server-side field
   validation by default, so a typo is an error, not a silent prune);
2. nulls of non-nullable fields without a default are pruned, then defaults
   are applied to missing (or null) fields of every object that is present;
3. the OpenAPI v3 schema is checked with ``jsonschema`` (``nullable`` widens
   the type to null; every integer must fit in int64, because the server
   decodes JSON integers into int64 and anything larger becomes a float);
4. ``x-kubernetes-list-type: map`` lists must have unique keys, ``set``
   lists unique items;
5. every ``x-kubernetes-validations`` rule is evaluated with celpy, ``self``
   bound to the node the rule is attached to. Rules that read ``oldSelf``
   are transition rules, which a create never evaluates, so they are skipped.
   CEL only runs once the structure is valid, as a rule over ill-typed data
   says nothing the structural errors did not.

Only what an XRD defines is checked: ``spec`` and ``status``. ``metadata``
is Kubernetes' ObjectMeta, validated by the API server's own code and not by
the XRD, so it is out of scope here.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs
import celpy
import jsonschema
import yaml
from celpy.evaluation import CELEvalError

from tests.support import shared_path

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
_CEL = celpy.Environment()


@attrs.frozen
class Rejection:
    """Why the reference would reject a manifest: a field path and the server's reason."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@functools.cache
def _schemas(root: Path) -> dict[tuple[str, str], dict[str, Any]]:
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for path in sorted(root.glob("*.yaml")):
        xrd = yaml.safe_load(path.read_text())
        group = xrd["spec"]["group"]
        kind = xrd["spec"]["names"]["kind"]
        for version in xrd["spec"]["versions"]:
            api_version = f"{group}/{version['name']}"
            found[(api_version, kind)] = version["schema"]["openAPIV3Schema"]
    return found


def reference_schema(api_version: str, kind: str) -> dict[str, Any] | None:
    """The reference XRD's openAPIV3Schema for a kind (skips when ../shared is absent).

    The reference at the seeds' commit, the API the seeds document; a kind it
    did not have yet (AKSCluster, VultrCluster) is judged by its v0.3.1 XRD.
    """
    key = (api_version, kind)
    seeds = _schemas(shared_path("reference", "xrds"))
    if key in seeds:
        return seeds[key]
    return _schemas(shared_path("reference", "xrds-v0.3.1")).get(key)


def reference_kinds() -> list[tuple[str, str]]:
    return sorted(_schemas(shared_path("reference", "xrds")))


def reference_problems(manifest: Mapping[str, Any]) -> list[Rejection]:
    """Every reason the reference's API server would refuse to create ``manifest``."""
    api_version, kind = str(manifest.get("apiVersion")), str(manifest.get("kind"))
    schema = reference_schema(api_version, kind)
    if schema is None:
        return [Rejection("kind", "the reference serves no such kind")]
    return schema_problems(manifest, schema, _validator(api_version, kind))


def schema_problems(
    manifest: Mapping[str, Any],
    schema: Mapping[str, Any],
    validator: jsonschema.Draft7Validator | None = None,
) -> list[Rejection]:
    """Every reason an API server serving ``schema`` would refuse to create ``manifest``."""
    validator = validator or jsonschema.Draft7Validator(_to_jsonschema(schema))
    body = {k: copy.deepcopy(v) for k, v in manifest.items() if k in ("spec", "status")}
    unknown = [
        Rejection(key, "unknown field")
        for key in manifest
        if key not in ("apiVersion", "kind", "metadata", "spec", "status")
    ]
    unknown += list(_unknown_fields(body, schema, ""))
    if unknown:
        return unknown
    _prune_nulls(body, schema)
    _apply_defaults(body, schema)
    structural = list(_structural_errors(body, schema, validator))
    if structural:
        return structural
    return list(_rule_errors(body, schema, ""))


def reference_accepts(manifest: Mapping[str, Any]) -> bool:
    return not reference_problems(manifest)


# --- structural semantics ---------------------------------------------------------------


def _child(schema: Mapping[str, Any] | None, key: str) -> Mapping[str, Any] | None:
    if schema is None:
        return None
    properties = schema.get("properties", {})
    if key in properties:
        return properties[key]  # type: ignore[no-any-return]
    additional = schema.get("additionalProperties")
    return additional if isinstance(additional, Mapping) else None


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _unknown_fields(data: Any, schema: Mapping[str, Any], path: str) -> Iterator[Rejection]:
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        return
    if isinstance(data, Mapping) and schema.get("type") == "object":
        properties = schema.get("properties", {})
        additional = schema.get("additionalProperties")
        for key, value in data.items():
            if key in properties:
                yield from _unknown_fields(value, properties[key], _join(path, str(key)))
            elif isinstance(additional, Mapping):
                yield from _unknown_fields(value, additional, f"{path}[{key}]")
            elif additional is not True:
                yield Rejection(_join(path, str(key)), "unknown field")
    elif isinstance(data, list) and isinstance(schema.get("items"), Mapping):
        for index, item in enumerate(data):
            yield from _unknown_fields(item, schema["items"], f"{path}[{index}]")


def _nonnullable_null(value: Any, schema: Mapping[str, Any] | None) -> bool:
    return value is None and schema is not None and not schema.get("nullable", False)


def _prune_nulls(data: Any, schema: Mapping[str, Any] | None) -> None:
    """The server drops nulls a field cannot hold and has no default for (prunenulls.go)."""
    if isinstance(data, dict):
        for key in list(data):
            sub = _child(schema, key)
            if _nonnullable_null(data[key], sub) and sub is not None and "default" not in sub:
                del data[key]
            else:
                _prune_nulls(data[key], sub)
    elif isinstance(data, list):
        items = schema.get("items") if schema else None
        for item in data:
            _prune_nulls(item, items)


def _apply_defaults(data: Any, schema: Mapping[str, Any] | None) -> None:
    """Defaults fill missing or null fields of objects that are present (algorithm.go)."""
    if schema is None:
        return
    if isinstance(data, dict):
        for key, prop in schema.get("properties", {}).items():
            if "default" in prop and (key not in data or _nonnullable_null(data[key], prop)):
                data[key] = copy.deepcopy(prop["default"])
        for key in data:
            sub = _child(schema, key)
            if sub is not None and "default" in sub and _nonnullable_null(data[key], sub):
                data[key] = copy.deepcopy(sub["default"])
            _apply_defaults(data[key], sub)
    elif isinstance(data, list):
        items = schema.get("items")
        for index, item in enumerate(data):
            if isinstance(items, Mapping) and "default" in items and item is None:
                data[index] = copy.deepcopy(items["default"])
            _apply_defaults(data[index], items)


def _to_jsonschema(schema: Any) -> Any:
    """OpenAPI v3 -> JSON Schema: ``nullable`` widens the type; Kubernetes keys are dropped."""
    if isinstance(schema, list):
        return [_to_jsonschema(s) for s in schema]
    if not isinstance(schema, Mapping):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key.startswith("x-kubernetes-") or key in ("default", "nullable", "description"):
            continue
        if key in ("properties",):
            out[key] = {name: _to_jsonschema(sub) for name, sub in value.items()}
        elif key == "enum":
            out[key] = value
        else:
            out[key] = _to_jsonschema(value)
    if schema.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    return out


@functools.cache
def _validator(api_version: str, kind: str) -> jsonschema.Draft7Validator:
    schema = reference_schema(api_version, kind)
    assert schema is not None
    return jsonschema.Draft7Validator(_to_jsonschema(schema))


def _path_of(parts: Any) -> str:
    path = ""
    for part in parts:
        path = f"{path}[{part}]" if isinstance(part, int) else _join(path, str(part))
    return path


def _structural_errors(
    body: Mapping[str, Any], schema: Mapping[str, Any], validator: jsonschema.Draft7Validator
) -> Iterator[Rejection]:
    for error in validator.iter_errors(body):
        yield Rejection(_path_of(error.absolute_path), error.message)
    yield from _kubernetes_errors(body, schema, "")


def _kubernetes_errors(
    data: Any, schema: Mapping[str, Any] | None, path: str
) -> Iterator[Rejection]:
    """int64 decoding and list-type uniqueness, which JSON Schema does not express."""
    if schema is None:
        return
    is_number = isinstance(data, int | float) and not isinstance(data, bool)
    if schema.get("type") == "integer" and is_number and not INT64_MIN <= data <= INT64_MAX:
        yield Rejection(path, "integer out of the int64 range")
    if isinstance(data, dict):
        for key, value in data.items():
            sub = _child(schema, key)
            sub_path = _join(path, key) if key in schema.get("properties", {}) else f"{path}[{key}]"
            yield from _kubernetes_errors(value, sub, sub_path)
    elif isinstance(data, list):
        list_type = schema.get("x-kubernetes-list-type")
        keys = schema.get("x-kubernetes-list-map-keys", [])
        seen: set[str] = set()
        for index, item in enumerate(data):
            if list_type == "map" and isinstance(item, Mapping):
                identity = repr([item.get(k) for k in keys])
            elif list_type == "set":
                identity = repr(item)
            else:
                identity = ""
            if identity and identity in seen:
                yield Rejection(f"{path}[{index}]", "Duplicate value")
            seen.add(identity)
            yield from _kubernetes_errors(item, schema.get("items"), f"{path}[{index}]")


# --- x-kubernetes-validations -------------------------------------------------------------


@functools.cache
def _program(rule: str) -> celpy.Runner:
    return _CEL.program(_CEL.compile(rule))


def _rule_errors(data: Any, schema: Mapping[str, Any] | None, path: str) -> Iterator[Rejection]:
    if schema is None:
        return
    for validation in schema.get("x-kubernetes-validations", ()):
        rule = validation["rule"]
        if "oldSelf" in rule:
            continue  # a transition rule; a create never runs it
        if not _holds(rule, _typed(data, schema)):
            where = path + validation.get("fieldPath", "")
            yield Rejection(where, validation.get("message") or f"failed rule: {rule}")
    if isinstance(data, dict):
        for key, value in data.items():
            sub = _child(schema, key)
            sub_path = _join(path, key) if key in schema.get("properties", {}) else f"{path}[{key}]"
            yield from _rule_errors(value, sub, sub_path)
    elif isinstance(data, list):
        for index, item in enumerate(data):
            yield from _rule_errors(item, schema.get("items"), f"{path}[{index}]")


def _typed(data: Any, schema: Mapping[str, Any] | None) -> Any:
    """The value as the server hands it to CEL: integral floats of integer fields are ints."""
    if schema is None:
        return data
    if schema.get("type") == "integer" and isinstance(data, float):
        return int(data)
    if isinstance(data, dict):
        return {k: _typed(v, _child(schema, k)) for k, v in data.items()}
    if isinstance(data, list):
        return [_typed(v, schema.get("items")) for v in data]
    return data


def _holds(rule: str, value: Any) -> bool:
    """A rule holds when it evaluates to true; an evaluation error fails it, as on the server."""
    try:
        result = _program(rule).evaluate({"self": celpy.json_to_cel(value)})
    except CELEvalError:
        return False
    return not isinstance(result, CELEvalError) and bool(result)
