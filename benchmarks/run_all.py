"""Run every benchmark with its default sizes (``nox -s bench``); numbers are printed only.

Each benchmark is its own script so it can be run alone with its own options;
this runs them one after another, each in a fresh interpreter so their memos
and warm caches never flatter one another.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHMARKS = (
    "cel_bench.py",
    "schedule_bench.py",
    "function_bench.py",
    "simulate_bench.py",
    "controller_bench.py",
)


def main() -> int:
    here = Path(__file__).resolve().parent
    failed = 0
    for name in BENCHMARKS:
        print(f"== {name}", flush=True)
        failed += subprocess.run([sys.executable, str(here / name)], check=False).returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
