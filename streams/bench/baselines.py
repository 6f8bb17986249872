"""The two baselines `creditwatch bench` sets the pipeline beside.

Raw consume: how fast the broker hands the events topic to a plain aiokafka consumer
that only decodes each value (the contract's validation, streams/contract/events.py): the
ceiling of a consumer of this broker in Python. Naive: the same pipeline with one
Redis round trip per operation (streams/bench/naive.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition

from streams.bench.rig import bar
from streams.contract.events import decode

#: give up when the broker hands nothing over for this long
STALL_S = 30.0


@dataclass
class RawConsume:
    messages: int
    items: int
    seconds: float

    @property
    def events_per_second(self) -> float:
        return self.items / self.seconds


async def raw_consume(
    bootstrap: str, topic: str, partitions: int, expected: int, progress: bool
) -> RawConsume:
    """Read `expected` messages of `topic` from the start and decode each one."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap.split(","),
        group_id=f"creditwatch-bench-raw-{time.time_ns()}",  # its own: nothing committed
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_partition_fetch_bytes=8 << 20,
        fetch_max_bytes=32 << 20,
    )
    await consumer.start()
    try:
        # assigned, not subscribed: the group's join and rebalance are not timed
        consumer.assign([TopicPartition(topic, p) for p in range(partitions)])
        messages = items = 0
        with bar(progress, expected, "raw consume") as progress_bar:
            started = last_seen = time.perf_counter()
            while messages < expected:
                batches = await consumer.getmany(timeout_ms=500, max_records=20_000)
                got = 0
                for records in batches.values():
                    for record in records:
                        items += len(decode(record.value or b""))
                    got += len(records)
                now = time.perf_counter()
                if got:
                    messages += got
                    last_seen = now
                    progress_bar.update(got)
                elif now - last_seen > STALL_S:
                    raise RuntimeError(
                        f"raw consume: {messages} of {expected} messages after {STALL_S:.0f} s "
                        "without progress"
                    )
            took = time.perf_counter() - started
    finally:
        await consumer.stop()
    return RawConsume(messages, items, took)
