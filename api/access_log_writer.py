"""Access-log records written off the response path, many to a round trip.

A request hands its record to the writer and goes on; one task writes the records
gathered over `linger_s` (and while its previous write was in flight) in one MULTI/EXEC,
so a response never waits for Redis and, under load, many records share a round trip
(at 1,000 requests/s, ten or so). Records keep the order in which they were handed
over. While Redis fails they wait and are tried again each `retry_s`; `close()` (the
app's shutdown) writes whatever is left.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from typing import Any

from prometheus_client import Counter

from streams.store import StoreError
from streams.store.api_ports import ApiOwns

log = logging.getLogger(__name__)

ACCESS_LOG_ERRORS = Counter(
    "creditwatch_access_log_errors_total", "Access-log records that could not be written"
)


class AccessLogWriter:
    def __init__(
        self,
        store: ApiOwns,
        *,
        linger_s: float = 0.01,
        max_batch: int = 500,
        max_pending: int = 100_000,
        retry_s: float = 1.0,
    ) -> None:
        self.store = store
        #: how long the first record of a batch waits for others to join it
        self.linger_s = linger_s
        self.max_batch = max_batch
        #: records kept while Redis is down; past this the oldest are dropped (counted)
        self.max_pending = max_pending
        self.retry_s = retry_s
        self._pending: deque[dict[str, Any]] = deque()
        self._wake = asyncio.Event()
        self._closing = asyncio.Event()
        self._writing = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    @property
    def pending(self) -> int:
        return len(self._pending)

    def add(self, record: dict[str, Any]) -> None:
        """Queue one record: the writer task takes it at its next round trip."""
        if len(self._pending) >= self.max_pending:
            self._pending.popleft()
            ACCESS_LOG_ERRORS.inc()
        self._pending.append(record)
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="access-log-writer")

    async def close(self, timeout_s: float = 10.0) -> None:
        """Write what is left and stop. A write in flight is let finish (cancelling it
        could leave Redis holding a batch that would then be written again)."""
        self._closing.set()
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(self._task, timeout_s)
        elif self._pending:
            await self.flush()
        if self._pending:
            log.error("access log: %d records lost at shutdown", len(self._pending))
            ACCESS_LOG_ERRORS.inc(len(self._pending))
            self._pending.clear()

    async def flush(self) -> bool:
        """Write every record queued so far; False if Redis failed (they stay queued)."""
        async with self._writing:
            while self._pending:
                count = min(len(self._pending), self.max_batch)
                batch = [self._pending.popleft() for _ in range(count)]
                try:
                    await self.store.log_access_many(batch)
                except (StoreError, asyncio.CancelledError) as exc:
                    self._pending.extendleft(reversed(batch))
                    if isinstance(exc, asyncio.CancelledError):
                        raise
                    log.error("access log write failed, %d records wait: %s", self.pending, exc)
                    return False
                except Exception:  # not Redis's doing: trying again would fail again
                    log.exception("access log: %d records could not be written", count)
                    ACCESS_LOG_ERRORS.inc(count)
        return True

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            if not self._closing.is_set():
                await asyncio.sleep(self.linger_s)
            self._wake.clear()
            written = await self.flush()
            if self._closing.is_set():
                return
            if not written:
                await self._pause()
                self._wake.set()

    async def _pause(self) -> None:
        """Wait `retry_s` before trying again, or less if the app is shutting down."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), self.retry_s)
