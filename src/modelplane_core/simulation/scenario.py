"""The scenario format: manifests plus a timeline of events, in YAML.

A scenario is what a notebook or ``modelplane simulate`` replays::

    name: regional-outage
    timing: {workload: 90s, hydration: 10m}   # optional: simulated start-up delays
    until: 6h                                 # optional: where the run stops
    manifests: [...]                          # objects present at t=0
    events:
    - at: 30m
      apply: [...]                            # manifests (a list, one, or a YAML string)
    - at: 1h
      scale: {deployment: ml-team/qwen-demo, replicas: 2}
    - at: 2h
      outage: eks-us-west                     # the cluster becomes unreachable ...
    - at: 2h30m
      recover: eks-us-west                    # ... and reachable again
    - at: 3h
      taint: {cluster: eks-us-east, key: maintenance, effect: NoExecute}
    - at: 4h
      untaint: {cluster: eks-us-east, key: maintenance}
    - at: 4h
      resize: {cluster: eks-us-west, pool: gpu-l40s, nodes: 2}
    - at: 5h
      delete: {kind: InferenceCluster, name: eks-us-west}
    - at: 5h
      patch: {kind: ModelDeployment, name: qwen-demo, namespace: ml-team, patch: {...}}

Times are seconds or durations (``90s``, ``15m``, ``1h30m``). Every problem is
reported at once with its field path, like API validation; nothing is run
from a scenario that does not parse.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

import attrs

from modelplane_core.api.errors import FieldError, ValidationError, index_path, join_path
from modelplane_core.api.yamlio import YamlSyntaxError, parse_documents
from modelplane_core.simulation.events import (
    Apply,
    Delete,
    Event,
    Outage,
    Patch,
    Resize,
    Scale,
    Taint,
    Timed,
)
from modelplane_core.simulation.providers import Timing

_DURATION: Final = re.compile(r"^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?$")
_TOP_LEVEL: Final = ("name", "description", "timing", "until", "manifests", "events")
_EVENT_KINDS: Final = (
    "apply", "delete", "patch", "scale", "outage", "recover", "taint", "untaint", "resize",
)  # fmt: skip
_EFFECTS: Final = ("NoSchedule", "PreferNoSchedule", "NoExecute")


class ScenarioError(ValidationError):
    """A scenario that does not parse; ``errors`` lists every problem with its path."""


@attrs.frozen(kw_only=True)
class Scenario:
    name: str
    description: str = ""
    timing: Timing = attrs.field(factory=Timing)
    until: float | None = None
    manifests: tuple[Mapping[str, Any], ...] = ()
    events: tuple[Timed, ...] = ()


def parse_duration(value: object) -> float:
    """Seconds from ``90``, ``90.5``, ``"90s"``, ``"15m"`` or ``"1h30m"``; ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError("a duration is seconds or a string like 90s, 15m or 1h30m")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return float(value)
    if isinstance(value, str):
        match = _DURATION.match(value.strip())
        if match and any(match.groups()):
            hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
            return hours * 3600 + minutes * 60 + seconds
    raise ValueError(f"{value!r} is not a duration: use seconds or a string like 90s, 15m, 1h30m")


def format_time(seconds: float) -> str:
    """``3h05m00s``-style, as the timeline prints it."""
    whole = round(seconds)
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m{whole % 60:02d}s"


def parse_scenario(text: str) -> Scenario:
    """Parse a scenario document; raise :class:`ScenarioError` listing every problem."""
    # The manifests' strict reader: duplicate keys, values JSON cannot hold, runaway
    # nesting and alias expansion are errors with a position, never a silent last-wins.
    try:
        documents = parse_documents(text)
    except YamlSyntaxError as exc:
        where = f"line {exc.line}, column {exc.column}: " if exc.line is not None else ""
        message = f"{where}not valid YAML: {exc.problem}"
        raise ScenarioError([FieldError(exc.path or "", message)]) from exc
    if len(documents) > 1:
        raise ScenarioError(
            [FieldError("", f"a scenario is one YAML document; found {len(documents)}")]
        )
    return scenario_from_dict(documents[0].data if documents else None)


