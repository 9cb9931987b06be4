"""Everything the core may remember between calls, in one object the caller owns.

The core keeps no state of its own: a function server creates one
:class:`Cache` per process and passes it to every composer call, a
controller one per watch cache, a simulation one per run, a notebook one per
session (or none: every function works without one, remembering nothing).
What is in it is keyed by content (CEL outcomes, pool matching, fits) or by
immutable object (validation of an object the caller decoded once), bounded,
and safe to share between threads.
"""

from __future__ import annotations

from modelplane_core.api.documents import AnyObject, validate
from modelplane_core.api.errors import FieldError
from modelplane_core.memo import DEFAULT_LIMIT, ObjectMemo
from modelplane_core.scheduling.cache import SchedulerCache


class Cache:
    """The caller-owned memory of the core: scheduling, CEL and validation."""

    __slots__ = ("_problems", "scheduler")

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self.scheduler = SchedulerCache(limit)
        self._problems: ObjectMemo[AnyObject, tuple[FieldError, ...]] = ObjectMemo(limit)

    def problems(self, obj: AnyObject) -> list[FieldError]:
        """``api.validate(obj)``, once per object."""
        return list(self._problems.get(obj, lambda o: tuple(validate(o))))
