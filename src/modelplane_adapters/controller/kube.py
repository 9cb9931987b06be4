"""The Kubernetes API over the official ``kubernetes`` client, as plain JSON.

The client's generated models are skipped on purpose: the controller deals in
wire dicts (what composers read and write), and decoding every watched object
into models and back would cost more than the reconcile itself. Requests go
through ``ApiClient`` (its configuration, authentication, TLS and connection
pool); answers are read as JSON. Resource names (plural, scope, subresources)
come from discovery, as ``kubectl`` finds them, and are cached per group version.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from typing import Any, Final
from urllib.parse import quote, urlencode

import attrs
from kubernetes import client

# A request that takes longer than this failed (connect, read); watches set their own.
REQUEST_TIMEOUT: Final = 30.0
APPLY: Final = "application/apply-patch+yaml"
MERGE: Final = "application/merge-patch+json"


class ApiError(Exception):
    """A non-2xx answer (or none at all: ``status`` 0 for a timeout or a refused connection)."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(f"{status} {reason}: {message}")
        self.status, self.reason, self.message = status, reason, message

    @property
    def conflict(self) -> bool:
        return self.status == 409

    @property
    def gone(self) -> bool:
        return self.status == 410

    @property
    def not_found(self) -> bool:
        return self.status == 404


@attrs.frozen
class ResourceInfo:
    """How the API serves a kind: its plural, whether it is namespaced, its subresources."""

    api_version: str
    kind: str
    plural: str
    namespaced: bool
    status: bool

    def path(self, namespace: str = "", name: str = "", subresource: str = "") -> str:
        base = (
            f"/api/{self.api_version}"
            if "/" not in self.api_version
            else (f"/apis/{self.api_version}")
        )
        if self.namespaced and namespace:
            base += f"/namespaces/{quote(namespace, safe='')}"
        base += f"/{self.plural}"
        if name:
            base += f"/{quote(name, safe='')}"
        if subresource:
            base += f"/{subresource}"
        return base


class Kube:
    """JSON requests, watch streams and discovery against one API server."""

    def __init__(self, api_client: client.ApiClient, *, timeout: float = REQUEST_TIMEOUT) -> None:
        self.api = api_client
        self.timeout = timeout
        self._discovered: dict[str, dict[str, ResourceInfo]] = {}
        self._lock = threading.Lock()

    def _send(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        content_type: str = "application/json",
        timeout: float | tuple[float, float] | None = None,
    ) -> Any:
        url = self.api.configuration.host.rstrip("/") + path
        if query:
            url += "?" + urlencode({k: v for k, v in query.items() if v is not None})
        headers = {"Accept": "application/json", "Content-Type": content_type}
        self.api.update_params_for_auth(headers, [], ["BearerToken"], path, method, body)
        headers.update(self.api.default_headers)
        try:
            return self.api.call_api(
                method,
                url,
                header_params=headers,
                body=body,
                _request_timeout=timeout if timeout is not None else self.timeout,
            )
        except Exception as exc:  # urllib3: timeouts, refused connections, resets
            raise ApiError(0, type(exc).__name__, str(exc)) from exc

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """One request; the decoded JSON answer, or :class:`ApiError`."""
        response = self._send(method, path, **kwargs)
        try:
            data = response.read()
        except Exception as exc:
            raise ApiError(0, type(exc).__name__, str(exc)) from exc
        if not 200 <= response.status < 300:
            raise _error(response.status, data)
        return json.loads(data) if data else None

    def stream(self, path: str, query: Mapping[str, Any], *, timeout: float) -> Iterator[Any]:
        """A watch: one decoded event per line until the server ends it."""
        response = self._send("GET", path, query=query, timeout=(self.timeout, timeout))
        raw = response.response
        try:
            if not 200 <= response.status < 300:
                raise _error(response.status, raw.read())
            pending = b""
            for chunk in raw.stream(65536, decode_content=False):
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    if line.strip():
                        yield json.loads(line)
        except ApiError:
            raise
        except Exception as exc:
            raise ApiError(0, type(exc).__name__, str(exc)) from exc
        finally:
            raw.release_conn()

    # -- discovery --------------------------------------------------------------------

    def resource(self, api_version: str, kind: str) -> ResourceInfo:
        """How ``kind`` is served; :class:`ApiError` 404 when the API server does not serve it."""
        with self._lock:
            known = self._discovered.get(api_version)
        if known is None:
            path = f"/apis/{api_version}" if "/" in api_version else f"/api/{api_version}"
            listed = self.request("GET", path)
            subresources = {
                r["name"].split("/", 1)[0]
                for r in listed.get("resources", ())
                if r["name"].endswith("/status")
            }
            known = {
                r["kind"]: ResourceInfo(
                    api_version,
                    r["kind"],
                    r["name"],
                    bool(r["namespaced"]),
                    r["name"] in subresources,
                )
                for r in listed.get("resources", ())
                if "/" not in r["name"]
            }
            with self._lock:
                self._discovered[api_version] = known
        if kind not in known:
            raise ApiError(404, "NotFound", f"{api_version} {kind} is not served by the API server")
        return known[kind]

    def forget_discovery(self, api_version: str) -> None:
        """A kind was missing: ask again next time (a CRD may have been installed since)."""
        with self._lock:
            self._discovered.pop(api_version, None)


def _error(status: int, data: bytes) -> ApiError:
    try:
        body = json.loads(data)
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    return ApiError(
        status, str(body.get("reason") or "Error"), str(body.get("message") or data[:200])
    )
