"""`creditwatch bench`: the pipeline with every rule in force, measured on a synthetic
city replayed through a throwaway Redis (the worker's own code path, without the
broker). Prints throughput and per-batch latency."""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from tqdm import tqdm

from agents.pipeline import Pipeline
from agents.replay import Replayer
from rules.ruleset import default_ruleset
from rules.store import Store
from streams.simulation import generate_city, to_bytes
from streams.stack import start_redis


def run_bench(
    enterprises: int, events: int, seed: int, batch_size: int, progress: bool = True
) -> str:
    city = generate_city(
        seed=seed, enterprises=enterprises, events=events, start=date(2025, 1, 1), days=365
    )
    values = [to_bytes(item) for item in tqdm(city.events(), total=city.total, disable=not
                                              progress, desc="generate", unit="ev")]  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="creditwatch-bench-") as tmp:
        redis = start_redis(Path(tmp), persist=False)
        try:
            return asyncio.run(_measure(redis.url or "", values, batch_size, progress))
        finally:
            redis.stop()


async def _measure(url: str, values: list[bytes], batch_size: int, progress: bool) -> str:
    store = Store.from_url(url, "bench")
    replayer = Replayer(Pipeline(store, "fanout", default_ruleset(), False), batch_size)
    bar = tqdm(total=len(values), disable=not progress, desc="replay", unit="ev")
    started = time.perf_counter()
    try:
        stats = await replayer.run(values, bar.update)
    finally:
        bar.close()
        await store.close()
    took = time.perf_counter() - started
    batches = sorted(stats.batch_seconds)
    pct = statistics.quantiles(batches, n=100) if len(batches) > 1 else batches * 99
    rules = len(default_ruleset().active())
    return "\n".join(
        [
            f"pipeline, {rules} rules in force, batches of {batch_size}, private Redis",
            f"  events      {stats.messages:,} ({stats.applied:,} applied, "
            f"{stats.dead_letters:,} dead letters)",
            f"  rechecks    {stats.rechecks:,} (timers and related parties)",
            f"  warnings    {stats.warnings:,} raised, {stats.closed:,} closed; "
            f"{stats.grade_changes:,} grade changes",
            f"  throughput  {stats.messages / took:,.0f} events/s ({took:.1f} s)",
            f"  batch       p50 {pct[49] * 1000:.1f} ms, p95 {pct[94] * 1000:.1f} ms, "
            f"p99 {pct[98] * 1000:.1f} ms, max {batches[-1] * 1000:.1f} ms",
        ]
    )
