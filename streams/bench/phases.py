"""The two measured phases of `creditwatch bench`, against the running workers (one or
more, in one consumer group).

Sustained: the first part of the city produced as fast as the producer goes, in batch
envelopes grouped by partition (streams/topics/envelopes.py), as a backfill; the clock
runs from just before the first send to the first moment the workers show every
partition of the input and fan-out topics processed (streams/bench/rig.py). Latency:
the rest of the city paced at a fixed rate, each event stamped `reported_at` as it is
sent; the latency of a warning is its commit time in Redis less its event's send time
(streams/bench/latency.py).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

from aiokafka import AIOKafkaProducer

from streams.bench.latency import Latencies, SendLog, match_warnings
from streams.bench.rig import Feed, Rig, bar, producer
from streams.bench.worker_under_test import Scrape, cpu_seconds, run_queue_seconds
from streams.simulation import event_key, to_bytes
from streams.store import Store
from streams.topics.envelopes import DEFAULT_ENVELOPE, Envelopes, Outgoing

#: a phase whose worker took longer than this after the last send to catch up was
#: offered more than it can take
BEHIND_S = 2.0
#: events at most waiting for the worker in the sustained phase: enough that it never
#: waits for the producer, few enough that the phase ends soon after its time budget
BACKLOG = 10_000


# -- sustained ------------------------------------------------------------------------
@dataclass
class WorkerShare:
    """One worker's part of the sustained phase."""

    name: str
    pid: int
    cpu_seconds: float | None
    #: CPU seconds by pipeline stage over the phase
    stage_cpu: dict[str, float]
    #: messages whose outputs it committed (input and fan-out)
    messages: float
    #: events it applied (`creditwatch_events_total`: fan-out copies included)
    events_applied: float
    rechecks: float
    #: the partitions it owned at the end, as "topic:partition"
    partitions: list[str]
    #: seconds its threads were runnable but waiting for a CPU (None: no schedstat)
    waited_seconds: float | None = None


@dataclass
class Sustained:
    events: int
    seconds: float
    #: the time spent sending (and having acknowledged) the chunks, waits excluded
    produce_seconds: float
    cpu_seconds: float | None
    #: the events the phase had to offer (more than `events` when the budget ran out)
    offered: int = 0
    #: Kafka messages the events went in
    messages: int = 0
    #: the worker's CPU seconds by pipeline stage over the phase (agents/stages.py)
    stage_cpu: dict[str, float] = field(default_factory=dict)
    #: rechecks the worker handed out over the phase
    rechecks: float = 0.0
    #: label sweeps the worker handed out over the phase (no evaluation)
    sweeps: float = 0.0
    #: each worker's part, in the order they were started
    workers: list[WorkerShare] = field(default_factory=list)
    #: states the worker loaded over the phase: "hit" reused, "miss" decoded
    state_cache: dict[str, float] = field(default_factory=dict)
    #: the sidecar's CPU seconds by stage over the phase (the trainer's)
    sidecar_stage_cpu: dict[str, float] = field(default_factory=dict)

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds

    @property
    def produce_events_per_second(self) -> float:
        return self.events / self.produce_seconds


def envelope_chunks(
    messages: Sequence[tuple[int, bytes, bytes]], partitions: int, envelope: int, chunk: int
) -> list[list[Outgoing]]:
    """The events in chunks of `chunk` in city order, each chunk's events in envelopes
    of its own: whatever chunk the time budget stops at, what was sent is a prefix of
    the city."""
    chunks = []
    for start in range(0, len(messages), chunk):
        packer = Envelopes(partitions, envelope)
        out = [m for p, k, v in messages[start : start + chunk] for m in packer.add(k, v, p)]
        chunks.append(out + packer.flush())
    return chunks


