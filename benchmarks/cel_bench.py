"""DRA CEL matcher benchmark: compile time, first and memoized evaluation throughput.

Run: ``python benchmarks/cel_bench.py [--devices 10000] [--seed 7]``

Evaluates the selectors from the seeds' documentation against generated
devices. "first" evaluations run celpy on a device content the selector has
not seen; "memoized" evaluations hit the per-selector memo, which is what a
fleet pass mostly does (many pools publish the same device kinds).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from typing import Any

from modelplane_core import cel

SELECTORS = (
    'device.capacity["gpu.nvidia.com"].memory.compareTo(quantity("20Gi")) >= 0',
    'device.capacity["gpu.nvidia.com"].memory.compareTo(quantity("40Gi")) >= 0',
    'device.attributes["gpu.nvidia.com"].architecture == "Hopper"',
    'device.attributes["nic.nvidia.com"].linkType == "infiniband"',
    'device.attributes["gpu.nvidia.com"].cudaComputeCapability.isGreaterThan(semver("8.9.0"))',
    'device.driver == "gpu.nvidia.com"',
    '"gpu.nvidia.com" in device.attributes',
    'device.attributes["gpu.nvidia.com"].architecture == "Hopper" && '
    'device.capacity["gpu.nvidia.com"].memory.compareTo(quantity("80Gi")) >= 0',
)

ARCHITECTURES = ("Ampere", "Ada", "Hopper", "Blackwell")
VERSIONS = ("8.0.0", "8.6.0", "8.9.0", "9.0.0", "10.0.0")


def generate_devices(count: int, seed: int) -> list[dict[str, Any]]:
    """``count`` devices with distinct content (memory varies per device)."""
    rng = random.Random(seed)
    devices: list[dict[str, Any]] = []
    for index in range(count):
        if rng.random() < 0.1:
            devices.append(
                {"driver": "nic.nvidia.com", "attributes": {"linkType": {"string": "infiniband"}}}
            )
            continue
        devices.append(
            {
                "driver": "gpu.nvidia.com",
                "attributes": {
                    "architecture": {"string": rng.choice(ARCHITECTURES)},
                    "cudaComputeCapability": {"version": rng.choice(VERSIONS)},
                    "index": {"int": index},
                },
                "capacity": {"memory": {"value": f"{rng.randint(8, 192) * 1024 + index}Mi"}},
            }
        )
    return devices


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    compile_us = []
    for expression in SELECTORS:
        cel.compile.cache_clear()
        start = time.perf_counter()
        cel.compile(expression)
        compile_us.append((time.perf_counter() - start) * 1e6)
    selectors = [cel.compile(e) for e in SELECTORS]
    devices = generate_devices(args.devices, args.seed)

    evaluations = len(selectors) * len(devices)
    before = cel.evaluation_count()
    start = time.perf_counter()
    matched = sum(s.matches(d) for s in selectors for d in devices)
    first = time.perf_counter() - start
    ran = cel.evaluation_count() - before

    start = time.perf_counter()
    again = sum(s.matches(d) for s in selectors for d in devices)
    memoized = time.perf_counter() - start
    assert again == matched, "memoized outcomes must equal first outcomes"

    print(f"selectors: {len(SELECTORS)}, devices: {len(devices)}, matches: {matched}")
    print(
        f"compile: median {statistics.median(compile_us):.0f} us, "
        f"max {max(compile_us):.0f} us per selector"
    )
    print(
        f"first evaluation: {evaluations / first:,.0f} evaluations/s "
        f"({first:.2f} s, {ran} celpy runs)"
    )
    print(f"memoized evaluation: {evaluations / memoized:,.0f} evaluations/s ({memoized:.2f} s)")


if __name__ == "__main__":
    main()
