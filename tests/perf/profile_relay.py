"""The relay's CPU per output for its Kafka key: the key written beside the record by
the commit (read as is) against the record parsed for it (entries written without
one); and for acknowledging the outputs in Redis, in chunks as the relay reads them
(streams/store/outbox.py `ack_outbox`). The outputs are those of a simulated city
replayed on a private redis-server (tests/perf/profile_pipeline.py). Run from the repository root:

    .venv/bin/python -m tests.perf.profile_relay --enterprises 1000 --events 10000
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter

from agents.relay import relay_key
from streams.store import Store
from streams.store.outbox import OutboxEntry
from tests.perf.profile_packing import best_cpu_us
from tests.perf.profile_pipeline import _replay, city_messages, private_redis


async def _outputs(url: str, chunk: int = 1000) -> tuple[list[OutboxEntry], float]:
    """The outputs, read and acknowledged as the relay does; and the CPU seconds the
    acknowledgements took."""
    store = Store.from_url(url, prefix="perf")
    await store.ensure_outbox_group()
    entries: list[OutboxEntry] = []
    acking = 0.0
    while found := await store.read_outbox("perf", chunk, 1):
        entries += found
        started = time.process_time()
        await store.ack_outbox((e.stream, e.entry_id) for e in found)
        acking += time.process_time() - started
    assert not await store.read_outbox("perf", chunk, 1, pending=True)  # all acknowledged
    await store.close()
    return entries, acking


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=1000)
    parser.add_argument("--events", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    values = city_messages(args.seed, args.enterprises, args.events, 100)
    with private_redis() as url:
        stats, _ = asyncio.run(_replay(url, values, 5))
        keyed_entries, acking = asyncio.run(_outputs(url))
    parsed = [e._replace(key=None) for e in keyed_entries]
    assert [relay_key(e) for e in parsed] == [e.key for e in keyed_entries]
    applied = getattr(stats, "applied", 0) or 1
    size = sum(len(e.data) for e in keyed_entries) / len(keyed_entries)
    print(f"{len(keyed_entries):,} outputs for {applied:,} events ({size:,.0f} bytes each): "
          f"{dict(Counter(e.stream for e in keyed_entries))}")  # fmt: skip
    for name, entries in (("key beside the record", keyed_entries), ("parsed", parsed)):
        us = best_cpu_us(relay_key, entries, 5)
        print(f"{name}: {us:.2f} us per output, {us * len(entries) / applied:.2f} per event")
    us, n = 1e6 * acking / len(keyed_entries), len(keyed_entries)
    print(f"acknowledged: {us:.2f} us per output, {us * n / applied:.2f} per event")


if __name__ == "__main__":
    main()
