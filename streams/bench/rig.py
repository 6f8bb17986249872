"""The workers under test in `creditwatch bench` (one or more, one consumer group), as the
phases see them: when a phase has ended (read from their /metrics, merged), what a
producer has sent, and the producers.

The end of a phase is read from the workers' /metrics, which can be a little stale: a
lag of 0 measured before the last records arrived means nothing. So the end also needs
the workers' count of messages committed (summed over them) to cover every message
sent in the phase plus every fan-out message produced meanwhile (read in that order,
so a fan-out message produced after the count can only make the check fail, never
pass early).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from tqdm import tqdm

from streams.bench.worker_under_test import MetricsProbe, Scrape, merge
from streams.settings import StreamSettings
from streams.stack.processes import ManagedProcess, ProcessError
from streams.store import Store
from streams.topics.envelopes import partition_of

__all__ = ["partition_of"]  # where the benchmark's tests have always found it

POLL_S = 0.2
#: a worker that commits nothing for this long while behind is stuck: give up
STALL_S = 300.0


@dataclass
class Feed:
    """What a producer has sent in a phase."""

    #: messages sent (what the worker's count of messages processed is compared with)
    sent: int = 0
    #: events they held (more than `sent` with batch envelopes)
    events: int = 0
    acked: int = 0
    first_at: float | None = None
    last_at: float | None = None
    acked_at: float | None = None
    error: BaseException | None = None

    def on_ack(self, future: asyncio.Future[Any], count: int = 1) -> None:
        if future.cancelled():
            return
        if future.exception() is not None and self.error is None:
            self.error = future.exception()
        self.acked += count


@dataclass
class Rig:
    """The running workers (one consumer group) and what the phases read them with."""

    streams: StreamSettings
    workers: list[ManagedProcess]
    probes: list[MetricsProbe]
    store: Store
    offsets: AIOKafkaConsumer
    progress: bool
    #: the sidecar beside the workers (the relay and the trainer) and its /metrics
    sidecar: ManagedProcess | None = None
    sidecar_probe: MetricsProbe | None = None

    @property
    def pids(self) -> list[int]:
        pids = [w.pid for w in self.workers]
        assert all(p is not None for p in pids)
        return [p for p in pids if p is not None]

    def logs(self) -> str:
        return "; ".join(f"log {w.log_path}:\n{w.log_tail()}" for w in self.workers)

    async def fanout_end(self) -> int:
        """Messages ever produced to the fan-out topic."""
        topic = self.streams.fanout_topic
        tps = [TopicPartition(topic, p) for p in range(self.streams.partitions)]
        ends = await self.offsets.end_offsets(tps)
        return int(sum(ends.values()))

    async def scrape(self) -> Scrape:
        """Every worker's /metrics, merged (`merge`)."""
        running = self.workers if self.sidecar is None else [*self.workers, self.sidecar]
        for worker in running:
            if not worker.is_running():
                raise ProcessError(
                    f"{worker.name} exited with code {worker.returncode}; "
                    f"log {worker.log_path}:\n{worker.log_tail()}"
                )
        return merge(await asyncio.gather(*(probe.scrape() for probe in self.probes)))

    async def scrape_sidecar(self) -> Scrape | None:
        """The sidecar's /metrics (the trainer's CPU), None without a sidecar."""
        return await self.sidecar_probe.scrape() if self.sidecar_probe is not None else None

    async def assigned(self, timeout: float = 90.0) -> Scrape:
        """Wait until the group has settled: every partition of the input and fan-out
        topics reported by exactly one worker (each reports the lag of those it owns),
        and every worker owning some (with fewer, the last to join has not been given
        its share yet, and a rebalance would come in the middle of a phase)."""
        deadline = time.monotonic() + timeout
        topics = [self.streams.events_topic, self.streams.fanout_topic]
        partitions = self.streams.partitions
        while True:
            scrape = await self.scrape()
            if scrape.settled(topics, partitions) and scrape.caught_up(topics, partitions):
                return scrape
            if time.monotonic() > deadline:
                pairs = zip(self.workers, scrape.workers, strict=True)
                shares = ", ".join(f"{w.name} {len(s.owned())}" for w, s in pairs)
                raise ProcessError(
                    f"the workers were not assigned the {len(topics) * partitions} partitions "
                    f"in {timeout:.0f} s (partitions reported: {shares})"
                )
            await asyncio.sleep(POLL_S)

    async def backlog_below(self, feed: Feed, base: Scrape, base_fanout: int, limit: int) -> None:
        """Wait until at most `limit` of the messages sent are still unprocessed."""
        while True:
            scrape = await self.scrape()
            fanout = await self.fanout_end()  # after the scrape: see the module's doc
            if feed.sent - events_processed(scrape, base, fanout - base_fanout) <= limit:
                return
            await asyncio.sleep(1.0)  # seldom: each scrape costs the worker CPU

    async def wait_caught_up(
        self, feed: Feed, base: Scrape, base_fanout: int, bar: Any, timeout: float | None = None
    ) -> Scrape | None:
        """The first reading, after every send was acknowledged, that shows the worker
        has processed everything; None when `timeout` s pass after the last send."""
        topics = [self.streams.events_topic, self.streams.fanout_topic]
        done = 0
        progressed, last_count = time.monotonic(), base.processed
        previous = base
        while True:
            scrape = await self.scrape()
            if scrape.processed != last_count or feed.acked_at is None:
                progressed, last_count = time.monotonic(), scrape.processed
            elif time.monotonic() - progressed > STALL_S:  # everything sent, nothing done
                raise ProcessError(
                    f"the workers committed nothing for {STALL_S:.0f} s; {self.logs()}"
                )
            fanout = await self.fanout_end()  # after the scrape: see the module's doc
            committed = scrape.processed - base.processed
            processed = min(feed.sent, events_processed(scrape, base, fanout - base_fanout))
            if processed > done:
                bar.update(processed - done)
                done = processed
            acked_at = feed.acked_at
            if acked_at is not None and scrape.at >= acked_at:
                everything = feed.sent + fanout - base_fanout
                if scrape.caught_up(topics, self.streams.partitions) and committed >= everything:
                    bar.update(feed.sent - done)
                    return scrape
                last = feed.last_at or acked_at
                if timeout is not None and time.time() > last + timeout:
                    return None
            sending = feed.acked_at is None  # the end cannot come yet: read seldom
            await asyncio.sleep(1.0 if sending else _pause(scrape, previous, self.streams))
            previous = scrape


