"""Hypothesis strategies that mutate real manifests where their schema says it matters.

A mutation is guided by the reference XRD's schema for the spot it changes:
integers go to and just past their bounds, strings to their length limits,
pattern violations and unknown enum values, lists to empty, to one past
``maxItems`` and to duplicate keys, required fields go missing, optional ones
appear, and any value may turn into the wrong JSON type or null. Two
domain strategies cover what a generic walk rarely reaches: serving mode and
phase combinations over several engines, and member role lists (with and
without ``worker`` blocks and ``nodeSelector``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import attrs
from hypothesis import strategies as st

Path = tuple[str | int, ...]
Manifest = dict[str, Any]


@attrs.frozen
class Site:
    """A place in a manifest: an existing value, or a property the schema allows but is absent."""

    path: Path
    schema: Mapping[str, Any]
    present: bool


def sites(data: Any, schema: Mapping[str, Any], path: Path = ()) -> Iterator[Site]:
    """Every value under ``data`` (with its schema) and every absent optional property."""
    if isinstance(data, Mapping):
        properties = schema.get("properties", {})
        additional = schema.get("additionalProperties")
        for key, sub in properties.items():
            if key in data:
                yield Site((*path, key), sub, True)
                yield from sites(data[key], sub, (*path, key))
            else:
                yield Site((*path, key), sub, False)
        if isinstance(additional, Mapping):
            for key, value in data.items():
                yield Site((*path, key), additional, True)
                yield from sites(value, additional, (*path, key))
    elif isinstance(data, list) and isinstance(schema.get("items"), Mapping):
        for index, item in enumerate(data):
            yield Site((*path, index), schema["items"], True)
            yield from sites(item, schema["items"], (*path, index))


def minimal(schema: Mapping[str, Any]) -> Any:
    """The smallest value the schema's structure accepts (rules may still reject it)."""
    if "default" in schema:
        return copy.deepcopy(schema["default"])
    kind = schema.get("type")
    if "enum" in schema:
        return schema["enum"][0]
    if kind == "object":
        return {k: minimal(schema["properties"][k]) for k in schema.get("required", [])}
    if kind == "array":
        return [minimal(schema["items"]) for _ in range(schema.get("minItems", 0))]
    if kind == "integer":
        return schema.get("minimum", 1)
    if kind == "boolean":
        return True
    if kind == "string":
        if schema.get("pattern") == "^cr-[0-9a-f]+$":
            return "cr-0123456789abcdef0"
        return "a" * max(schema.get("minLength", 1), 1)
    return {}


WRONG_TYPES: tuple[Any, ...] = (None, "3", 3, 2.5, True, [], {})


def _integer_values(schema: Mapping[str, Any]) -> list[Any]:
    values: list[Any] = [0, 1, -1, 2**31, 2**63, 2.0]
    for bound in ("minimum", "maximum"):
        if bound in schema:
            values += [schema[bound] - 1, schema[bound], schema[bound] + 1]
    return values


def _string_values(schema: Mapping[str, Any]) -> list[Any]:
    if "enum" in schema:
        return [*schema["enum"], "Bogus", schema["enum"][0].lower()]
    values: list[Any] = ["", "a", "Upper_Case", "-leading", "trailing-", "dots.in.it", "x" * 64]
    for bound in ("minLength", "maxLength"):
        if bound in schema:
            length = schema[bound]
            values += ["a" * max(length - 1, 0), "a" * length, "a" * (length + 1)]
    if "pattern" in schema:
        values += ["cr-0abc", "cr-XYZ", "cr-", "cr-0123456789abcdef0"]
    return values


def _array_values(schema: Mapping[str, Any], current: Any) -> list[Any]:
    items = schema.get("items", {})
    values: list[Any] = [[], [minimal(items)]]
    if isinstance(current, list) and current:
        values.append([*current, copy.deepcopy(current[0])])
        values.append(current[:1] * (schema.get("maxItems", 1) + 1))
        values.append([*current, renamed(current[0], "extra")])
    return values


def renamed(item: Any, name: str) -> Any:
    """A copy of a list-map item under a fresh name, so it is not a duplicate key."""
    out = copy.deepcopy(item)
    if isinstance(out, dict) and "name" in out:
        out["name"] = name
    return out


def values_for(schema: Mapping[str, Any], current: Any) -> list[Any]:
    """Boundary, invalid and wrong-type values for a spot typed by ``schema``."""
    kind = schema.get("type")
    if kind == "integer":
        typed = _integer_values(schema)
    elif kind == "string":
        typed = _string_values(schema)
    elif kind == "boolean":
        typed = [True, False, "true"]
    elif kind == "array":
        typed = _array_values(schema, current)
    elif kind == "object":
        base = current if isinstance(current, dict) else {}
        typed = [{}, minimal(schema), {**base, "unknownField": "x"}]
    else:
        typed = []
    return typed + list(WRONG_TYPES)


# --- applying a change ---------------------------------------------------------------


def get(data: Any, path: Path) -> Any:
    for part in path:
        data = data[part]
    return data


def set_at(data: Any, path: Path, value: Any) -> None:
    get(data, path[:-1])[path[-1]] = value


def delete_at(data: Any, path: Path) -> None:
    parent = get(data, path[:-1])
    del parent[path[-1]]


Mutation = Callable[[Manifest], None]


def describe(kind: str, path: Path, value: Any = None) -> str:
    where = ".".join(str(p) for p in path)
    return f"{kind} {where}" + ("" if kind == "delete" else f" = {value!r}"[:120])


