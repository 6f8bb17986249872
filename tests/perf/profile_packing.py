"""The CPU of storing and loading an enterprise's state, step by step, over the states
a simulated city's year goes through (the state after each event, as the worker
commits it when each batch holds one event of the firm; the models' samples kept, no
model). No Redis, no Kafka: the codec alone (rules/compression.py, rules/state.py).
Run from the repository root:

    .venv/bin/python -m tests.perf.profile_packing --enterprises 3000 --events 30000

Prints µs per state for each step of `to_bytes` and `from_stored`, the stored bytes,
and the same figures for the previous stored form (version 1), which must still read.
Times are the process's CPU, best of `--repeat` passes, with the garbage collector off
(its pauses would land on whichever step runs).
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable, Iterable
from hashlib import sha1
from statistics import mean
from typing import Any

import msgpack

from rules import aggregates, compression
from rules.learning.learner import Learner
from rules.ruleset import default_ruleset
from rules.state import EnterpriseState
from tests.perf.profile_engine import city_events, fold


def best_cpu_us(step: Callable[[Any], object], items: Iterable[Any], repeat: int) -> float:
    """The least CPU, in µs per item, of `repeat` passes of `step` over `items`."""
    items = list(items)
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        for item in items:
            step(item)
        best = min(best, time.process_time() - start)
    return best / len(items) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=3000)
    parser.add_argument("--events", type=int, default=30000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    stored: list[bytes] = []
    events = city_events(args.enterprises, args.events, args.days, args.seed)
    keep = stored.append
    fold(events, default_ruleset(), after=lambda s: keep(s.to_bytes()), learner=Learner())
    states = [EnterpriseState.from_stored(raw) for raw in stored]
    gc.collect()
    gc.disable()

    fields = [state.stored_fields() for state in states]
    plain = [msgpack.packb(f) for f in fields]
    unpacked = [msgpack.unpackb(p) for p in plain]
    legacy = [compression.pack_compressed_v1(f) for f in fields]
    codec = compression._V2[compression.STATE]
    n = args.repeat
    firms = len({s.uscc for s in states})
    print(f"states: {len(stored)} (one per event applied), firms: {firms}")
    now, before, plain_size = (mean(map(len, records)) for records in (stored, legacy, plain))
    print(f"stored bytes per state: {now:.0f}, version 1 {before:.0f}, msgpack {plain_size:.0f}")
    print("store (to_bytes), µs per state:")
    rows = [
        ("fields kept", best_cpu_us(lambda s: s.stored_fields(), states, n)),
        ("msgpack", best_cpu_us(lambda f: msgpack.packb(f, use_bin_type=True), fields, n)),
        ("compress", best_cpu_us(codec.compress, plain, n)),
        ("total", best_cpu_us(lambda s: s.to_bytes(), states, n)),
        ("version 1 total", best_cpu_us(compression.pack_compressed_v1, fields, n)),
        ("SHA-1 of the value (the commit's check)",
         best_cpu_us(lambda r: sha1(r).digest(), stored, n)),
    ]  # fmt: skip
    for name, us in rows:
        print(f"  {name:42s} {us:7.1f}")
    print("load (from_stored), µs per state:")
    rows = [
        ("expand", best_cpu_us(codec.expand, stored, n)),
        ("msgpack", best_cpu_us(lambda p: msgpack.unpackb(p, strict_map_key=False), plain, n)),
        ("dataclass", best_cpu_us(lambda f: EnterpriseState(**f), unpacked, n)),
        ("derive: profile", best_cpu_us(lambda s: s.derive_profile(), states, n)),
        ("derive: records", best_cpu_us(aggregates.rebuild, states, n)),
        ("total", best_cpu_us(EnterpriseState.from_stored, stored, n)),
        ("version 1 total", best_cpu_us(EnterpriseState.from_stored, legacy, n)),
    ]
    for name, us in rows:
        print(f"  {name:42s} {us:7.1f}")
    gc.enable()


if __name__ == "__main__":
    main()
