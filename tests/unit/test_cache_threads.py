"""One Cache shared by several threads gives every thread the answers it gets alone.

The function server and the controller compose on worker threads that share
the caller-owned Cache; its tables are written concurrently. Whatever the
interleaving, a composition must equal the one computed with no cache at all.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from modelplane_core import api
from modelplane_core.cache import Cache
from modelplane_core.compose import Observed, compose
from modelplane_core.demo import synthetic
from modelplane_core.memo import Memo


def test_compositions_through_a_shared_cache_equal_uncached_ones() -> None:
    fleet = synthetic.fleet(clusters=12, deployments=24, seed=3)
    required = {
        "clusters": tuple(fleet.clusters),
        "replicas": (),
        "cache": tuple(fleet.caches),
    }
    inputs = [Observed(composite=d, required=required) for d in fleet.deployments]
    expected = [compose(o).to_dict() for o in inputs]
    cache = Cache(limit=64)  # small: evictions happen while other threads read
    barrier = threading.Barrier(4)

    def run(offset: int) -> list[dict[str, object]]:
        barrier.wait()
        order = inputs[offset:] + inputs[:offset]
        got = [compose(o, cache).to_dict() for o in order]
        return got[len(order) - offset :] + got[: len(order) - offset]

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(run, [0, 6, 12, 18]))
    assert all(result == expected for result in results)
    assert isinstance(fleet.deployments[0], api.ModelDeployment)


def test_a_memo_under_concurrent_writes_stays_within_its_limit_and_correct() -> None:
    memo: Memo[int, int] = Memo(limit=50)
    barrier = threading.Barrier(4)

    def work(seed: int) -> bool:
        barrier.wait()
        return all(memo.get(n % 200, lambda n=n: (n % 200) * 3) == (n % 200) * 3
                   for n in range(seed, seed + 5000))  # fmt: skip

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert all(pool.map(work, [0, 1, 2, 3]))
    assert len(memo) <= 50
