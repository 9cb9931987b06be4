"""Probes, Prometheus metrics and structured logs for the controller.

Metrics are written in the Prometheus text exposition format (version 0.0.4)
by a few lines here rather than with ``prometheus_client``: the controller
exports four families (reconciles, errors, reconcile durations, queue depth),
and a dependency with its own global registry and threads would be more code
to reason about than the writer itself. Names follow controller-runtime's, so
dashboards built for Go controllers read them.

``/healthz`` answers 200 while the process serves; ``/readyz`` once every
informer has listed its kind (before that, reconciling would compose from a
partial view). Both listen on loopback by default: a Pod's probes and a
Prometheus scrape need the Pod IP, so the generated Deployment passes
``0.0.0.0`` explicitly (see docs/controller.md).
"""

from __future__ import annotations

import bisect
import json
import logging
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final

BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
NAME: Final = "modelplane"


class Metrics:
    """Counters, a duration histogram and a gauge, per composite kind; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reconciles: dict[tuple[str, str], int] = {}  # (kind, result) -> count
        self.errors: dict[str, int] = {}
        self._durations: dict[str, list[int]] = {}
        self._sums: dict[str, float] = {}
        self._counts: dict[str, int] = {}
        self.queue_depth: Callable[[], int] = lambda: 0

    def observe(self, kind: str, result: str, seconds: float) -> None:
        with self._lock:
            self.reconciles[(kind, result)] = self.reconciles.get((kind, result), 0) + 1
            if result == "error":
                self.errors[kind] = self.errors.get(kind, 0) + 1
            buckets = self._durations.setdefault(kind, [0] * len(BUCKETS))
            index = bisect.bisect_left(BUCKETS, seconds)
            for i in range(index, len(BUCKETS)):
                buckets[i] += 1
            self._sums[kind] = self._sums.get(kind, 0.0) + seconds
            self._counts[kind] = self._counts.get(kind, 0) + 1

    def exposition(self) -> str:
        lines = [
            "# HELP controller_runtime_reconcile_total Reconciles per composite kind and result.",
            "# TYPE controller_runtime_reconcile_total counter",
        ]
        with self._lock:
            for (kind, result), count in sorted(self.reconciles.items()):
                lines.append(
                    f'controller_runtime_reconcile_total{{controller="{NAME}",kind="{kind}",'
                    f'result="{result}"}} {count}'
                )
            lines += [
                "# HELP controller_runtime_reconcile_errors_total Reconciles that failed.",
                "# TYPE controller_runtime_reconcile_errors_total counter",
            ]
            for kind, count in sorted(self.errors.items()):
                lines.append(
                    f'controller_runtime_reconcile_errors_total{{controller="{NAME}",'
                    f'kind="{kind}"}} {count}'
                )
            lines += [
                "# HELP controller_runtime_reconcile_time_seconds Reconcile durations.",
                "# TYPE controller_runtime_reconcile_time_seconds histogram",
            ]
            histogram = "controller_runtime_reconcile_time_seconds"
            for kind, buckets in sorted(self._durations.items()):
                labels = f'controller="{NAME}",kind="{kind}"'
                for bound, count in zip(BUCKETS, buckets, strict=True):
                    lines.append(f'{histogram}_bucket{{{labels},le="{bound}"}} {count}')
                lines.append(f'{histogram}_bucket{{{labels},le="+Inf"}} {self._counts[kind]}')
                lines.append(f"{histogram}_sum{{{labels}}} {self._sums[kind]:.6f}")
                lines.append(f"{histogram}_count{{{labels}}} {self._counts[kind]}")
        lines += [
            "# HELP workqueue_depth Composites waiting to be reconciled.",
            "# TYPE workqueue_depth gauge",
            f'workqueue_depth{{name="{NAME}"}} {self.queue_depth()}',
        ]
        return "\n".join(lines) + "\n"


class Endpoints:
    """One small HTTP server per address: probes on one, metrics on the other (or both)."""

    def __init__(
        self,
        address: str,
        routes: dict[str, Callable[[], tuple[int, str, str]]],
    ) -> None:
        host, _, port = address.rpartition(":")
        handler = _handler(routes)
        self.server = ThreadingHTTPServer((host.strip("[]") or "0.0.0.0", int(port)), handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def address(self) -> str:
        host, port = self.server.server_address[:2]
        return f"{host!s}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _handler(routes: dict[str, Callable[[], tuple[int, str, str]]]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: Any) -> None:
            pass

        def do_GET(self) -> None:  # the HTTP method name
            route = routes.get(self.path.split("?", 1)[0])
            code, content_type, body = route() if route else (404, "text/plain", "not found\n")
            data = body.encode()
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and any ``extra`` fields."""

    _STANDARD: Final = frozenset(vars(logging.makeLogRecord({})))

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in self._STANDARD and key not in entry and not key.startswith("_"):
                entry[key] = value if isinstance(value, int | float | str | bool) else str(value)
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def configure_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
