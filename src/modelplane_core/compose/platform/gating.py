"""Ordering installs without ever uninstalling: the gate every platform composer uses.

A piece that depends on another (a Helm release on its provider config, a
Gateway on the Gateway API CRDs) is first composed only once what it needs
is ready, so it is not created into a failing state and retried for minutes.
Once a piece exists it stays desired whatever happens to its prerequisites:
dropping it would make Crossplane delete it, and a prerequisite that flaps
(a provider config re-created, a release upgrading) must never uninstall
what runs on top of it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from modelplane_core.compose.composition import (
    DesiredResource,
    Observed,
    ObservedResource,
    desired_from_observed,
)

Judge = Callable[[ObservedResource], bool]


def reports_ready(resource: ObservedResource) -> bool:
    """The default judgement: the resource's own ``Ready`` condition is True."""
    return resource.condition_true("Ready")


def exists(_: ObservedResource) -> bool:
    """For resources with no status to speak of: ready once they exist."""
    return True


@attrs.frozen(kw_only=True)
class Piece:
    """One resource a composer wants, with what must be ready before it is first created.

    ``always_ready`` is for resources that are usable as soon as they are
    asked for (a provider config); ``judge`` decides readiness from the
    observed resource otherwise (default: its ``Ready`` condition).
    """

    key: str
    manifest: Mapping[str, Any]
    after: tuple[str, ...] = ()
    always_ready: bool = False
    judge: Judge = reports_ready

    def ready(self, observed: Observed[Any]) -> bool:
        resource = observed.resources.get(self.key)
        return resource is not None and (self.always_ready or self.judge(resource))


@attrs.frozen(kw_only=True)
class Waiting:
    """A piece not composed yet, and what it waits for."""

    key: str
    on: tuple[str, ...]


@attrs.frozen(kw_only=True)
class Gated:
    resources: tuple[DesiredResource, ...]
    waiting: tuple[Waiting, ...]

    def not_ready(self) -> list[str]:
        """Keys composed but not ready yet, in key order."""
        return sorted(r.key for r in self.resources if not r.ready)

    def composed(self, key: str) -> bool:
        return any(r.key == key for r in self.resources)

    def ready(self, key: str) -> bool:
        """``key`` is composed this pass and marked ready."""
        return any(r.key == key and r.ready for r in self.resources)


def held_piece(observed: Observed[Any], key: str) -> Piece | None:
    """The observed resource ``key`` as a piece, for when its inputs are unknown this pass.

    Some manifests need a value only a sibling's status knows (a service
    account's email, a network's name); if that value disappears for a pass
    the resource is kept as it is rather than dropped.
    """
    resource = observed.resources.get(key)
    if resource is None:
        return None
    return Piece(key=key, manifest=desired_from_observed(resource))


def gate(
    observed: Observed[Any],
    pieces: Sequence[Piece],
    *,
    open_: bool = True,
    judges: Mapping[str, Judge] | None = None,
) -> Gated:
    """The pieces to compose this pass.

    ``open_`` is the composer-wide gate (e.g. "both provider configs exist");
    while it is shut only pieces that already exist are composed. A
    prerequisite is judged by its own piece's judge when it is one of
    ``pieces``, else by ``judges`` or its ``Ready`` condition.
    """
    by_key = {piece.key: piece for piece in pieces}

    def ready(key: str) -> bool:
        if key in by_key:
            return by_key[key].ready(observed)
        resource = observed.resources.get(key)
        judge = (judges or {}).get(key, reports_ready)
        return resource is not None and judge(resource)

    resources: list[DesiredResource] = []
    waiting: list[Waiting] = []
    for piece in pieces:
        missing = tuple(key for key in piece.after if not ready(key))
        if piece.key in observed.resources or (open_ and not missing):
            is_ready = piece.always_ready or piece.ready(observed)
            resources.append(
                DesiredResource(key=piece.key, manifest=piece.manifest, ready=is_ready)
            )
        else:
            waiting.append(Waiting(key=piece.key, on=missing))
    return Gated(resources=tuple(resources), waiting=tuple(waiting))
