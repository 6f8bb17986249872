"""Redis memory per enterprise, in total and by kind of key (streams/store/__init__.py
lists the layout): `cw:{USCC}:state` is kind `state`, a bucket of the person index
`cw:{p:N:B}:firms` is `person:firms` (as a person's own key of that index was before
the buckets, streams/store/members.py), `cw:{p:N:B}:PKEY:listings` is
`person:listings`, an address bucket `cw:{a:N:B}:firms` is `address:firms`, and a key
shared by all, such as the outbox stream `cw:warnings`, is `shared:warnings`.

Every key is counted (one SCAN); the size of a sample of each kind's keys (MEMORY
USAGE) is scaled to the kind's count. Shared keys are all measured. The sum of the
kinds is less than the growth of `used_memory`, which also holds Redis's own tables
and allocator overhead.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

_SHARED = "shared:"


def key_kind(key: str, prefix: str) -> str:
    """The kind of a key of the store under `prefix`.

    >>> [key_kind(k, "cw") for k in ("cw:{91440300708461136T}:state",
    ...  "cw:{p:1024:7}:firms", "cw:{a:1024:9}:firms", "cw:{p:1024:7}:ab12:listings",
    ...  "cw:warnings",
    ...  "cw:dead-letters:seen")]  # doctest: +NORMALIZE_WHITESPACE
    ['state', 'person:firms', 'address:firms', 'person:listings', 'shared:warnings',
     'shared:dead-letters:seen']

    The console's indexes are one kind per family, whatever their district or grade:

    >>> [key_kind(k, "cw") for k in ("cw:ix:dg:440305:A", "cw:ix:counts", "cw:applied:29")]
    ['shared:ix:dg', 'shared:ix:counts', 'shared:applied']

    and so are the label sweeps' days:

    >>> key_kind("cw:label-firms:2025-10-27", "cw"), key_kind("cw:label-day:2025-10-27", "cw")
    ('shared:label-firms', 'shared:label-day')
    """
    rest = key[len(prefix) + 1 :]
    if rest.startswith("ix:"):
        return _SHARED + ":".join(rest.split(":")[:2])
    for family in ("applied", "label-day", "label-firms"):
        if rest.startswith(family + ":"):
            return _SHARED + family
    if not rest.startswith("{"):
        return _SHARED + rest
    tag, _, part = rest[1:].partition("}:")
    for marker, name in (("p:", "person"), ("a:", "address")):
        if tag.startswith(marker):  # a bucket, or one person's key in its slot
            return f"{name}:{part.rpartition(':')[2]}"
    if tag.startswith("wh:"):
        return f"webhook:{part}"
    return part


@dataclass
class KeyCensus:
    """Keys per kind, and a uniform sample of each kind's keys (reservoirs)."""

    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    samples: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    keep: int = 5000
    rng: random.Random = field(default_factory=lambda: random.Random(0))

    def add(self, key: str, kind: str) -> None:
        self.counts[kind] += 1
        reservoir, seen = self.samples[kind], self.counts[kind]
        if kind.startswith(_SHARED) or len(reservoir) < self.keep:
            reservoir.append(key)
        else:
            slot = self.rng.randrange(seen)
            if slot < self.keep:
                reservoir[slot] = key

    def plan(self, budget: int) -> dict[str, list[str]]:
        """Which keys to measure: every shared key, and `budget` of the others shared
        among the kinds by their counts (at least 20 each, where there are 20)."""
        others = {k: n for k, n in self.counts.items() if not k.startswith(_SHARED)}
        total = sum(others.values()) or 1
        chosen: dict[str, list[str]] = {}
        for kind, keys in self.samples.items():
            if kind.startswith(_SHARED):
                chosen[kind] = keys
            else:
                want = max(20, round(budget * others[kind] / total))
                chosen[kind] = keys[:want]
        return chosen


async def used_memory(redis: Any) -> int:
    info = await redis.info("memory")
    return int(info["used_memory"])


async def memory_breakdown(
    redis: Any, prefix: str, enterprises: int, budget: int = 5000
) -> dict[str, dict[str, float]]:
    """kind -> {keys, bytes_per_enterprise}, the largest first."""
    census = KeyCensus()
    async for raw in redis.scan_iter(match=f"{prefix}:*", count=5000):
        key = raw.decode()
        census.add(key, key_kind(key, prefix))
    result: dict[str, dict[str, float]] = {}
    for kind, keys in census.plan(budget).items():
        sizes = await _memory_usage(redis, keys)
        measured = [s for s in sizes if s is not None]
        if not measured:
            continue
        total = sum(measured) / len(measured) * census.counts[kind]
        result[kind] = {
            "keys": census.counts[kind],
            "bytes_per_enterprise": total / max(1, enterprises),
        }
    return dict(sorted(result.items(), key=lambda kv: -kv[1]["bytes_per_enterprise"]))


async def _memory_usage(redis: Any, keys: list[str], chunk: int = 500) -> list[int | None]:
    sizes: list[int | None] = []
    for start in range(0, len(keys), chunk):
        pipe = redis.pipeline(transaction=False)
        for key in keys[start : start + chunk]:
            pipe.memory_usage(key, samples=0)  # 0: every element, exact
        sizes.extend(await pipe.execute())
    return sizes
