"""Running the control plane offline: a one-pass dry run and the fleet simulator.

Both run the real scheduler and composers on manifests instead of a live
control cluster: ``dry_run`` for ``modelplane schedule`` ("where would these
land, and why not"), :class:`Simulation` for ``modelplane simulate`` and
notebooks (a small Crossplane, simulated providers and time, events, metrics).
"""

from modelplane_core.simulation.dry_run import DryRun, PoolNotice, dry_run, footprint, publish
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
from modelplane_core.simulation.metrics import StepMetrics
from modelplane_core.simulation.providers import Timing
from modelplane_core.simulation.scenario import (
    Scenario,
    ScenarioError,
    format_time,
    parse_duration,
    parse_scenario,
)
from modelplane_core.simulation.simulator import Simulation

__all__ = [
    "Apply",
    "Delete",
    "DryRun",
    "Event",
    "Outage",
    "Patch",
    "PoolNotice",
    "Resize",
    "Scale",
    "Scenario",
    "ScenarioError",
    "Simulation",
    "StepMetrics",
    "Taint",
    "Timed",
    "Timing",
    "dry_run",
    "footprint",
    "format_time",
    "parse_duration",
    "parse_scenario",
    "publish",
]
