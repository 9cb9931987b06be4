"""DRA CEL matcher benchmark: compile time, first and memoized evaluation throughput.

Run: ``python benchmarks/cel_bench.py [--devices 10000] [--seed 7]``

Evaluates every selector the seeds' documentation and example manifests use
against ``--devices`` generated devices, nearly all with distinct content (the
memory size and an index attribute vary), so the first pass is a worst case:

- compile: ``cel.compile`` (parse, type check, cost bound) per selector, with
  the compile cache cleared, so each is a cold compile;
- device conversion: building each device's CEL activation (typed attributes,
  semvers, quantities), which every selector then shares;
- first evaluation: every selector on every device, through ``Selector.evaluate``
  -- a celpy run per distinct device content, a memo hit for the repeats;
- memoized evaluation: the same pass again, all memo hits, which is what a
  fleet pass mostly does (many pools publish the same few device kinds).

Numbers are printed, never asserted.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from typing import Any

from modelplane_core import cel
from modelplane_core.cel.activation import activation

# The selectors of the seeds' docs (models/model-deployment, overview) and of the
# example manifests (model-deployment-multinode: 120Gi, gke west: 35Gi).
SELECTORS = (
    'device.capacity["gpu.nvidia.com"].memory.compareTo(quantity("20Gi")) >= 0',
    'device.capacity["gpu.nvidia.com"].memory.compareTo(quantity("35Gi")) >= 0',
    'device.capacity["gpu.nvidia.com"].memory.compareTo(quantity("40Gi")) >= 0',
    'device.capacity["gpu.nvidia.com"].memory.compareTo(quantity("120Gi")) >= 0',
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
    """``count`` devices: 90% GPUs with distinct content, 10% one repeated NIC kind."""
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


_A = 'device.attributes["gpu.nvidia.com"]'
_C = 'device.capacity["gpu.nvidia.com"]'


def _rate(count: int, seconds: float) -> str:
    return f"{count / seconds:>10,.0f}/s" if seconds > 0 else f"{'-':>12}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=10_000, help="devices to generate")
    parser.add_argument("--seed", type=int, default=7, help="seed of the device generator")
    args = parser.parse_args()

    compile_us: list[float] = []
    selectors: list[cel.Selector] = []
    for expression in SELECTORS:
        start = time.perf_counter()
        selectors.append(cel.compile(expression))  # no cache: every compile is cold
        compile_us.append((time.perf_counter() - start) * 1e6)
    devices = generate_devices(args.devices, args.seed)

    # One cache for the whole run, as a scheduler owning it between passes would hold.
    cache = cel.SelectorCache()
    start = time.perf_counter()
    for device in devices:
        activation(device, cache)
    conversion = time.perf_counter() - start
    distinct = len(cache.activations)

    print(f"selectors: {len(SELECTORS)}, devices: {len(devices)} ({distinct} distinct contents)")
    print(
        f"compile: median {statistics.median(compile_us):,.0f} us, "
        f"max {max(compile_us):,.0f} us per selector (cold)"
    )
    print(
        f"device conversion: {_rate(len(devices), conversion)} "
        f"({conversion:.2f} s for {len(devices)} devices, shared by all selectors)"
    )
    print()
    print(f"selector (A = {_A}, C = {_C})")
    print(
        f"{'':<74} {'compile us':>10} {'matches':>8} "
        f"{'first eval':>12} {'celpy runs':>10} {'memoized':>12}"
    )
    total_first = total_memo = 0.0
    total_matches = total_runs = 0
    for expression, selector, compiled_us in zip(SELECTORS, selectors, compile_us, strict=True):
        before = cache.evaluations
        start = time.perf_counter()
        matches = sum(selector.matches(d, cache) for d in devices)
        first = time.perf_counter() - start
        runs = cache.evaluations - before
        start = time.perf_counter()
        again = sum(selector.matches(d, cache) for d in devices)
        memoized = time.perf_counter() - start
        assert again == matches, "memoized outcomes must equal first outcomes"
        label = expression.replace(_C, "C").replace(_A, "A")
        print(
            f"{label:<74} {compiled_us:>10,.0f} {matches:>8} "
            f"{_rate(len(devices), first)} {runs:>10} {_rate(len(devices), memoized)}"
        )
        total_first += first
        total_memo += memoized
        total_matches += matches
        total_runs += runs
    evaluations = len(SELECTORS) * len(devices)
    print()
    print(f"matches: {total_matches} of {evaluations} evaluations")
    print(
        f"first evaluation: {_rate(evaluations, total_first).strip()} evaluations "
        f"({total_first:.2f} s; {total_runs} celpy runs, "
        f"{_rate(total_runs, total_first).strip()} runs)"
    )
    print(
        f"memoized evaluation: {_rate(evaluations, total_memo).strip()} evaluations "
        f"({total_memo:.2f} s)"
    )


if __name__ == "__main__":
    main()
