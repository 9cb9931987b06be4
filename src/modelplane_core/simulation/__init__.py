"""Running the control plane offline: a one-pass dry run and the fleet simulator.

Both run the real scheduler and composers on manifests instead of a live
control cluster, for ``modelplane schedule``, ``modelplane simulate`` and notebooks.
"""

from modelplane_core.simulation.dry_run import DryRun, PoolNotice, dry_run, footprint, publish

__all__ = ["DryRun", "PoolNotice", "dry_run", "footprint", "publish"]
