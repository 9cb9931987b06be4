"""A small, honest Kubernetes API server for tests: real HTTP on 127.0.0.1, JSON, in memory.

Why not ``kmock`` (evaluated, v0.8): its emulator merges dicts on every write,
answers lists with ``resourceVersion: "..."``, ignores ``resourceVersion`` on
watches (every watch replays everything, so "410 Gone" cannot happen), has no
optimistic concurrency (no 409 on a stale update), no status subresource and
no server-side apply field ownership. Each of those is a behaviour the
controller depends on, so extending it would mean replacing its core; this is
that core, written once, with only the standard library.

What it honours, as the real API server does:

- discovery (``/api``, ``/apis``, ``/api/v1``, ``/apis/G/V``); CRDs posted to
  ``apiextensions.k8s.io/v1`` become served resources, subresources included;
- a global, monotonically increasing ``resourceVersion``; ``uid``,
  ``generation`` (bumped when anything but metadata and status changes),
  ``creationTimestamp``; 409 AlreadyExists on create, 409 Conflict on a stale
  ``resourceVersion`` (update, patch with ``metadata.resourceVersion``, delete
  preconditions);
- the status subresource: writes to the object ignore ``status``, writes to
  ``/status`` change only ``status``;
- server-side apply (``application/apply-patch+yaml``) with field managers:
  fields a manager applied before and omits now are removed, a field another
  manager owns with a different value is a 409 Conflict unless ``force``.
  Lists are atomic (the real server merges some lists by key; a single
  manager applying whole lists sees the same result). JSON merge patch too;
- deletion with finalizers (``deletionTimestamp``, gone when the last
  finalizer is removed) and background garbage collection of dependents whose
  owner references point to objects that no longer exist;
- list with ``labelSelector``; watch from a ``resourceVersion`` with
  ``timeoutSeconds``, chunked JSON lines, and "410 Gone" (an ERROR event)
  when that version is older than the retained history (:meth:`compact`).

Faults for tests: :meth:`fail` answers matching requests with an error status
or a delay; :meth:`drop_watches` cuts every open watch.
"""

from __future__ import annotations

import bisect
import copy
import datetime
import itertools
import json
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import attrs
import yaml

HISTORY = 5000
Path = tuple[str, ...]


@attrs.frozen
class Resource:
    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    status: bool = False

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


BUILTINS = (
    Resource("", "v1", "Namespace", "namespaces", namespaced=False, status=True),
    Resource("", "v1", "Secret", "secrets", namespaced=True),
    Resource("", "v1", "ConfigMap", "configmaps", namespaced=True),
    Resource("", "v1", "Service", "services", namespaced=True, status=True),
    Resource("", "v1", "Event", "events", namespaced=True),
    Resource("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", namespaced=True),
    Resource("coordination.k8s.io", "v1", "Lease", "leases", namespaced=True),
    Resource(
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        namespaced=False,
        status=True,
    ),
)


@attrs.define
class Fault:
    method: str
    path: re.Pattern[str]
    status: int | None  # None: delay only
    times: int
    delay: float = 0.0


class ApiError(Exception):
    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message

    def status(self) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "Status",
            "status": "Failure",
            "code": self.code,
            "reason": self.reason,
            "message": self.message,
        }


