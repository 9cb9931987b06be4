"""A small built-in fleet, so every command can be tried without writing manifests."""

from __future__ import annotations

from importlib.resources import files


def fleet_yaml() -> str:
    """The demo fleet: three GPU clusters in three regions and two model deployments."""
    return files(__package__).joinpath("fleet.yaml").read_text(encoding="utf-8")


def tour_yaml() -> str:
    """The getting-started tour as a simulation scenario (``modelplane simulate``'s default)."""
    return files(__package__).joinpath("tour.yaml").read_text(encoding="utf-8")
