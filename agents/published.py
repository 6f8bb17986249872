"""Which outbox entries already reached their Kafka topic.

The relay acknowledges an entry in Redis only after the broker acknowledged its
record, so an entry is in doubt only when a relay died (or a send failed) between the
two: the record may or may not be on the topic. Every record the relay produces
carries its entry's reference in the `creditwatch-outbox` header; for the entries in
doubt, the relay reads the output topics back from shortly before the oldest entry was
written and skips those it finds. That makes the relay's delivery effectively once:
no warning id reaches a topic twice because of a crash.

A Redis stream entry id starts with Redis's clock (ms) at XADD, and the record was
produced after that; `CLOCK_SKEW_MS` covers a worker's clock running behind Redis's.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition

log = logging.getLogger(__name__)

OUTBOX_HEADER = "creditwatch-outbox"
CLOCK_SKEW_MS = 60_000


def outbox_ref(stream: str, entry_id: bytes) -> bytes:
    """The header value naming an outbox entry: `<stream>/<entry id>`.

    >>> outbox_ref("cw:warnings", b"1700000000000-3")
    b'cw:warnings/1700000000000-3'
    """
    return stream.encode() + b"/" + entry_id


def written_ms(entry_id: bytes) -> int:
    """When Redis wrote an entry (epoch ms), from its id.

    >>> written_ms(b"1700000000000-3")
    1700000000000
    """
    return int(entry_id.split(b"-", 1)[0])


async def find_published(
    bootstrap: str, wanted: dict[str, set[bytes]], since_ms: int
) -> set[bytes]:
    """The references of `wanted` (topic -> outbox references) found in the headers of
    the topics' records from `since_ms` (epoch ms, Kafka record time) to their ends."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer.topics()  # fills the metadata partitions_for_topic reads
        tps = [
            TopicPartition(topic, p)
            for topic in wanted
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        if not tps:
            return set()
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        starts = await consumer.offsets_for_times(dict.fromkeys(tps, since_ms))
        todo: dict[TopicPartition, int] = {}
        for tp in tps:
            hit = starts.get(tp)
            # no record at or after since_ms: None, or (on some brokers) a negative time
            start = hit.offset if hit is not None and hit.timestamp >= since_ms else ends[tp]
            if start < ends[tp]:
                consumer.seek(tp, start)
                todo[tp] = ends[tp]
        return await _collect(consumer, todo, set().union(*wanted.values()))
    finally:
        await consumer.stop()


async def _collect(
    consumer: AIOKafkaConsumer,
    todo: dict[TopicPartition, int],
    refs: set[bytes],
    stall_s: float = 30.0,
) -> set[bytes]:
    """Read each partition in `todo` up to its end offset; raises TimeoutError when no
    record arrives for `stall_s` (the relay retries later)."""
    found: set[bytes] = set()
    scanned, stalled = 0, 0.0
    while todo:
        batches = await consumer.getmany(*todo, timeout_ms=1000, max_records=5000)
        stalled = 0.0 if batches else stalled + 1.0
        if stalled >= stall_s:
            raise TimeoutError(f"reading back {sorted(map(str, todo))} stalled")
        for records in batches.values():
            scanned += len(records)
            found.update(_refs_in(r.headers for r in records) & refs)
        for tp in list(todo):
            if await consumer.position(tp) >= todo[tp]:
                del todo[tp]
    log.info(
        "read back %d records: %d of %d outputs in doubt were already published",
        scanned,
        len(found),
        len(refs),
    )
    return found


def _refs_in(headers: Iterable[tuple[tuple[str, bytes], ...]]) -> set[bytes]:
    return {value for hs in headers for key, value in hs if key == OUTBOX_HEADER}
