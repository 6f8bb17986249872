"""Publishes the outbox (Redis output streams) to the Kafka output topics.

The worker writes warnings, grade changes and dead letters to Redis streams in the same
atomic step as the state; this loop reads them through a Redis consumer group, produces
them, waits for the broker's acknowledgement, then acknowledges them in Redis. A relay
that dies leaves its entries pending; another (or itself after a restart) claims them.
Those pending entries are in doubt: before sending them again the relay reads the
topics back and skips what is already there (agents/published.py), so a crash does
not publish a warning twice.

The relay runs in a thread of its own (`run_relay_thread`), with its own event loop,
Kafka producer and Redis client: in the worker, where publishing then never holds the
loop that consumes the input, or in the sidecar beside the workers (agents/sidecar.py).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from agents import metrics
from agents.published import (
    CLOCK_SKEW_MS,
    OUTBOX_HEADER,
    find_published,
    outbox_ref,
    written_ms,
)
from rules.jsoncodec import loads
from streams.settings import StoreSettings, StreamSettings
from streams.store import Store
from streams.store.outbox import OutboxEntry
from streams.store.ports import OutboxPort

log = logging.getLogger(__name__)

Headers = list[tuple[str, bytes]]
#: produces (topic, key, value, headers); returns the broker's acknowledgement to await
Send = Callable[[str, bytes | None, bytes, Headers], Awaitable[Awaitable[object]]]
#: (topic -> outbox references, since epoch ms) -> the references found on the topics
Published = Callable[[dict[str, set[bytes]], int], Awaitable[set[bytes]]]


def relay_key(entry: OutboxEntry) -> bytes | None:
    """The Kafka key of an output: its enterprise, so one firm's outputs stay in order.
    The commit writes it beside the record; only entries without one are parsed (the
    parse was most of the relay's time per output)."""
    if entry.key is not None:
        return entry.key
    try:
        record = loads(entry.data)
    except ValueError:
        return None
    key = record.get("uscc") or record.get("event_id")
    return key.encode() if isinstance(key, str) else None


class Relay:
    def __init__(
        self,
        store: OutboxPort,
        send: Send,
        topic_for: dict[str, str],
        published: Published | None = None,
    ):
        self.store = store
        self.send = send
        self.topic_for = topic_for
        #: without it, entries in doubt are sent again (at least once)
        self.published = published
        self.consumer = f"{socket.gethostname()}-{os.getpid()}"
        self._last_claim = 0.0

    async def run(self, stopping: Callable[[], bool], block_ms: int = 200) -> None:
        started, failing_since = False, None
        while not stopping():
            try:
                if not started:  # Redis may not be up yet when the worker starts
                    await self.store.ensure_outbox_group()
                    await self.pump(pending=True)
                    started = True
                if time.monotonic() - self._last_claim > 15:
                    self._last_claim = time.monotonic()
                    await self.store.claim_stale_outbox(self.consumer, 30_000, 1000)
                    await self.pump(pending=True)
                await self.pump(block_ms=block_ms)
                if failing_since is not None:
                    took = time.monotonic() - failing_since
                    log.info("relay resumed after %.1f s", took)
                    failing_since = None
            except asyncio.CancelledError:
                raise
            except Exception:  # Redis or broker down: keep the entries, retry
                if failing_since is None:  # once per outage, not every second
                    log.exception("relay failed; retrying every second")
                    failing_since = time.monotonic()
                await asyncio.sleep(1)

    async def pump(self, pending: bool = False, block_ms: int = 200, count: int = 1000) -> int:
        """Relay one chunk (with `pending`, the entries in doubt); the number of entries
        published."""
        entries = await self.store.read_outbox(self.consumer, count, block_ms, pending=pending)
        if not entries:
            return 0
        to_send = await self._unpublished(entries) if pending else entries
        futures = [
            await self.send(
                self.topic_for[e.stream],
                relay_key(e),
                e.data,
                [(OUTBOX_HEADER, outbox_ref(e.stream, e.entry_id))],
            )
            for e in to_send
        ]
        await asyncio.gather(*futures)
        with metrics.redis_timer("outbox"):  # the read blocks by design: the ack is timed
            await self.store.ack_outbox((e.stream, e.entry_id) for e in entries)
        for stream, n in Counter(e.stream for e in to_send).items():
            metrics.RELAYED.labels(stream).inc(n)
        metrics.RELAY_SKIPPED.inc(len(entries) - len(to_send))
        return len(to_send)

    async def _unpublished(self, entries: list[OutboxEntry]) -> list[OutboxEntry]:
        """The entries in doubt that are not on their topic yet."""
        if self.published is None:
            return entries
        wanted: dict[str, set[bytes]] = {}
        for e in entries:
            wanted.setdefault(self.topic_for[e.stream], set()).add(outbox_ref(e.stream, e.entry_id))
        since = min(written_ms(e.entry_id) for e in entries) - CLOCK_SKEW_MS
        found = await self.published(wanted, since)
        if found:
            log.warning("%d outputs in doubt were already published; not resent", len(found))
        return [e for e in entries if outbox_ref(e.stream, e.entry_id) not in found]


def run_relay_thread(
    stream: StreamSettings, store_settings: StoreSettings, stopping: Callable[[], bool]
) -> None:
    """The relay until `stopping()`: blocking, for a thread of its own (its event loop,
    producer and Redis client are its own)."""
    from aiokafka import AIOKafkaProducer

    async def main() -> None:
        store = Store.from_settings(store_settings)
        producer = AIOKafkaProducer(
            bootstrap_servers=stream.kafka_bootstrap,
            max_request_size=16 << 20,
            compression_type=stream.compression_type,
        )
        try:
            await until_started(producer, stopping)

            async def send(
                topic: str, key: bytes | None, value: bytes, headers: Headers
            ) -> Awaitable[object]:
                return await producer.send(topic, value, key=key, headers=headers)

            relay = Relay(
                store,
                send,
                {
                    store.warnings_stream: stream.warnings_topic,
                    store.grades_stream: stream.grade_changes_topic,
                    store.dead_letters_stream: stream.dead_letters_topic,
                    store.learning_stream: stream.labels_topic,
                },
                published=partial(find_published, stream.kafka_bootstrap),
            )
            await relay.run(stopping)
        finally:
            await producer.stop()
            await store.close()

    asyncio.run(main())


async def until_started(producer: Any, stopping: Callable[[], bool]) -> None:
    """Start the producer, retrying every second while the broker is away."""
    while not stopping():
        try:
            await producer.start()
            return
        except Exception:
            log.warning("relay producer: broker not reachable; retrying", exc_info=True)
            await asyncio.sleep(1)