async def sustained(
    rig: Rig,
    messages: Sequence[tuple[int, bytes, bytes]],
    budget_s: float | None = None,
    backlog: int = BACKLOG,
    envelope: int = DEFAULT_ENVELOPE,
) -> Sustained:
    """`messages`: (partition, key, value), the partition already chosen by the key
    (`partition_of`), so the clock times sending, not hashing; they go `envelope`
    events per Kafka message.

    Sent in chunks that keep at most `backlog` events waiting for the worker, so it is
    never idle and never far behind; no chunk is started once `budget_s` has passed
    (the phase then ends when what was sent is processed, a backlog's time later)."""
    chunks = envelope_chunks(messages, rig.streams.partitions, envelope, backlog // 2)
    total = sum(len(c) for c in chunks)
    feed = Feed()
    out = producer(rig.streams, bulk=True)
    await out.start()
    producing = 0.0
    try:
        base, base_fanout = await rig.scrape(), await rig.fanout_end()
        side0 = await rig.scrape_sidecar()
        with (
            bar(rig.progress, total, "produce (messages)", 0) as sent_bar,
            bar(rig.progress, total, "process (messages)", 1) as done_bar,
        ):
            cpu0 = [cpu_seconds(pid) for pid in rig.pids]
            waited0 = [run_queue_seconds(pid) for pid in rig.pids]
            t0 = time.time()
            feed.first_at = t0
            waiter = asyncio.ensure_future(rig.wait_caught_up(feed, base, base_fanout, done_bar))
            try:
                for chunk in chunks:  # the backlog is counted in messages, as processed
                    await rig.backlog_below(feed, base, base_fanout, len(chunk))
                    if budget_s is not None and time.time() - t0 > budget_s:
                        break
                    chunk_started = time.time()
                    await _send_bulk(out, rig.streams.events_topic, chunk, feed, sent_bar)
                    await out.flush()
                    producing += time.time() - chunk_started
                await _acknowledged(out, feed)
                end = await waiter
            finally:
                waiter.cancel()
        cpu1 = [cpu_seconds(pid) for pid in rig.pids]
        waited1 = [run_queue_seconds(pid) for pid in rig.pids]
        side1 = await rig.scrape_sidecar()
    finally:
        await out.stop()
    assert end is not None and feed.acked_at is not None
    shares = [
        _share(rig.workers[n].name, rig.pids[n], cpu0[n], cpu1[n], base.workers[n], w)
        for n, w in enumerate(end.workers)
    ]
    for share, w0, w1 in zip(shares, waited0, waited1, strict=True):
        share.waited_seconds = w1 - w0 if w0 is not None and w1 is not None else None
    cpus = [w.cpu_seconds for w in shares]
    cpu = None if any(c is None for c in cpus) else sum(c for c in cpus if c is not None)
    seconds, sent = end.at - t0, feed.events
    stages = _delta(end.stage_cpu, base.stage_cpu)
    rechecks, sweeps = end.rechecks - base.rechecks, end.sweeps - base.sweeps
    return Sustained(
        sent, seconds, max(producing, 1e-6), cpu, len(messages), feed.sent, stages, rechecks,
        sweeps, shares, _delta(end.state_cache, base.state_cache),
        _delta(side1.stage_cpu, side0.stage_cpu) if side0 and side1 else {},
    )  # fmt: skip


def _delta(after: dict[str, float], before: dict[str, float]) -> dict[str, float]:
    return {k: v - before.get(k, 0.0) for k, v in after.items()}


def _share(
    name: str, pid: int, cpu0: float | None, cpu1: float | None, base: Scrape, end: Scrape
) -> WorkerShare:
    return WorkerShare(
        name=name,
        pid=pid,
        cpu_seconds=cpu1 - cpu0 if cpu0 is not None and cpu1 is not None else None,
        stage_cpu=_delta(end.stage_cpu, base.stage_cpu),
        messages=end.processed - base.processed,
        events_applied=end.events_applied - base.events_applied,
        rechecks=end.rechecks - base.rechecks,
        partitions=[f"{t}:{p}" for t, p in sorted(end.owned())],
    )


async def _acknowledged(out: AIOKafkaProducer, feed: Feed) -> None:
    """Wait for every send's acknowledgement; note when the last came."""
    feed.last_at = feed.last_at or time.time()
    await out.flush()
    while feed.acked < feed.sent:  # flush returns once sent; the acks follow
        await asyncio.sleep(0.01)
    feed.acked_at = time.time()
    if feed.error is not None:
        raise RuntimeError(f"producing failed: {feed.error!r}")


async def _send_bulk(
    out: AIOKafkaProducer,
    topic: str,
    messages: Sequence[Outgoing],
    feed: Feed,
    sent_bar: Any,
) -> None:
    """Fill one record batch per partition and hand each over when full: the cheapest
    way through aiokafka (its send() hashes and wraps every message)."""
    builders: dict[int, Any] = {}

    async def submit(partition: int, builder: Any) -> None:
        count = builder.record_count()
        future = await out.send_batch(builder, topic, partition=partition)
        future.add_done_callback(partial(feed.on_ack, count=count))
        sent_bar.update(count)
        await asyncio.sleep(0)  # let the watcher read the metrics meanwhile

    for m in messages:
        builder = builders.get(m.partition)
        if builder is None:
            builder = builders[m.partition] = out.create_batch()
        if builder.append(key=m.key, value=m.value, timestamp=None) is None:  # full
            await submit(m.partition, builder)
            builder = builders[m.partition] = out.create_batch()
            builder.append(key=m.key, value=m.value, timestamp=None)
        feed.sent += 1
        feed.events += m.events
    for partition, builder in builders.items():
        if builder.record_count():
            await submit(partition, builder)


# -- latency --------------------------------------------------------------------------
@dataclass
class LatencyPhase:
    events: int
    target_rate: float
    offered_rate: float
    latencies: Latencies
    #: seconds from the last send until the worker had processed everything (None:
    #: not within the timeout)
    caught_up_after: float | None
    behind_at_last_send: float

    @property
    def above_capacity(self) -> bool:
        return self.caught_up_after is None or self.caught_up_after > BEHIND_S


class WarningsReader:
    """Reads the warnings outbox from where it ended when the phase started."""

    def __init__(self, store: Store, sends: SendLog) -> None:
        self.store, self.sends = store, sends
        self.latencies = Latencies()
        self.after = "0-0"

    async def start(self) -> None:
        last: Any = await self.store.redis.xrevrange(self.store.warnings_stream, count=1)
        if last:
            self.after = last[0][0].decode()

    async def read(self) -> None:
        while True:
            ms, seq = self.after.split("-")
            entries: Any = await self.store.redis.xrange(
                self.store.warnings_stream, min=f"{ms}-{int(seq) + 1}", max="+", count=5000
            )
            if not entries:
                return
            match_warnings(entries, self.sends, self.latencies)
            self.after = entries[-1][0].decode()

    async def follow(self, interval: float = 0.5) -> None:
        """Read as it grows, so entries trimmed by the stream's MAXLEN are not missed."""
        while True:
            await self.read()
            await asyncio.sleep(interval)


async def latency(
    rig: Rig, items: Sequence[dict[str, Any]], rate: float, timeout: float = 60.0
) -> LatencyPhase:
    sends, feed = SendLog(), Feed()
    reader = WarningsReader(rig.store, sends)
    await reader.start()
    out = producer(rig.streams, bulk=False)
    await out.start()
    try:
        base, base_fanout = await rig.scrape(), await rig.fanout_end()
        following = asyncio.ensure_future(reader.follow())
        with (
            bar(rig.progress, len(items), f"paced {rate:,.0f}/s", 0) as sent_bar,
            bar(rig.progress, len(items), "process", 1) as done_bar,
        ):
            waiter = asyncio.ensure_future(
                rig.wait_caught_up(feed, base, base_fanout, done_bar, timeout)
            )
            try:
                await _send_paced(out, rig.streams.events_topic, items, rate, sends, feed, sent_bar)
                behind = (await rig.scrape()).lag(rig.streams.events_topic)
                await _acknowledged(out, feed)
                end = await waiter
            finally:
                waiter.cancel()
                following.cancel()
        await reader.read()
    finally:
        await out.stop()
    assert feed.first_at is not None and feed.last_at is not None
    span = feed.last_at - feed.first_at
    offered = (feed.sent - 1) / span if feed.sent > 1 and span > 0 else float(feed.sent)
    caught_up_after = max(0.0, end.at - feed.last_at) if end is not None else None
    return LatencyPhase(len(items), rate, offered, reader.latencies, caught_up_after, behind)


async def _send_paced(
    out: AIOKafkaProducer,
    topic: str,
    items: Sequence[dict[str, Any]],
    rate: float,
    sends: SendLog,
    feed: Feed,
    sent_bar: Any,
) -> None:
    """Event k is due k / rate s after the first (as `streams.simulation.paced`); one
    that falls behind goes at once. Each is stamped `reported_at` as it is sent, as
    `reported_now` does, so the worker's own end-to-end metric agrees."""
    begin = time.monotonic()
    for k, item in enumerate(items):
        wait = begin + k / rate - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        sent_at = time.time()
        event = {**item, "reported_at": datetime.fromtimestamp(sent_at, UTC).isoformat()}
        sends.record(event, sent_at)
        future = await out.send(topic, to_bytes(event), key=event_key(event).encode())
        future.add_done_callback(feed.on_ack)
        feed.sent = feed.events = k + 1
        feed.first_at = feed.first_at or sent_at
        feed.last_at = sent_at
        if feed.sent % 500 == 0:
            sent_bar.update(500)
    sent_bar.update(feed.sent - sent_bar.n)
