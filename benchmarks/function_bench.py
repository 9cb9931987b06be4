"""Crossplane function benchmark: calls in-process and over gRPC, under load, and memory.

Run: ``python benchmarks/function_bench.py [--clusters 200] [--calls 50] [--load 10000]
[--in-flight 64]``

Starts ``modelplane function serve --insecure`` on a free loopback port. The
requests are shaped as Crossplane sends them: every fetched object carries
the uid and resourceVersion the API server gives it (so the function's
decoder recognises an object it has decoded before). Reported:

- for each request (a ModelEndpoint; a ModelDeployment's first call, before
  its fleet is fetched; the same deployment placing onto ``--clusters``
  clusters with the fleet's replicas; and settled, with only its own
  replicas and the clusters they run on), the median time of the function
  in this process, holding a cache and decoder as the server does, and of a
  call over gRPC;
- ``--load`` calls of the settled request (what Crossplane sends most: every
  reconcile of a deployment that runs), then of the placing one, over gRPC
  with ``--in-flight`` outstanding at all times: throughput, median and 99th
  percentile latency;
- the server's resident memory before the load and after every tenth of it,
  to show it stays flat.

Numbers are printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
from crossplane.function.proto.v1 import run_function_pb2 as fnv1
from crossplane.function.proto.v1 import run_function_pb2_grpc as grpcv1

from modelplane_adapters.crossplane.function import run_function
from modelplane_adapters.crossplane.translate import build_request
from modelplane_core import api
from modelplane_core.cache import Cache
from modelplane_core.compose import Decoder, Observed
from modelplane_core.compose.model_deployment import (
    REQUIRE_CACHE,
    REQUIRE_CLUSTERS,
    REQUIRE_OWN_REPLICAS,
    REQUIRE_REPLICAS,
    cluster_key,
)
from modelplane_core.compose.registry import compose
from modelplane_core.demo import synthetic

ENDPOINT = {
    "apiVersion": "modelplane.ai/v1alpha1",
    "kind": "ModelEndpoint",
    "metadata": {"name": "together", "namespace": "ml-team"},
    "spec": {"url": "https://api.together.xyz/", "rewritePath": "/v1/"},
}


def served(obj: Any, version: int) -> dict[str, Any]:
    """An object as the API server hands it over: with a uid and a resourceVersion."""
    manifest = api.to_dict(obj) if not isinstance(obj, dict) else dict(obj)
    metadata = dict(manifest.get("metadata") or {})
    metadata["uid"] = f"uid-{metadata.get('namespace', '')}-{metadata['name']}"
    metadata["resourceVersion"] = str(version)
    return {**manifest, "metadata": metadata}


def requests(clusters: int) -> dict[str, fnv1.RunFunctionRequest]:
    fleet = synthetic.fleet(clusters=clusters, deployments=1)
    (deployment,) = fleet.deployments
    composite = served(deployment, 42)
    listed = [served(c, 100 + i) for i, c in enumerate(fleet.clusters)]
    caches = [served(c, 9000) for c in fleet.caches]
    placing = {REQUIRE_CLUSTERS: listed, REQUIRE_REPLICAS: [], REQUIRE_CACHE: caches}
    # Its first composition, applied: the replicas exist and are listed by their label.
    first = compose(Observed(composite=deployment, required=placing))
    replicas = [
        served(
            {**r.manifest, "status": {"conditions": [{"type": "Ready", "status": "True"}]}}, 5000
        )
        for r in first.resources
    ]
    on = {r["spec"]["clusterName"] for r in replicas}
    settled: dict[str, list[dict[str, Any]]] = {
        cluster_key(c["metadata"]["name"]): [c] for c in listed if c["metadata"]["name"] in on
    }
    settled[REQUIRE_OWN_REPLICAS] = replicas
    settled[REQUIRE_CACHE] = caches
    observed = {r.key: m for r, m in zip(first.resources, replicas, strict=True)}
    return {
        "ModelEndpoint": build_request(ENDPOINT),
        "ModelDeployment (first call)": build_request(composite),
        f"ModelDeployment (placing, {clusters} clusters)": build_request(
            composite, required=placing
        ),
        "ModelDeployment (settled)": build_request(composite, resources=observed, required=settled),
    }


def median_ms(call: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def load(
    address: str, req: fnv1.RunFunctionRequest, calls: int, in_flight: int, pid: int
) -> tuple[float, list[float], list[float]]:
    """``calls`` calls, ``in_flight`` outstanding: wall, latencies, RSS every tenth of the run."""
    latencies: list[float] = []
    samples: list[float] = []
    every = max(calls // 10, 1)
    pending = iter(range(calls))
    async with grpc.aio.insecure_channel(address) as channel:
        stub = grpcv1.FunctionRunnerServiceStub(channel)

        async def worker() -> None:
            for number in pending:
                started = time.perf_counter()
                await stub.RunFunction(req, timeout=120)
                latencies.append((time.perf_counter() - started) * 1000)
                if number % every == every - 1:
                    samples.append(rss_mb(pid))

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(in_flight)))
        return time.perf_counter() - started, latencies, samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=200)
    parser.add_argument("--calls", type=int, default=50, help="calls per median")
    parser.add_argument("--load", type=int, default=10_000, help="calls under load")
    parser.add_argument("--in-flight", type=int, default=64, help="outstanding calls under load")
    args = parser.parse_args()

    address = f"127.0.0.1:{free_port()}"
    src = Path(__file__).resolve().parent.parent / "src"
    command = [sys.executable, "-m", "modelplane_adapters.cli.main", "function", "serve"]
    server = subprocess.Popen(
        [*command, "--insecure", "--address", address],
        env={**os.environ, "PYTHONPATH": str(src)},
        stderr=subprocess.DEVNULL,
    )
    try:
        built = requests(args.clusters)
        cache, decoder = Cache(), Decoder()  # what the server holds between calls
        with grpc.insecure_channel(address) as channel:
            grpc.channel_ready_future(channel).result(timeout=30)
            stub = grpcv1.FunctionRunnerServiceStub(channel)
            print(f"{'request':<44} {'in-process ms':>14} {'gRPC ms':>9}")
            for name, req in built.items():
                stub.RunFunction(req, timeout=60)  # warm the server's caches
                local = median_ms(
                    lambda req=req: run_function(req, cache=cache, decoder=decoder), args.calls
                )
                remote = median_ms(lambda req=req: stub.RunFunction(req, timeout=60), args.calls)
                print(f"{name:<44} {local:>14.2f} {remote:>9.2f}")
        for kind in ("settled", "placing"):
            req = next(req for name, req in built.items() if kind in name)
            before = rss_mb(server.pid)
            wall, latencies, samples = asyncio.run(
                load(address, req, args.load, args.in_flight, server.pid)
            )
            latencies.sort()
            p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
            print(
                f"load: {args.load} {kind} calls, {args.in_flight} in flight: "
                f"{args.load / wall:.0f} calls/s, p50 {statistics.median(latencies):.1f} ms, "
                f"p99 {p99:.1f} ms"
            )
            print(
                f"  server RSS: {before:.0f} MB before, then every tenth of the load: "
                + ", ".join(f"{mb:.0f}" for mb in samples)
                + " MB"
            )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
