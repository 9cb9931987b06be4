"""The scenario format: every event kind, durations, and every problem reported with its path."""

from __future__ import annotations

import pytest

from modelplane_core.simulation import (
    Apply,
    Delete,
    Outage,
    Patch,
    Resize,
    Scale,
    ScenarioError,
    Taint,
    format_time,
    parse_duration,
    parse_scenario,
)

FULL = """
name: everything
description: one of each
timing: {workload: 2m, gang: 300}
until: 6h
manifests:
- apiVersion: modelplane.ai/v1alpha1
  kind: InferenceClass
  metadata: {name: l4}
  spec: {devices: [{name: gpu, driver: gpu.nvidia.com, deviceClassName: gpu.nvidia.com}]}
events:
- at: 2h
  scale: {deployment: ml-team/chat, replicas: 3}
- at: 90
  apply:
    apiVersion: modelplane.ai/v1alpha1
    kind: ModelService
    metadata: {name: chat, namespace: ml-team}
    spec: {endpoints: []}
- at: 3h
  outage: east
- at: 3h30m
  recover: east
- at: 4h
  taint: {cluster: west, key: maintenance, value: "true", effect: NoSchedule}
- at: 4h
  untaint: {cluster: west, key: maintenance}
- at: 5h
  resize: {cluster: west, pool: gpu, nodes: 3}
- at: 5h
  delete: {kind: InferenceCluster, name: west}
- at: 5h
  patch: {kind: ModelDeployment, name: chat, namespace: ml-team, patch: {spec: {replicas: 1}}}
"""


def test_a_full_scenario_parses_into_timed_events_in_time_order() -> None:
    scenario = parse_scenario(FULL)
    assert (scenario.name, scenario.description, scenario.until) == (
        "everything",
        "one of each",
        21600,
    )
    assert (scenario.timing.workload, scenario.timing.gang) == (120, 300)
    assert scenario.timing.hydration == 600  # untouched defaults stay
    assert [m["kind"] for m in scenario.manifests] == ["InferenceClass"]
    assert [(e.at, type(e.event).__name__) for e in scenario.events] == [
        (90, "Apply"),
        (7200, "Scale"),
        (10800, "Outage"),
        (12600, "Outage"),
        (14400, "Taint"),
        (14400, "Taint"),  # same time: written order kept
        (18000, "Resize"),
        (18000, "Delete"),
        (18000, "Patch"),
    ]
    events = [e.event for e in scenario.events]
    assert events[1] == Scale(deployment="chat", namespace="ml-team", replicas=3)
    assert events[2] == Outage(cluster="east")
    assert events[3] == Outage(cluster="east", down=False)
    assert events[4] == Taint(cluster="west", key="maintenance", value="true", effect="NoSchedule")
    assert events[5] == Taint(cluster="west", key="maintenance", remove=True)
    assert events[6] == Resize(cluster="west", pool="gpu", nodes=3)
    assert events[7] == Delete(kind="InferenceCluster", name="west")
    assert events[8] == Patch(
        kind="ModelDeployment", name="chat", namespace="ml-team", patch={"spec": {"replicas": 1}}
    )
    assert isinstance(events[0], Apply)
    assert events[0].describe() == "apply ModelService ml-team/chat"


def test_apply_takes_a_yaml_string_of_several_documents() -> None:
    scenario = parse_scenario(
        "events:\n- at: 0\n  apply: |\n"
        "    {apiVersion: v1, kind: Secret, metadata: {name: a}}\n"
        "    ---\n"
        "    {apiVersion: v1, kind: Secret, metadata: {name: b}}\n"
    )
    (timed,) = scenario.events
    assert isinstance(timed.event, Apply)
    assert [m["metadata"]["name"] for m in timed.event.manifests] == ["a", "b"]


def test_every_problem_is_reported_with_its_path() -> None:
    text = """
name: bad
color: blue
timing: {workload: soon, warp: 1s}
until: yesterday
manifests:
- {kind: Secret}
- {apiVersion: v1, kind: Secret, metadata: {}}
events:
- at: 1h
- scale: {deployment: chat, replicas: 2}
- at: -5
  outage: east
- at: 1h
  scale: {deployment: ml-team/chat, replicas: two, extra: 1}
- at: 1h
  taint: {cluster: east, effect: Sometimes}
- at: 1h
  teleport: east
- at: 1h
  outage: east
  recover: east
- at: 1h
  patch: {kind: ModelDeployment, name: chat}
"""
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text)
    problems = [str(e) for e in caught.value.errors]
    assert problems == [
        "color: unknown field; allowed: name, description, timing, until, manifests, events",
        "timing.workload: 'soon' is not a duration: use seconds or a string like 90s, 15m, 1h30m",
        "timing.warp: unknown delay; allowed: apply, workload, gang, warm_start, hydration, "
        "job, release, load_balancer, cloud",
        "until: 'yesterday' is not a duration: use seconds or a string like 90s, 15m, 1h30m",
        "manifests[0]: a manifest needs apiVersion and kind",
        "manifests[1].metadata.name: is required",
        "events[0]: needs exactly one action of: apply, delete, patch, scale, outage, recover, "
        "taint, untaint, resize",
        "events[1].at: is required (seconds or a duration)",
        "events[2].at: a duration cannot be negative",
        "events[3].scale.replicas: is required: an integer >= 0",
        "events[3].scale.extra: unknown field; allowed: deployment, replicas",
        "events[4].taint.key: is required: a non-empty string",
        "events[4].taint.effect: must be one of NoSchedule, PreferNoSchedule, NoExecute",
        "events[5].teleport: unknown action; allowed: apply, delete, patch, scale, outage, "
        "recover, taint, untaint, resize",
        "events[6]: needs exactly one action of: apply, delete, patch, scale, outage, recover, "
        "taint, untaint, resize",
        "events[7].patch.patch: is required: a JSON merge patch",
    ]


@pytest.mark.parametrize(
    "text",
    ["[1, 2]", "just a string", "events: {at: 1}", "name: [1]"],
)
def test_a_scenario_that_is_not_a_mapping_of_the_right_shape_is_refused(text: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text)
    assert caught.value.errors


def test_yaml_syntax_errors_name_the_line() -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario("name: x\nevents: [\n")
    (problem,) = caught.value.errors
    assert problem.message.startswith("line 3, column 1: not valid YAML")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [(90, 90.0), (1.5, 1.5), ("90s", 90.0), ("15m", 900.0), ("1h30m", 5400.0), ("2h", 7200.0),
     ("1h0m30s", 3630.0), ("0.5h", 1800.0), (" 10m ", 600.0)],
)  # fmt: skip
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "h", "10", "1d", "m5", True, None, -1, "5m1h"])
def test_bad_durations(text: object) -> None:
    # "10" too: a number in a string must say its unit (s, m or h).
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_times_print_as_hours_minutes_seconds() -> None:
    assert [format_time(t) for t in (0, 59.6, 3600, 5430, 90061)] == [
        "0h00m00s",
        "0h01m00s",
        "1h00m00s",
        "1h30m30s",
        "25h01m01s",
    ]


def test_a_duplicate_key_in_a_scenario_is_an_error_with_its_line() -> None:
    text = "name: twice\nname: again\nobjects: []\n"
    with pytest.raises(ScenarioError) as raised:
        parse_scenario(text)
    assert "duplicate key" in str(raised.value)
    assert "line 2" in str(raised.value)
