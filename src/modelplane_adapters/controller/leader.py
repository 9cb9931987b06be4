"""Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does.

One replica holds the Lease and reconciles; the others wait. The holder
renews every ``retry`` seconds; if it cannot renew within ``renew_deadline``
it stops leading (its workers stop before anyone else may start: the lease
lasts ``lease_duration``, longer than the renew deadline). A candidate takes
the Lease only when it is free or its holder has not renewed for
``lease_duration``. Every write carries the Lease's ``resourceVersion``, so
two candidates can never both believe they won. On a graceful stop the holder
releases the Lease so a successor starts at once.
"""

from __future__ import annotations

import datetime
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Final

from modelplane_adapters.controller.kube import ApiError, Kube

LOG = logging.getLogger("modelplane.controller.leader")
LEASE_DURATION: Final = 15.0
RENEW_DEADLINE: Final = 10.0
RETRY_PERIOD: Final = 2.0


def _micro(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse(text: str | None) -> datetime.datetime | None:
    if not text:
        return None
    for pattern in ("%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%SZ"):
        try:
            return datetime.datetime.strptime(text, pattern).replace(tzinfo=datetime.UTC)
        except ValueError:
            continue
    return None


class LeaderElector:
    """Campaign for the Lease ``namespace/name``; ``leading`` is set while we hold it."""

    def __init__(
        self,
        kube: Kube,
        *,
        namespace: str,
        name: str,
        identity: str,
        lease_duration: float = LEASE_DURATION,
        renew_deadline: float = RENEW_DEADLINE,
        retry: float = RETRY_PERIOD,
        clock: Callable[[], datetime.datetime] = lambda: datetime.datetime.now(tz=datetime.UTC),
    ) -> None:
        self.kube, self.namespace, self.name, self.identity = kube, namespace, name, identity
        self.lease_duration, self.renew_deadline, self.retry = lease_duration, renew_deadline, retry
        self.clock = clock
        self.leading = threading.Event()
        self.lost = threading.Event()
        self._path = f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases"

    def run(self, stop: threading.Event) -> None:
        """Acquire, then renew until ``stop`` or until renewing fails: then ``lost`` is set."""
        while not stop.is_set() and not self.leading.is_set():
            if self.try_acquire_or_renew():
                LOG.info("became leader", extra={"lease": f"{self.namespace}/{self.name}"})
                self.leading.set()
                break
            stop.wait(self.retry)
        last_renew = time.monotonic()
        while not stop.is_set() and self.leading.is_set():
            stop.wait(self.retry)
            if stop.is_set():
                break
            if self.try_acquire_or_renew():
                last_renew = time.monotonic()
            elif time.monotonic() - last_renew > self.renew_deadline or self._taken():
                LOG.error("lost the leader lease", extra={"lease": f"{self.namespace}/{self.name}"})
                self.leading.clear()
                self.lost.set()
                return

    def try_acquire_or_renew(self) -> bool:
        now = self.clock()
        try:
            lease = self.kube.request("GET", f"{self._path}/{self.name}")
        except ApiError as exc:
            if not exc.not_found:
                LOG.warning("reading the lease failed: %s", exc)
                return False
            body = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": self.name, "namespace": self.namespace},
                "spec": self._spec(now, now, transitions=0),
            }
            try:
                self.kube.request("POST", self._path, body=body)
            except ApiError as create:
                LOG.info("creating the lease failed: %s", create)
                return False
            return True
        spec = lease.get("spec") or {}
        holder = spec.get("holderIdentity") or ""
        if holder and holder != self.identity:
            renewed = _parse(spec.get("renewTime")) or _parse(spec.get("acquireTime"))
            duration = float(spec.get("leaseDurationSeconds") or self.lease_duration)
            if renewed is not None and (now - renewed).total_seconds() < duration:
                return False
        transitions = int(spec.get("leaseTransitions") or 0)
        acquired = _parse(spec.get("acquireTime")) if holder == self.identity else None
        if holder != self.identity:
            transitions += 1
        lease["spec"] = self._spec(acquired or now, now, transitions=transitions)
        try:
            self.kube.request("PUT", f"{self._path}/{self.name}", body=lease)
        except ApiError as exc:
            LOG.info("updating the lease failed: %s", exc)
            return False
        return True

    def _taken(self) -> bool:
        """Someone else holds the lease now (checked when a renewal failed)."""
        try:
            lease = self.kube.request("GET", f"{self._path}/{self.name}")
        except ApiError:
            return False
        holder = (lease.get("spec") or {}).get("holderIdentity") or ""
        return bool(holder) and holder != self.identity

    def release(self) -> None:
        """Give the lease up (graceful shutdown), if we still hold it."""
        if not self.leading.is_set():
            return
        self.leading.clear()
        try:
            lease = self.kube.request("GET", f"{self._path}/{self.name}")
            if (lease.get("spec") or {}).get("holderIdentity") != self.identity:
                return
            now = self.clock()
            lease["spec"] = {
                **lease["spec"],
                "holderIdentity": "",
                "leaseDurationSeconds": 1,
                "renewTime": _micro(now),
            }
            self.kube.request("PUT", f"{self._path}/{self.name}", body=lease)
        except ApiError as exc:
            LOG.warning("releasing the lease failed: %s", exc)

    def _spec(
        self, acquired: datetime.datetime, renewed: datetime.datetime, *, transitions: int
    ) -> dict[str, Any]:
        return {
            "holderIdentity": self.identity,
            "leaseDurationSeconds": int(self.lease_duration),
            "acquireTime": _micro(acquired),
            "renewTime": _micro(renewed),
            "leaseTransitions": transitions,
        }