@st.composite
def schema_mutation(draw: st.DrawFn, manifest: Manifest, schema: Mapping[str, Any]) -> str:
    """Apply one schema-guided change to ``manifest`` in place; return what it did."""
    spec_schema = schema["properties"]["spec"]
    candidates = list(sites(manifest["spec"], spec_schema, ("spec",)))
    site = draw(st.sampled_from(candidates))
    if site.present:
        action = draw(st.sampled_from(["delete", "replace", "replace", "replace"]))
        if action == "delete":
            delete_at(manifest, site.path)
            return describe("delete", site.path)
        current = get(manifest, site.path)
        value = copy.deepcopy(draw(st.sampled_from(values_for(site.schema, current))))
    else:
        value = copy.deepcopy(
            draw(st.sampled_from([minimal(site.schema), *values_for(site.schema, None)]))
        )
    set_at(manifest, site.path, value)
    return describe("set", site.path, value)


# --- domain strategies: serving/phase combinations and member roles ---------------------

MODES = ("Unified", "PrefillDecode", "Disaggregated")
PHASES = (None, "Prefill", "Decode", "Mixed")
ROLES = ("Standalone", "Leader", "Worker", "Coordinator")


@st.composite
def serving_mutation(draw: st.DrawFn, manifest: Manifest) -> str:
    """Rewrite serving mode, engine count and each engine's phase together.

    Half the draws are a well-formed pair or single engine, so the boundary
    between accepted and rejected combinations is crossed often, not rarely.
    """
    spec = manifest["spec"]
    first = spec["engines"][0]
    count = draw(st.sampled_from((1, 2, 2, 3)))
    engines = [renamed(first, f"{first.get('name', 'e')}-{i}") for i in range(count)]
    if count == 2 and draw(st.booleans()):
        phases: list[str | None] = list(draw(st.permutations(["Prefill", "Decode"])))
    elif draw(st.booleans()):
        phases = [None] * count
    else:
        phases = [draw(st.sampled_from(PHASES)) for _ in range(count)]
    for engine, phase in zip(engines, phases, strict=True):
        engine.pop("phase", None)
        if phase is not None:
            engine["phase"] = phase
    spec["engines"] = engines
    mode = draw(st.sampled_from((None, *MODES, "PrefillDecode")))
    if mode is None:
        spec.pop("serving", None)
    elif mode == "Unified" and draw(st.booleans()):
        spec["serving"] = {}  # the default mode
    else:
        spec["serving"] = {"mode": mode}
    return f"serving {mode} engines {count} phases {phases}"


SHAPES = (("Standalone",), ("Leader", "Worker"), ("Worker", "Leader"))


@st.composite
def roles_mutation(draw: st.DrawFn, manifest: Manifest) -> str:
    """Rewrite the first engine's member list: roles, worker blocks, nodeSelectors, cache ref.

    Half the draws start from a valid shape (one Standalone, or a Leader and a
    Worker); the rest are arbitrary role lists. Worker blocks land mostly on
    Workers, with node counts at and past their bounds.
    """
    spec = manifest["spec"]
    engine = spec["engines"][0]
    template = engine["members"][0]
    if draw(st.booleans()):
        roles = list(draw(st.sampled_from(SHAPES)))
    else:
        roles = draw(st.lists(st.sampled_from(ROLES), min_size=1, max_size=3))
    members = []
    for role in roles:
        member = copy.deepcopy(template)
        member.pop("worker", None)
        member["role"] = role
        nodes = draw(st.sampled_from((None, 0, 1, 2, 63, 64)))
        if nodes is not None and (role == "Worker" or draw(st.integers(0, 3)) == 0):
            member["worker"] = {"nodes": nodes}
        if draw(st.integers(0, 2)) == 0:
            member.pop("nodeSelector", None)
            member.pop("deviceRequests", None)
        members.append(member)
    engine["members"] = members
    if draw(st.integers(0, 2)) == 0:
        spec.pop("modelCacheRef", None)
    elif "modelCacheRef" not in spec:
        spec["modelCacheRef"] = {"name": "weights"}
    shown = [
        (m["role"], m.get("worker"), "nodeSelector" in m or "deviceRequests" in m) for m in members
    ]
    return f"members {shown} cache {'modelCacheRef' in spec}"


@st.composite
def mutated(
    draw: st.DrawFn, manifest: Manifest, schema: Mapping[str, Any]
) -> tuple[Manifest, list[str]]:
    """A deep copy of ``manifest`` after one to three mutations, and what they were."""
    out = copy.deepcopy(manifest)
    done: list[str] = []
    has_engines = isinstance(out.get("spec"), dict) and "engines" in out["spec"]
    for _ in range(draw(st.integers(1, 3))):
        spec = out.get("spec")
        engines_ok = (
            has_engines
            and isinstance(spec, dict)
            and isinstance(spec.get("engines"), list)
            and spec["engines"]
            and isinstance(spec["engines"][0], dict)
            and isinstance(spec["engines"][0].get("members"), list)
            and spec["engines"][0]["members"]
            and isinstance(spec["engines"][0]["members"][0], dict)
        )
        if not isinstance(spec, dict):
            break
        choices = ["schema", "schema"] + (["serving", "roles"] if engines_ok else [])
        choice = draw(st.sampled_from(choices))
        if choice == "serving":
            done.append(draw(serving_mutation(out)))
        elif choice == "roles":
            done.append(draw(roles_mutation(out)))
        else:
            done.append(draw(schema_mutation(out, schema)))
    return out, done