def events_processed(scrape: Scrape, base: Scrape, fanout_produced: int) -> int:
    """Input messages processed since `base`, about: messages committed less the fan-out
    produced meanwhile (which is mostly done by then)."""
    return int(scrape.processed - base.processed) - fanout_produced


def _pause(scrape: Scrape, previous: Scrape, streams: StreamSettings) -> float:
    """Until the next reading: every scrape costs the worker some CPU (its metrics are
    served from a thread of its own process), so read often only near the end: a
    twentieth of the work left at the rate seen, between POLL_S and 2 s."""
    rate = (scrape.processed - previous.processed) / max(1e-3, scrape.at - previous.at)
    left = scrape.lag(streams.events_topic) + scrape.lag(streams.fanout_topic)
    if rate <= 0:
        return POLL_S if left == 0 else 1.0
    return min(2.0, max(POLL_S, left / rate / 20))


def producer(streams: StreamSettings, bulk: bool) -> AIOKafkaProducer:
    """Bulk: whole record batches of up to 512 KB, built by the caller. Live: one
    message at a time, sent at once, as a department's feed. Compressed as `ingest`
    compresses (CREDITWATCH_KAFKA_COMPRESSION)."""
    return AIOKafkaProducer(
        bootstrap_servers=streams.kafka_bootstrap.split(","),
        compression_type=streams.compression_type,
        acks="all",
        linger_ms=0,
        max_batch_size=(512 << 10) if bulk else 16384,
        max_request_size=16 << 20,
    )


@contextmanager
def bar(progress: bool, total: int, desc: str, position: int = 0) -> Iterator[Any]:
    with tqdm(
        total=total, desc=desc, unit="ev", unit_scale=True, disable=not progress,
        position=position, leave=True, dynamic_ncols=True,
    ) as b:  # fmt: skip
        yield b
