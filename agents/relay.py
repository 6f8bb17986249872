"""Publishes the outbox (Redis output streams) to the Kafka output topics.

The worker writes warnings, grade changes and dead letters to Redis streams in the same
atomic step as the state; this loop reads them through a Redis consumer group, produces
them, waits for the broker's acknowledgement, then acknowledges them in Redis. A relay
that dies leaves its entries pending; another (or itself after a restart) claims them.
Delivery to Kafka is at least once; `warning_id` lets consumers drop a repeat.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable

from agents import metrics
from rules.jsoncodec import loads
from rules.store import Store

log = logging.getLogger(__name__)

Send = Callable[[str, bytes | None, bytes], Awaitable[Awaitable[object]]]


def relay_key(stream: str, data: bytes) -> bytes | None:
    """The Kafka key of an output: its enterprise, so one firm's outputs stay in order."""
    try:
        record = loads(data)
    except ValueError:
        return None
    key = record.get("uscc") or record.get("event_id")
    return key.encode() if isinstance(key, str) else None


class Relay:
    def __init__(self, store: Store, send: Send, topic_for: dict[str, str]):
        self.store = store
        self.send = send
        self.topic_for = topic_for
        self.consumer = f"{socket.gethostname()}-{os.getpid()}"
        self._last_claim = 0.0

    async def run(self, stopping: Callable[[], bool], block_ms: int = 200) -> None:
        await self.store.ensure_outbox_group()
        await self.pump(pending=True)
        while not stopping():
            try:
                if time.monotonic() - self._last_claim > 15:
                    self._last_claim = time.monotonic()
                    await self.store.claim_stale_outbox(self.consumer, 30_000, 1000)
                    await self.pump(pending=True)
                await self.pump(block_ms=block_ms)
            except asyncio.CancelledError:
                raise
            except Exception:  # Redis or broker down: keep the entries, retry
                log.exception("relay failed; retrying in 1 s")
                await asyncio.sleep(1)

    async def pump(self, pending: bool = False, block_ms: int = 200, count: int = 1000) -> int:
        """Relay one chunk; the number of entries published."""
        entries = await self.store.read_outbox(self.consumer, count, block_ms, pending=pending)
        if not entries:
            return 0
        futures = [
            await self.send(self.topic_for[stream], relay_key(stream, data), data)
            for stream, _entry_id, data in entries
        ]
        await asyncio.gather(*futures)
        with metrics.redis_timer("outbox"):  # the read blocks by design: the ack is timed
            await self.store.ack_outbox((stream, entry_id) for stream, entry_id, _ in entries)
        for stream, _, _ in entries:
            metrics.RELAYED.labels(stream).inc()
        return len(entries)
