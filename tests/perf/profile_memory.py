"""Redis bytes per enterprise after a simulated city's full year, by kind of key, and
what the parts of the stored states weigh. The year is replayed as
tests/perf/profile_pipeline.py replays it (in process, a private redis-server); the
keys are counted and sized as the bench does (streams/bench/redis_memory.py: one SCAN,
MEMORY USAGE of a sample of each kind, scaled). Run from the repository root:

    .venv/bin/python -m tests.perf.profile_memory --enterprises 3000 --events 30000

A state's part weighs what leaving it out saves: the state compressed whole, less the
state compressed without that field (the dictionary makes parts share their bytes, so
the parts do not add up to the whole).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

import redis.asyncio as aioredis

from rules import compression
from streams.bench.redis_memory import memory_breakdown, used_memory
from streams.store.digests import unwrap_all
from tests.perf.profile_pipeline import _replay, city_messages, private_redis, replay_arguments

PREFIX = "perf"  # as profile_pipeline's store


def state_parts(raws: list[bytes]) -> tuple[float, float, float, dict[str, float]]:
    """The mean size of the guard, of the index memberships held and of the packed
    state, and per top-level field what it adds to the packed state, over these stored
    values."""
    guard = held = whole = 0.0
    parts: dict[str, float] = defaultdict(float)
    for raw in raws:
        front, memberships, packed = unwrap_all(raw)
        guard += len(front or b"")
        held += len(memberships or b"")
        whole += len(packed)
        fields = compression.unpack_compressed(packed)
        for name in fields:
            rest = {k: v for k, v in fields.items() if k != name}
            parts[name] += len(packed) - len(compression.pack_compressed(rest, compression.STATE))
    n = max(1, len(raws))
    ranked = sorted(((k, v / n) for k, v in parts.items()), key=lambda kv: -kv[1])
    return guard / n, held / n, whole / n, dict(ranked)


async def measure(url: str, enterprises: int, sample: int) -> None:
    redis = aioredis.from_url(url)
    firms = int(await redis.hlen(f"{PREFIX}:directory")) or enterprises
    memory = await used_memory(redis)
    kinds = await memory_breakdown(redis, PREFIX, firms)
    print(f"enterprises {firms:,}; used_memory {memory / firms:,.0f} B per enterprise")
    print(f"{'kind':<28} {'keys':>8} {'B/firm':>8}")
    for kind, figures in kinds.items():
        print(f"{kind:<28} {figures['keys']:>8,.0f} {figures['bytes_per_enterprise']:>8.1f}")
    total = sum(f["bytes_per_enterprise"] for f in kinds.values())
    print(f"{'(sum of kinds)':<28} {'':>8} {total:>8.1f}")
    keys = [k async for k in redis.scan_iter(match=f"{PREFIX}:{{*}}:state", count=5000)]
    found: list[Any] = await redis.mget(keys[:sample])
    raws = [r for r in found if r]
    guard, held, whole, parts = state_parts(raws)
    print(f"state value: guard {guard:.0f} B, index memberships {held:.0f} B, "
          f"packed state {whole:.0f} B; "
          "fields by what they add compressed (B):")  # fmt: skip
    print("  " + ", ".join(f"{k} {v:.0f}" for k, v in parts.items() if v >= 1))
    await redis.aclose()


def main() -> None:
    parser = replay_arguments(__doc__.splitlines()[0])
    parser.add_argument("--states", type=int, default=500, help="states to take apart")
    args = parser.parse_args()
    values = city_messages(args.seed, args.enterprises, args.events, args.envelope)
    with private_redis() as url:
        asyncio.run(_replay(url, values, args.batch))
        asyncio.run(measure(url, args.enterprises, args.states))


if __name__ == "__main__":
    main()
