"""What writing a day's sweep of model labels costs per firm swept: the same firms'
sweeps written as a whole commit (lua/commit.lua, as before the sweep script) and as
the sweep script (lua/sweep.lua), alternated, on a private redis-server. Run from the
repository root:

    .venv/bin/python -m tests.perf.profile_sweeps --firms 400 --rounds 6

Each firm has four samples (events on four days); each round puts their states back
as they were, loads them (cache dropped) and releases the first sample's label as of
its horizon's end, 40 firms a batch. Prints the worker's CPU in `store.commit`
(thread time: the state's packing, the arguments, the round trip) and Redis's CPU
(INFO cpu) per firm swept.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime
from typing import Any

from redis import Redis

from agents.pipeline import Message, Pipeline
from rules.learning.learner import Learner
from rules.ruleset import default_ruleset
from streams.store import Commit, Store
from tests import factories as f
from tests.perf.profile_pipeline import private_redis

BATCH = 40


def redis_cpu(url: str) -> float:
    with Redis.from_url(url) as client:
        cpu: Any = client.info("cpu")
    return float(cpu["used_cpu_sys"] + cpu["used_cpu_user"])


async def profile(url: str, firms: int, rounds: int) -> dict[bool, list[float]]:
    store = Store.from_url(url, prefix="sweeps")
    pipeline = Pipeline(store, "fanout", default_ruleset(), False)
    usccs = [f.uscc() for _ in range(firms)]
    for n, uscc in enumerate(usccs):
        events = [f.registered_on(uscc, "2025-01-10")]
        events += f.complaints(uscc, "2025-02-01", "2025-03-05", "2025-04-02")
        await pipeline.handle([Message("events", 0, n, f.encode(e)) for e in events])
    stored = {u: await store.redis.get(store._ent(u, "state")) for u in usccs}
    at = datetime(2025, 7, 10, tzinfo=UTC).isoformat()  # the first sample's horizon passed
    spent: dict[bool, list[float]] = {True: [0.0, 0.0, 0], False: [0.0, 0.0, 0]}
    for n in range(rounds):
        for swept in (False, True) if n % 2 == 0 else (True, False):
            pipe = store.redis.pipeline(transaction=False)
            for uscc, raw in stored.items():
                pipe.set(store._ent(uscc, "state"), raw)
            await pipe.execute()
            store.state_cache.drop()
            for i in range(0, len(usccs), BATCH):
                group = usccs[i : i + BATCH]
                loaded = await store.load_enterprises({u: {} for u in group}, {}, {})
                commits = []
                for uscc in group:
                    state = loaded.states[uscc]
                    assert state is not None
                    commit = Commit(uscc, [], state, state_was=loaded.versions[uscc])
                    commit.labels = Learner().sweep(state, at)
                    commit.swept = swept
                    commits.append(commit)
                redis_before, before = redis_cpu(url), time.thread_time()
                written = await store.commit(commits, [])
                after, redis_after = time.thread_time(), redis_cpu(url)
                assert all(written) and all(c.labels for c in commits)
                spent[swept][0] += after - before
                spent[swept][1] += redis_after - redis_before
                spent[swept][2] += len(group)
    await store.close()
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    with private_redis() as url:
        spent = asyncio.run(profile(url, args.firms, args.rounds))
    for swept, (worker, redis, n) in sorted(spent.items()):
        name = "sweep script" if swept else "whole commit"
        print(f"{name}: worker {1e6 * worker / n:.1f} us, Redis {1e6 * redis / n:.1f} us "
              f"per firm swept ({n:.0f})")  # fmt: skip


if __name__ == "__main__":
    main()
