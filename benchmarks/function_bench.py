"""Crossplane function benchmark: one RunFunction in-process and over gRPC, and a burst.

Run: ``python benchmarks/function_bench.py [--clusters 200] [--calls 50] [--burst 500]``

Starts ``modelplane function serve --insecure`` on a free loopback port and
measures, for three requests (a ModelEndpoint, a ModelDeployment's first call
before its fleet is fetched, and the same deployment scheduled onto a synthetic
fleet of ``--clusters`` clusters): the median time of the function itself
(``run_function`` in this process) and of a call over gRPC, then the wall time
of ``--burst`` concurrent calls cycling through the three.
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

import grpc
from crossplane.function.proto.v1 import run_function_pb2 as fnv1
from crossplane.function.proto.v1 import run_function_pb2_grpc as grpcv1

from modelplane_adapters.crossplane.function import run_function
from modelplane_adapters.crossplane.translate import build_request
from modelplane_core import api
from modelplane_core.demo import synthetic

ENDPOINT = {
    "apiVersion": "modelplane.ai/v1alpha1",
    "kind": "ModelEndpoint",
    "metadata": {"name": "together", "namespace": "ml-team"},
    "spec": {"url": "https://api.together.xyz/", "rewritePath": "/v1/"},
}


def requests(clusters: int) -> dict[str, fnv1.RunFunctionRequest]:
    fleet = synthetic.fleet(clusters=clusters, deployments=1)
    (deployment,) = fleet.deployments
    composite = api.to_dict(deployment)
    required = {
        "clusters": [api.to_dict(c) for c in fleet.clusters],
        "replicas": [],
        "cache": [api.to_dict(c) for c in fleet.caches],
    }
    return {
        "ModelEndpoint": build_request(ENDPOINT),
        "ModelDeployment (first call)": build_request(composite),
        f"ModelDeployment ({clusters} clusters)": build_request(composite, required=required),
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=200)
    parser.add_argument("--calls", type=int, default=50, help="calls per median")
    parser.add_argument("--burst", type=int, default=500, help="concurrent calls")
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
        with grpc.insecure_channel(address) as channel:
            grpc.channel_ready_future(channel).result(timeout=30)
            stub = grpcv1.FunctionRunnerServiceStub(channel)
            print(f"{'request':<34} {'in-process ms':>14} {'gRPC ms':>9}")
            for name, req in built.items():
                stub.RunFunction(req, timeout=60)  # warm the server's caches
                local = median_ms(lambda req=req: run_function(req), args.calls)
                remote = median_ms(lambda req=req: stub.RunFunction(req, timeout=60), args.calls)
                print(f"{name:<34} {local:>14.2f} {remote:>9.2f}")

        async def burst() -> float:
            cycle = list(built.values())
            async with grpc.aio.insecure_channel(address) as channel:
                stub = grpcv1.FunctionRunnerServiceStub(channel)
                started = time.perf_counter()
                await asyncio.gather(
                    *(
                        stub.RunFunction(cycle[i % len(cycle)], timeout=120)
                        for i in range(args.burst)
                    )
                )
                return time.perf_counter() - started

        print(f"{args.burst} concurrent calls: {asyncio.run(burst()):.2f} s")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