class ApiServer:
    """The emulator; ``with ApiServer() as server:`` serves on ``server.url``."""

    def __init__(self) -> None:
        self.resources: dict[tuple[str, str, str], Resource] = {}
        for resource in BUILTINS:
            self.serve(resource)
        self.objects: dict[tuple[Resource, str, str], dict[str, Any]] = {}
        self.managers: dict[tuple[Resource, str, str], dict[str, set[Path]]] = {}
        self.operations: dict[tuple[Resource, str, str], dict[str, str]] = {}
        self.history: deque[tuple[int, Resource, str, dict[str, Any]]] = deque()
        # The same events by resource, with their versions apart: a watch finds its own
        # kind's events by bisection instead of scanning every write of the server.
        self._events: dict[Resource, tuple[list[int], list[tuple[str, dict[str, Any]]]]] = {}
        self.oldest = 0  # events up to this version are no longer retained
        self.version = 0
        self._mutex = threading.RLock()
        self.lock = threading.Condition(self._mutex)
        # One condition per resource on the same lock: a write wakes its own kind's watches.
        self._watchers: dict[Resource, threading.Condition] = {}
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str]] = []
        self._drop = 0
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._http.daemon_threads = True
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._http.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> ApiServer:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.drop_watches()
        self._http.shutdown()
        self._http.server_close()

    # -- test controls ----------------------------------------------------------------

    def serve(self, resource: Resource) -> None:
        self.resources[(resource.group, resource.version, resource.plural)] = resource

    def fail(
        self, method: str, path: str, status: int | None, *, times: int = 1, delay: float = 0.0
    ) -> None:
        """Answer the next ``times`` requests matching ``method`` and ``path`` (a regex) badly."""
        with self.lock:
            self.faults.append(Fault(method, re.compile(path), status, times, delay))

    def compact(self) -> None:
        """Forget the event history: every watch resumed from before now gets 410 Gone."""
        with self.lock:
            self.history.clear()
            self._events.clear()
            self.oldest = self.version
            self._wake_all()

    def drop_watches(self) -> None:
        with self.lock:
            self._drop += 1
            self._wake_all()

    def _watched(self, resource: Resource) -> threading.Condition:
        found = self._watchers.get(resource)
        if found is None:
            found = self._watchers[resource] = threading.Condition(self._mutex)
        return found

    def _wake_all(self) -> None:
        self.lock.notify_all()
        for condition in self._watchers.values():
            condition.notify_all()

    def find(self, api_version: str, kind: str) -> Resource:
        for resource in self.resources.values():
            if resource.api_version == api_version and resource.kind == kind:
                return resource
        raise KeyError(f"{api_version} {kind} is not served")

    def get(self, api_version: str, kind: str, name: str, namespace: str = "") -> Any:
        with self.lock:
            found = self.objects.get((self.find(api_version, kind), namespace, name))
            return copy.deepcopy(found)

    def list(self, api_version: str, kind: str) -> list[dict[str, Any]]:
        resource = self.find(api_version, kind)
        with self.lock:
            return [
                copy.deepcopy(obj)
                for (r, _ns, _name), obj in sorted(self.objects.items(), key=lambda i: i[0][1:])
                if r == resource
            ]

    def latest(self, resource: Resource) -> int:
        """The version of the newest retained event of ``resource`` (0: none)."""
        with self.lock:
            versions = self._events.get(resource, ([], []))[0]
            return versions[-1] if versions else 0

    def write_status(
        self, key: tuple[str, str, str, str], status: Mapping[str, Any], manager: str
    ) -> dict[str, Any]:
        """Replace an object's status, as its controller (a provider) does through ``/status``."""
        api_version, kind, namespace, name = key
        resource = self.find(api_version, kind)
        with self.lock:
            stored = (resource, namespace if resource.namespaced else "", name)
            current = self._existing(resource, stored)
            return self._replace(
                resource,
                stored,
                {**current, "status": dict(status)},
                manager,
                "Update",
                scope="status",
            )

    def put(self, manifest: Mapping[str, Any], manager: str = "test") -> dict[str, Any]:
        """Create or replace (spec and status) as an administrator would, bypassing HTTP."""
        resource = self.find(manifest["apiVersion"], manifest["kind"])
        metadata = manifest["metadata"]
        key = (
            resource,
            metadata.get("namespace", "") if resource.namespaced else "",
            metadata["name"],
        )
        with self.lock:
            existing = self.objects.get(key)
            if existing is None:
                return self._create(resource, key, dict(manifest), manager, status_too=True)
            merged = {
                **copy.deepcopy(dict(manifest)),
                "metadata": {**existing["metadata"], **metadata},
            }
            merged["metadata"]["resourceVersion"] = existing["metadata"]["resourceVersion"]
            return self._replace(resource, key, merged, manager, "Update", scope="all")

    # -- storage ----------------------------------------------------------------------

    def _emit(self, resource: Resource, type_: str, obj: dict[str, Any]) -> None:
        event = copy.deepcopy(obj)
        self.history.append((self.version, resource, type_, event))
        versions, events = self._events.setdefault(resource, ([], []))
        versions.append(self.version)
        events.append((type_, event))
        if len(self.history) > HISTORY:
            dropped = self.history.popleft()
            self.oldest = dropped[0]
            versions, events = self._events[dropped[1]]
            del versions[0], events[0]
        self._watched(resource).notify_all()

    def _bump(self, obj: dict[str, Any]) -> None:
        self.version += 1
        obj["metadata"]["resourceVersion"] = str(self.version)

    def _create(
        self,
        resource: Resource,
        key: tuple[Resource, str, str],
        body: dict[str, Any],
        manager: str,
        *,
        operation: str = "Update",
        status_too: bool = False,
        owned: set[Path] | None = None,
    ) -> dict[str, Any]:
        if key in self.objects:
            raise ApiError(409, "AlreadyExists", f'{resource.plural} "{key[2]}" already exists')
        obj = copy.deepcopy(body)
        obj["apiVersion"], obj["kind"] = resource.api_version, resource.kind
        if resource.status and not status_too:
            obj.pop("status", None)
        metadata = obj.setdefault("metadata", {})
        metadata.update(
            name=key[2],
            uid=str(uuid.uuid4()),
            generation=1,
            creationTimestamp=_now(),
        )
        if resource.namespaced:
            metadata["namespace"] = key[1]
        else:
            metadata.pop("namespace", None)
        metadata.pop("deletionTimestamp", None)
        metadata.pop("managedFields", None)
        self._bump(obj)
        self.objects[key] = obj
        self.managers[key], self.operations[key] = {}, {}
        self._own(key, manager, obj, None, operation, scope="object", owned=owned)
        if resource.kind == "CustomResourceDefinition":
            self._serve_crd(obj)
        self._emit(resource, "ADDED", obj)
        return copy.deepcopy(obj)

    def _replace(
        self,
        resource: Resource,
        key: tuple[Resource, str, str],
        new: dict[str, Any],
        manager: str,
        operation: str,
        *,
        scope: str,
        owned: set[Path] | None = None,
    ) -> dict[str, Any]:
        """Store ``new`` for an existing object, honouring the subresource ``scope``."""
        old = self.objects[key]
        expected = (new.get("metadata") or {}).get("resourceVersion")
        if expected and expected != old["metadata"]["resourceVersion"]:
            raise ApiError(
                409,
                "Conflict",
                f'Operation cannot be fulfilled on {resource.plural} "{key[2]}": the object has '
                "been modified; please apply your changes to the latest version and try again",
            )
        obj = copy.deepcopy(old)
        if scope == "status":
            if "status" in new:
                obj["status"] = copy.deepcopy(new["status"])
            else:
                obj.pop("status", None)
        else:
            kept_status = old.get("status")
            obj = copy.deepcopy(new)
            obj["apiVersion"], obj["kind"] = resource.api_version, resource.kind
            server = {
                k: old["metadata"][k]
                for k in (
                    "name",
                    "namespace",
                    "uid",
                    "creationTimestamp",
                    "generation",
                    "deletionTimestamp",
                )
                if k in old["metadata"]
            }
            obj["metadata"] = {**obj.get("metadata", {}), **server}
            obj["metadata"].pop("managedFields", None)
            if resource.status and scope != "all":
                obj.pop("status", None)
                if kept_status is not None:
                    obj["status"] = copy.deepcopy(kept_status)
            if old["metadata"].get("deletionTimestamp"):
                added = set(obj["metadata"].get("finalizers") or ()) - set(
                    old["metadata"].get("finalizers") or ()
                )
                if added:
                    raise ApiError(
                        422,
                        "Invalid",
                        "no new finalizers can be added if the object is being deleted",
                    )
        if _content(obj) != _content(old):
            obj["metadata"]["generation"] = old["metadata"]["generation"] + 1
        obj["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
        self._own(key, manager, obj, old, operation, scope=scope, owned=owned)
        if obj == old:
            return copy.deepcopy(old)  # a no-op write: no new version, no event
        self._bump(obj)
        if obj["metadata"].get("deletionTimestamp") and not obj["metadata"].get("finalizers"):
            return self._remove(resource, key, obj)
        self.objects[key] = obj
        self._emit(resource, "MODIFIED", obj)
        return copy.deepcopy(obj)

    def _remove(
        self, resource: Resource, key: tuple[Resource, str, str], obj: dict[str, Any]
    ) -> dict[str, Any]:
        self.objects.pop(key, None)
        self.managers.pop(key, None)
        self.operations.pop(key, None)
        self._emit(resource, "DELETED", obj)
        self._collect_garbage()
        return copy.deepcopy(obj)

    def _delete(
        self, resource: Resource, key: tuple[Resource, str, str], options: Mapping[str, Any]
    ) -> dict[str, Any]:
        obj = self.objects.get(key)
        if obj is None:
            raise ApiError(404, "NotFound", f'{resource.plural} "{key[2]}" not found')
        preconditions = options.get("preconditions") or {}
        for field in ("uid", "resourceVersion"):
            wanted = preconditions.get(field)
            if wanted and wanted != obj["metadata"].get(field):
                raise ApiError(
                    409,
                    "Conflict",
                    f"Precondition failed: {field} in precondition: {wanted}, "
                    f"{field} in object meta: {obj['metadata'].get(field)}",
                )
        if obj["metadata"].get("finalizers"):
            if obj["metadata"].get("deletionTimestamp"):
                return copy.deepcopy(obj)
            marked = copy.deepcopy(obj)
            marked["metadata"]["deletionTimestamp"] = _now()
            self._bump(marked)
            self.objects[key] = marked
            self._emit(resource, "MODIFIED", marked)
            return copy.deepcopy(marked)
        self._bump(obj)
        return self._remove(resource, key, obj)

    def _collect_garbage(self) -> None:
        """Background propagation: dependents of owners that are gone are deleted."""
        uids = {obj["metadata"]["uid"] for obj in self.objects.values()}
        for key, obj in list(self.objects.items()):
            refs = obj["metadata"].get("ownerReferences") or ()
            if refs and not any(ref.get("uid") in uids for ref in refs) and key in self.objects:
                self._delete(key[0], key, {})

    def _serve_crd(self, crd: Mapping[str, Any]) -> None:
        spec = crd["spec"]
        for version in spec["versions"]:
            self.serve(
                Resource(
                    spec["group"],
                    version["name"],
                    spec["names"]["kind"],
                    spec["names"]["plural"],
                    namespaced=spec["scope"] == "Namespaced",
                    status="status" in (version.get("subresources") or {}),
                )
            )

    # -- field ownership (server-side apply) ------------------------------------------

    def _own(
        self,
        key: tuple[Resource, str, str],
        manager: str,
        new: dict[str, Any],
        old: dict[str, Any] | None,
        operation: str,
        *,
        scope: str,
        owned: set[Path] | None = None,
    ) -> None:
        """Move field ownership for one write, and publish it as ``managedFields``."""
        managers = self.managers.setdefault(key, {})
        operations = self.operations.setdefault(key, {})
        if operation == "Apply":
            keep = {p for p in managers.get(manager, set()) if not _in_scope(p, scope)}
            managers[manager] = keep | (owned or set())
        else:
            new_leaves = _leaves(new)
            old_leaves = _leaves(old) if old is not None else {}
            changed = {p for p, v in new_leaves.items() if old_leaves.get(p, _MISSING) != v}
            for name, paths in managers.items():
                if name != manager:
                    paths.difference_update(changed)
            managers.setdefault(manager, set()).update(changed)
        operations[manager] = operation
        for name in [n for n, p in managers.items() if not p]:
            del managers[name]
        new["metadata"]["managedFields"] = [
            {
                "manager": name,
                "operation": operations.get(name, "Update"),
                "apiVersion": new["apiVersion"],
                "fieldsType": "FieldsV1",
                "fieldsV1": _fields_v1(paths),
            }
            for name, paths in sorted(managers.items())
        ]

    def _apply(
        self,
        resource: Resource,
        key: tuple[Resource, str, str],
        config: dict[str, Any],
        manager: str,
        *,
        force: bool,
        scope: str,
    ) -> dict[str, Any]:
        config = copy.deepcopy(config)
        if scope == "status":
            config = {
                k: v for k, v in config.items() if k in ("apiVersion", "kind", "metadata", "status")
            }
        elif resource.status:
            config.pop("status", None)
        applied = {p: v for p, v in _leaves(config).items() if _in_scope(p, scope)}
        old = self.objects.get(key)
        if old is None:
            if scope == "status":
                raise ApiError(404, "NotFound", f'{resource.plural} "{key[2]}" not found')
            return self._create(
                resource, key, config, manager, operation="Apply", owned=set(applied)
            )
        managers = self.managers.get(key, {})
        current = _leaves(old)
        conflicts = sorted(
            (name, path)
            for name, paths in managers.items()
            if name != manager
            for path in paths & set(applied)
            if current.get(path, _MISSING) != applied[path]
        )
        if conflicts and not force:
            shown = "; ".join(f'conflict with "{n}": .{".".join(p)}' for n, p in conflicts[:5])
            raise ApiError(
                409, "Conflict", f"Apply failed with {len(conflicts)} conflicts: {shown}"
            )
        for name, path in conflicts:
            managers[name].discard(path)
        previous = managers.get(manager, set())
        others = set().union(*(p for n, p in managers.items() if n != manager))
        merged = copy.deepcopy(old)
        for path in sorted(previous - set(applied) - others, key=len, reverse=True):
            if _in_scope(path, scope):
                _unset(merged, path)
        for path, value in applied.items():
            _set(merged, path, copy.deepcopy(value))
        if "resourceVersion" in (config.get("metadata") or {}):
            merged["metadata"]["resourceVersion"] = config["metadata"]["resourceVersion"]
        else:
            merged["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
        return self._replace(
            resource,
            key,
            merged,
            manager,
            "Apply",
            scope="status" if scope == "status" else "apply",
            owned=set(applied),
        )

    # -- request handling -------------------------------------------------------------

    def handle(self, method: str, raw_path: str, body: bytes, content_type: str) -> Any:
        url = urlparse(raw_path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        parts = [p for p in url.path.split("/") if p]
        with self.lock:
            self.requests.append((method, url.path))
            for fault in self.faults:
                if fault.times > 0 and fault.method == method and fault.path.search(url.path):
                    fault.times -= 1
                    delay, status = fault.delay, fault.status
                    break
            else:
                delay, status = 0.0, None
        if delay:
            time.sleep(delay)
        if status is not None:
            raise ApiError(
                status, "InternalError" if status >= 500 else "Conflict", "injected fault"
            )
        if parts == ["api"]:
            return {"kind": "APIVersions", "versions": ["v1"]}
        if parts == ["apis"]:
            return self._groups()
        if parts in (["healthz"], ["readyz"], ["livez"]):
            return "ok"
        group, version, rest = _split(parts)
        if not rest:
            return self._discovery(group, version)
        namespace = ""
        if (
            rest[0] == "namespaces"
            and len(rest) >= 3
            and (group, version, rest[2]) in self.resources
        ):
            namespace, rest = rest[1], rest[2:]
        resource = self.resources.get((group, version, rest[0]))
        if resource is None:
            raise ApiError(
                404, "NotFound", f"the server could not find the requested resource {url.path}"
            )
        name = rest[1] if len(rest) > 1 else ""
        sub = rest[2] if len(rest) > 2 else ""
        if sub and not (sub == "status" and resource.status):
            raise ApiError(404, "NotFound", f"{resource.plural} has no subresource {sub}")
        data = _parse(body) if body else {}
        if method == "GET" and not name:
            if query.get("watch") in ("1", "true"):
                return self._watch(resource, namespace, query)
            return self._list(resource, namespace, query)
        with self.lock:
            key = (resource, namespace if resource.namespaced else "", name)
            manager = query.get("fieldManager", "unknown")
            if method == "POST" and not name:
                data_name = (data.get("metadata") or {}).get("name")
                if not data_name and (data.get("metadata") or {}).get("generateName"):
                    data_name = data["metadata"]["generateName"] + uuid.uuid4().hex[:5]
                if not data_name:
                    raise ApiError(422, "Invalid", "metadata.name: Required value")
                key = (resource, namespace if resource.namespaced else "", data_name)
                return self._create(resource, key, data, manager)
            if method == "GET":
                return self._existing(resource, key)
            if method == "DELETE":
                return self._delete(resource, key, data)
            scope = "status" if sub == "status" else "object"
            if method == "PUT":
                existing = self._existing(resource, key)
                if not (data.get("metadata") or {}).get("resourceVersion"):
                    data.setdefault("metadata", {})["resourceVersion"] = existing["metadata"][
                        "resourceVersion"
                    ]
                return self._replace(resource, key, data, manager, "Update", scope=scope)
            if method == "PATCH" and content_type.startswith("application/apply-patch"):
                return self._apply(
                    resource, key, data, manager, force=query.get("force") == "true", scope=scope
                )
            if method == "PATCH" and content_type.startswith("application/merge-patch"):
                existing = self._existing(resource, key)
                merged = _merge(existing, data)
                if "resourceVersion" not in (data.get("metadata") or {}):
                    merged["metadata"]["resourceVersion"] = existing["metadata"]["resourceVersion"]
                return self._replace(resource, key, merged, manager, "Update", scope=scope)
            raise ApiError(
                415, "UnsupportedMediaType", f"{method} with {content_type} is not supported"
            )

    def _existing(self, resource: Resource, key: tuple[Resource, str, str]) -> dict[str, Any]:
        found = self.objects.get(key)
        if found is None:
            raise ApiError(404, "NotFound", f'{resource.plural} "{key[2]}" not found')
        return copy.deepcopy(found)

    def _selected(
        self, resource: Resource, namespace: str, query: Mapping[str, str]
    ) -> list[dict[str, Any]]:
        selector = _selector(query.get("labelSelector", ""))
        return [
            obj
            for (r, ns, _name), obj in sorted(self.objects.items(), key=lambda i: i[0][1:])
            if r == resource and (not namespace or ns == namespace) and selector(obj)
        ]

    def _list(self, resource: Resource, namespace: str, query: Mapping[str, str]) -> dict[str, Any]:
        with self.lock:
            items = copy.deepcopy(self._selected(resource, namespace, query))
            return {
                "apiVersion": resource.api_version,
                "kind": f"{resource.kind}List",
                "metadata": {"resourceVersion": str(self.version)},
                "items": items,
            }

    def _watch(
        self, resource: Resource, namespace: str, query: Mapping[str, str]
    ) -> Iterator[dict[str, Any]]:
        selector = _selector(query.get("labelSelector", ""))
        deadline = time.monotonic() + float(query.get("timeoutSeconds", "1800"))
        start = query.get("resourceVersion", "")
        with self.lock:
            drop = self._drop
            if start in ("", "0"):
                since = self.version
                initial = [
                    {"type": "ADDED", "object": copy.deepcopy(o)}
                    for o in self._selected(resource, namespace, query)
                ]
            else:
                since, initial = int(start), []
        yield from initial
        while True:
            with self.lock:
                expired = since < self.oldest
                if expired:
                    gone = ApiError(
                        410, "Expired", f"too old resource version: {since} ({self.oldest})"
                    )
                    pending = []
                else:
                    versions, events = self._events.get(resource, ([], []))
                    first = bisect.bisect_right(versions, since)
                    pending = [
                        (v, t, o)
                        for v, (t, o) in zip(versions[first:], events[first:], strict=True)
                        if not namespace or o["metadata"].get("namespace") == namespace
                    ]
                    if not pending:
                        remaining = deadline - time.monotonic()
                        if remaining <= 0 or self._drop != drop:
                            return
                        self._watched(resource).wait(min(remaining, 0.5))
                        continue
            if expired:
                yield {"type": "ERROR", "object": gone.status()}
                return
            for version, type_, obj in pending:
                since = version
                if selector(obj):
                    # Events are stored copies, only ever serialized: no copy per watch.
                    yield {"type": type_, "object": obj}

    def _groups(self) -> dict[str, Any]:
        versions: dict[str, list[str]] = {}
        for group, version, _plural in self.resources:
            if group and version not in versions.setdefault(group, []):
                versions[group].append(version)
        return {
            "kind": "APIGroupList",
            "apiVersion": "v1",
            "groups": [
                {
                    "name": group,
                    "versions": [{"groupVersion": f"{group}/{v}", "version": v} for v in vs],
                    "preferredVersion": {"groupVersion": f"{group}/{vs[0]}", "version": vs[0]},
                }
                for group, vs in sorted(versions.items())
            ],
        }

    def _discovery(self, group: str, version: str) -> dict[str, Any]:
        listed = []
        for resource in self.resources.values():
            if (resource.group, resource.version) != (group, version):
                continue
            verbs = ["create", "delete", "get", "list", "patch", "update", "watch"]
            listed.append(
                {
                    "name": resource.plural,
                    "singularName": resource.kind.lower(),
                    "namespaced": resource.namespaced,
                    "kind": resource.kind,
                    "verbs": verbs,
                }
            )
            if resource.status:
                listed.append(
                    {
                        "name": f"{resource.plural}/status",
                        "singularName": "",
                        "namespaced": resource.namespaced,
                        "kind": resource.kind,
                        "verbs": ["get", "patch", "update"],
                    }
                )
        if not listed:
            raise ApiError(404, "NotFound", f"{group}/{version} is not served")
        return {
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": f"{group}/{version}" if group else version,
            "resources": listed,
        }


# -- helpers -----------------------------------------------------------------------------

_MISSING = object()


def _now() -> str:
    return datetime.datetime.now(tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _split(parts: list[str]) -> tuple[str, str, list[str]]:
    if parts[:1] == ["api"] and len(parts) >= 2:
        return "", parts[1], parts[2:]
    if parts[:1] == ["apis"] and len(parts) >= 3:
        return parts[1], parts[2], parts[3:]
    raise ApiError(404, "NotFound", "/" + "/".join(parts))


def _parse(body: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = yaml.safe_load(body)
    if not isinstance(parsed, dict):
        raise ApiError(400, "BadRequest", "the request body is not an object")
    return parsed


def _content(obj: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}


_IDENTITY = {("apiVersion",), ("kind",), ("metadata", "name"), ("metadata", "namespace")}
SERVER_FIELDS = {
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "managedFields",
}


def _leaves(obj: Any, prefix: Path = ()) -> dict[Path, Any]:
    """Every leaf field path (lists are atomic leaves), server and identity fields excluded."""
    out: dict[Path, Any] = {}
    if not isinstance(obj, Mapping):
        return out
    for key, value in obj.items():
        path = (*prefix, key)
        if path in _IDENTITY or (prefix == ("metadata",) and key in SERVER_FIELDS):
            continue
        if isinstance(value, Mapping) and value:
            out |= _leaves(value, path)
        else:
            out[path] = value
    return out


def _in_scope(path: Path, scope: str) -> bool:
    return (path[0] == "status") == (scope == "status")


def _set(obj: dict[str, Any], path: Path, value: Any) -> None:
    for key in path[:-1]:
        child = obj.get(key)
        if not isinstance(child, dict):
            child = obj[key] = {}
        obj = child
    obj[path[-1]] = value


def _unset(obj: dict[str, Any], path: Path) -> None:
    trail = []
    for key in path[:-1]:
        child = obj.get(key)
        if not isinstance(child, dict):
            return
        trail.append((obj, key))
        obj = child
    obj.pop(path[-1], None)
    for parent, key in reversed(trail):
        if parent[key] == {}:
            del parent[key]


def _merge(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, Mapping):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _merge(result.get(key), value)
    return result


def _fields_v1(paths: set[Path]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for path in sorted(paths):
        node = tree
        for key in path:
            node = node.setdefault(f"f:{key}", {})
    return tree


def _selector(text: str) -> Any:
    tests = []
    for term in filter(None, (t.strip() for t in text.split(","))):
        if "!=" in term:
            k, v = term.split("!=", 1)
            tests.append(lambda labels, k=k, v=v: labels.get(k) != v)
        elif "=" in term:
            k, v = term.replace("==", "=").split("=", 1)
            tests.append(lambda labels, k=k, v=v: labels.get(k) == v)
        elif term.startswith("!"):
            tests.append(lambda labels, k=term[1:]: k not in labels)
        else:
            tests.append(lambda labels, k=term: k in labels)

    def matches(obj: Mapping[str, Any]) -> bool:
        labels = (obj.get("metadata") or {}).get("labels") or {}
        return all(test(labels) for test in tests)

    return matches


def _handler(server: ApiServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in separate writes: with Nagle's algorithm the body
        # waits for the client's delayed ACK (40 ms a request).
        disable_nagle_algorithm = True

        def log_message(self, *_args: Any) -> None:
            pass

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            try:
                result = server.handle(
                    self.command, self.path, body, self.headers.get("Content-Type", "")
                )
            except ApiError as exc:
                self._send(exc.code, exc.status())
                return
            if isinstance(result, Iterator):
                self._stream(result)
            else:
                self._send(200 if self.command != "POST" else 201, result)

        def _send(self, code: int, payload: Any) -> None:
            data = json.dumps(payload).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _stream(self, events: Iterator[dict[str, Any]]) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            # The connection ends with the watch: say so, or the client pools it and its
            # next request finds it closed.
            self.send_header("Connection", "close")
            self.end_headers()
            try:
                for event in itertools.chain(events):
                    line = json.dumps(event).encode() + b"\n"
                    self.wfile.write(f"{len(line):x}\r\n".encode() + line + b"\r\n")
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.close_connection = True

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    return Handler