def scenario_from_dict(data: object) -> Scenario:
    problems: list[FieldError] = []
    if not isinstance(data, Mapping):
        raise ScenarioError(
            [FieldError("", "a scenario is a mapping with name, manifests, events")]
        )
    for key in data:
        if key not in _TOP_LEVEL:
            problems.append(
                FieldError(str(key), f"unknown field; allowed: {', '.join(_TOP_LEVEL)}")
            )
    name = data.get("name", "scenario")
    if not isinstance(name, str) or not name:
        problems.append(FieldError("name", "must be a non-empty string"))
    description = data.get("description", "")
    if not isinstance(description, str):
        problems.append(FieldError("description", "must be a string"))
    timing = _timing(data.get("timing"), problems)
    until = None
    if data.get("until") is not None:
        until = _duration(data["until"], "until", problems)
    manifests = _manifests(data.get("manifests", []), "manifests", problems)
    events = []
    raw_events = data.get("events", [])
    if not isinstance(raw_events, list):
        problems.append(FieldError("events", "must be a list of events"))
        raw_events = []
    for index, raw in enumerate(raw_events):
        timed = _event(raw, index_path("events", index), problems)
        if timed is not None:
            events.append(timed)
    if problems:
        raise ScenarioError(problems)
    return Scenario(
        name=str(name),
        description=str(description),
        timing=timing,
        until=until,
        manifests=tuple(manifests),
        # Events at the same time keep their written order.
        events=tuple(sorted(events, key=lambda e: e.at)),
    )


def _duration(value: object, path: str, problems: list[FieldError]) -> float:
    try:
        return parse_duration(value)
    except ValueError as exc:
        problems.append(FieldError(path, str(exc)))
        return 0.0


def _timing(raw: object, problems: list[FieldError]) -> Timing:
    if raw is None:
        return Timing()
    if not isinstance(raw, Mapping):
        problems.append(FieldError("timing", "must be a mapping of delay name to duration"))
        return Timing()
    known = [f.name for f in attrs.fields(Timing)]
    values = {}
    for key, value in raw.items():
        if key not in known:
            problems.append(
                FieldError(
                    join_path("timing", str(key)), f"unknown delay; allowed: {', '.join(known)}"
                )
            )
            continue
        values[key] = _duration(value, join_path("timing", str(key)), problems)
    return Timing(**values)


def _manifests(raw: object, path: str, problems: list[FieldError]) -> list[Mapping[str, Any]]:
    if isinstance(raw, str):
        try:
            raw = [document.data for document in parse_documents(raw)]
        except YamlSyntaxError as exc:
            problems.append(FieldError(path, f"not valid YAML: {exc}"))
            return []
    if isinstance(raw, Mapping):
        raw = [raw]
    if not isinstance(raw, list):
        problems.append(
            FieldError(path, "must be a manifest, a list of manifests or a YAML string")
        )
        return []
    found = []
    for index, manifest in enumerate(raw):
        where = index_path(path, index)
        if not isinstance(manifest, Mapping):
            problems.append(FieldError(where, "a manifest must be a mapping"))
            continue
        metadata = manifest.get("metadata")
        if not (
            isinstance(manifest.get("apiVersion"), str) and isinstance(manifest.get("kind"), str)
        ):
            problems.append(FieldError(where, "a manifest needs apiVersion and kind"))
        elif not (isinstance(metadata, Mapping) and isinstance(metadata.get("name"), str)):
            problems.append(FieldError(join_path(where, "metadata.name"), "is required"))
        else:
            found.append(manifest)
    return found


def _event(raw: object, path: str, problems: list[FieldError]) -> Timed | None:
    if not isinstance(raw, Mapping):
        problems.append(FieldError(path, "an event is a mapping with 'at' and one action"))
        return None
    actions = [k for k in raw if k != "at"]
    unknown = [k for k in actions if k not in _EVENT_KINDS]
    for key in unknown:
        problems.append(
            FieldError(
                join_path(path, str(key)), f"unknown action; allowed: {', '.join(_EVENT_KINDS)}"
            )
        )
    known = [k for k in actions if k in _EVENT_KINDS]
    if len(known) != 1:
        if not unknown:
            problems.append(
                FieldError(path, f"needs exactly one action of: {', '.join(_EVENT_KINDS)}")
            )
        return None
    if "at" not in raw:
        problems.append(FieldError(join_path(path, "at"), "is required (seconds or a duration)"))
        return None
    at = _duration(raw["at"], join_path(path, "at"), problems)
    (action,) = known
    event = _action(action, raw[action], join_path(path, action), problems)
    return Timed(at=at, event=event) if event is not None else None


def _action(action: str, body: object, path: str, problems: list[FieldError]) -> Event | None:
    if action == "apply":
        manifests = _manifests(body, path, problems)
        return Apply(manifests=tuple(manifests)) if manifests else None
    if action in ("outage", "recover"):
        if not isinstance(body, str) or not body:
            problems.append(FieldError(path, "is the name of an InferenceCluster"))
            return None
        return Outage(cluster=body, down=action == "outage")
    fields = _fields(body, path, problems)
    if fields is None:
        return None
    if action == "scale":
        deployment = _text(fields, "deployment", path, problems, hint="namespace/name")
        replicas = _count(fields, "replicas", path, problems)
        _unknown(fields, ("deployment", "replicas"), path, problems)
        if deployment is None or replicas is None:
            return None
        namespace, _, name = deployment.rpartition("/")
        return Scale(deployment=name, namespace=namespace or "default", replicas=replicas)
    if action in ("taint", "untaint"):
        cluster = _text(fields, "cluster", path, problems)
        key = _text(fields, "key", path, problems)
        value = fields.get("value")
        effect = fields.get("effect", "NoExecute")
        if value is not None and not isinstance(value, str):
            problems.append(FieldError(join_path(path, "value"), "must be a string"))
        if effect not in _EFFECTS:
            problems.append(
                FieldError(join_path(path, "effect"), f"must be one of {', '.join(_EFFECTS)}")
            )
        _unknown(fields, ("cluster", "key", "value", "effect"), path, problems)
        if cluster is None or key is None or effect not in _EFFECTS:
            return None
        return Taint(
            cluster=cluster,
            key=key,
            value=value if isinstance(value, str) else None,
            effect=effect,
            remove=action == "untaint",
        )
    if action == "resize":
        cluster = _text(fields, "cluster", path, problems)
        pool = _text(fields, "pool", path, problems)
        nodes = _count(fields, "nodes", path, problems)
        _unknown(fields, ("cluster", "pool", "nodes"), path, problems)
        if cluster is None or pool is None or nodes is None:
            return None
        return Resize(cluster=cluster, pool=pool, nodes=nodes)
    target_kind = _text(fields, "kind", path, problems)
    target = _text(fields, "name", path, problems)
    target_namespace = fields.get("namespace")
    if target_namespace is not None and not isinstance(target_namespace, str):
        problems.append(FieldError(join_path(path, "namespace"), "must be a string"))
        target_namespace = None
    api_version = fields.get("apiVersion", "modelplane.ai/v1alpha1")
    if action == "delete":
        _unknown(fields, ("kind", "name", "namespace", "apiVersion"), path, problems)
        if target_kind is None or target is None:
            return None
        return Delete(
            kind=target_kind,
            name=target,
            namespace=target_namespace,
            api_version=str(api_version),
        )
    patch = fields.get("patch")
    if not isinstance(patch, Mapping):
        problems.append(FieldError(join_path(path, "patch"), "is required: a JSON merge patch"))
    _unknown(fields, ("kind", "name", "namespace", "apiVersion", "patch"), path, problems)
    if target_kind is None or target is None or not isinstance(patch, Mapping):
        return None
    return Patch(
        kind=target_kind,
        name=target,
        namespace=target_namespace,
        patch=patch,
        api_version=str(api_version),
    )


def _fields(body: object, path: str, problems: list[FieldError]) -> Mapping[str, Any] | None:
    if not isinstance(body, Mapping):
        problems.append(FieldError(path, "must be a mapping"))
        return None
    return body


def _text(
    fields: Mapping[str, Any], key: str, path: str, problems: list[FieldError], hint: str = ""
) -> str | None:
    value = fields.get(key)
    if not isinstance(value, str) or not value:
        extra = f" ({hint})" if hint else ""
        problems.append(FieldError(join_path(path, key), f"is required: a non-empty string{extra}"))
        return None
    return value


def _count(
    fields: Mapping[str, Any], key: str, path: str, problems: list[FieldError]
) -> int | None:
    value = fields.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        problems.append(FieldError(join_path(path, key), "is required: an integer >= 0"))
        return None
    return value


def _unknown(
    fields: Mapping[str, Any], allowed: Sequence[str], path: str, problems: list[FieldError]
) -> None:
    for key in fields:
        if key not in allowed:
            problems.append(
                FieldError(
                    join_path(path, str(key)), f"unknown field; allowed: {', '.join(allowed)}"
                )
            )
