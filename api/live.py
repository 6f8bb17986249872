"""Live subscriptions (SSE and WebSocket) to warnings and grade changes, with resume.

One tailer task per API process blocks on both output streams (XREAD BLOCK) and wakes
the subscribers; each subscriber then reads its own backlog with non-blocking XRANGEs
after its position. Live delivery, catching up and resuming take that one path, so a
resumed subscriber gets exactly what it missed. The position is one stream id per
stream; its text form, the cursor, is "<warnings id>_<grade changes id>".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import FastAPI
from prometheus_client import Counter, Gauge

from api.auth import Caller
from api.errors import ApiError
from api.filters import Kind, OutputFilter
from api.handling import snoozed_warnings
from streams.settings import LiveSettings
from streams.store import StoreError
from streams.store.api_ports import ApiReads
from streams.store.live import stream_id

log = logging.getLogger(__name__)

SUBSCRIBERS = Gauge("creditwatch_live_subscribers", "Live subscribers connected", ["transport"])
EVENTS_SENT = Counter(
    "creditwatch_live_events_sent_total", "Live events sent", ["transport", "kind"]
)
#: the record kind of each stream, in the order of Store.live_streams and of a cursor
KINDS: tuple[Kind, Kind] = ("warning", "grade_change")
_CURSOR = re.compile(r"^(\d{1,20}-\d{1,20})_(\d{1,20}-\d{1,20})$")
Position = tuple[str, str]
#: how long to wait for the server's clock to leave the millisecond being written
_THIS_MILLISECOND = 0.002
ItemKind = Literal["warning", "grade_change", "gap", "keep-alive"]


def _order(entry_id: str, stream: int) -> tuple[int, int, int]:
    ms, seq = stream_id(entry_id)
    return ms, stream, seq


def parse_cursor(cursor: str) -> Position:
    """A cursor as a position.

    >>> parse_cursor("1700000000000-0_1700000000000-1")
    ('1700000000000-0', '1700000000000-1')
    """
    match = _CURSOR.match(cursor.strip())
    if match is None:
        raise ApiError(
            422,
            "invalid cursor: pass the id of an event received before "
            "('<warnings stream id>_<grade changes stream id>')",
            code="invalid_cursor",
        )
    return match[1], match[2]


def format_cursor(position: Position) -> str:
    return "_".join(position)


async def start_position(store: ApiReads, cursor: str | None, start: str | None) -> Position:
    """Where a subscription starts: after `cursor`, at the oldest entry still held
    (`start` "start") or at the streams' current ends (live only)."""
    if cursor:
        return parse_cursor(cursor)
    if start == "start":
        return "0-0", "0-0"
    return await store.stream_heads()


@dataclass(frozen=True)
class LiveItem:
    """One thing to send: a record, a gap notice or a keep-alive, with the cursor
    reached after it."""

    kind: ItemKind
    cursor: str
    data: dict[str, Any] | None = None


class LiveHub:
    """The process's tailer and the subscribers' wake-up call."""

    def __init__(self, store: ApiReads, settings: LiveSettings):
        self.store = store
        self.settings = settings
        self.closed = False
        #: replaced at each notification: a subscriber takes it before reading, so a
        #: wake-up during its read is not lost
        self.changed = asyncio.Event()
        self._tailer: asyncio.Task[None] | None = None
        self._subscribers = 0

    @contextlib.asynccontextmanager
    async def attached(self, transport: str) -> AsyncIterator[None]:
        """One subscriber while inside: the tailer runs while there is any."""
        self._subscribers += 1
        SUBSCRIBERS.labels(transport).inc()
        if self._tailer is None or self._tailer.done():
            self._tailer = asyncio.create_task(self._tail(), name="live-tailer")
        try:
            yield
        finally:
            self._subscribers -= 1
            SUBSCRIBERS.labels(transport).dec()
            if self._subscribers == 0 and self._tailer is not None:
                # not awaited: a subscriber's own cancellation must not be swallowed here
                self._tailer.cancel()
                self._tailer = None

    @property
    def tailing(self) -> bool:
        return self._tailer is not None and not self._tailer.done()

    async def close(self) -> None:
        """At shutdown: stop the tailer and end every subscription."""
        self.closed = True
        task, self._tailer = self._tailer, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._notify()

    def _notify(self) -> None:
        woken, self.changed = self.changed, asyncio.Event()
        woken.set()

    async def _tail(self) -> None:
        pause = self.settings.backoff_s
        heads: Position | None = None
        while True:
            try:
                if heads is None:
                    heads = await self.store.stream_heads()
                    # whatever came while nobody watched (a start, a Redis outage)
                    self._notify()
                if await self.store.wait_for_entries(heads, self.settings.block_ms):
                    heads = None
                pause = self.settings.backoff_s
            except Exception as exc:  # a dead tailer would leave its subscribers polling
                if isinstance(exc, StoreError | OSError):
                    log.warning("live tailer: Redis failed (%s); retrying in %.1f s", exc, pause)
                else:
                    log.exception("live tailer failed; retrying in %.1f s", pause)
                heads = None
                await asyncio.sleep(pause)
                pause = min(pause * 2, self.settings.backoff_cap_s)


def hub_for(app: FastAPI) -> LiveHub:
    """The app's hub, made at the first subscription (in the serving event loop)."""
    hub: LiveHub | None = getattr(app.state, "live_hub", None)
    if hub is None:
        settings = getattr(app.state, "live_settings", None) or LiveSettings()
        app.state.live_settings = settings  # the slots' cap and leases read it too
        hub = app.state.live_hub = LiveHub(app.state.store, settings)
    return hub


async def close_hub(app: FastAPI) -> None:
    hub: LiveHub | None = getattr(app.state, "live_hub", None)
    if hub is not None:
        app.state.live_hub = None
        await hub.close()


class Subscription:
    """One subscriber: its position, what it wants, and what its caller may see."""

    def __init__(
        self,
        hub: LiveHub,
        caller: Caller,
        wanted: OutputFilter,
        position: Position,
        transport: str,
        from_start: bool = False,
    ):
        self.hub, self.caller, self.wanted, self.transport = hub, caller, wanted, transport
        self.position: list[str] = list(position)
        #: per stream, the oldest entry held when a gap was last reported; from the
        #: start, what was trimmed before is not news
        self._gap_reported: list[str | None] = [None, None]
        self._quiet_gaps = from_start

    @property
    def cursor(self) -> str:
        return format_cursor((self.position[0], self.position[1]))

    async def items(self) -> AsyncGenerator[LiveItem, None]:
        """Records as they come, gap notices, and a keep-alive when nothing was sent for
        `keepalive_s`; ends when the hub closes. Use inside contextlib.aclosing."""
        hub, keepalive = self.hub, self.hub.settings.keepalive_s
        async with hub.attached(self.transport):
            last_sent = time.monotonic()
            while not hub.closed:
                changed = hub.changed
                try:
                    found, again = await self._next_batch()
                except (StoreError, OSError) as exc:
                    # the tailer logs the outage and wakes everyone when Redis is back
                    log.debug("live subscriber: read failed: %s", exc)
                    found, again = [], None
                for item in found:
                    yield item
                if found:
                    last_sent = time.monotonic()
                if again is not None:
                    await asyncio.sleep(again)
                    continue
                due = last_sent + keepalive - time.monotonic()
                if due > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(changed.wait(), due)
                    continue  # a poll even without a wake-up: nothing waits forever
                yield LiveItem("keep-alive", self.cursor)
                last_sent = time.monotonic()

    async def _next_batch(self) -> tuple[list[LiveItem], float | None]:
        """What to send next, and when to read again if more is waiting already."""
        batch = self.hub.settings.batch
        now_ms, slices = await self.hub.store.read_after(self.position, batch)
        # The order is (millisecond, warnings first, sequence), the same for every
        # subscriber however its reads fall: only what no later write can precede is
        # sent, up to the end of a full batch and before the server's current millisecond
        # (unless its clock is behind the ids); the rest is read again shortly.
        pending = sorted(
            (_order(entry_id, i), i, entry_id, record)
            for i, s in enumerate(slices)
            for entry_id, record in s.entries
        )
        limits = [
            _order(s.entries[-1][0], i) for i, s in enumerate(slices) if len(s.entries) == batch
        ]
        if pending and pending[-1][0][0] <= now_ms:
            limits.append((now_ms - 1, len(slices), 0))
        limit = min(limits, default=pending[-1][0] if pending else None)
        ready = [p for p in pending if limit is not None and p[0] <= limit]
        districts = await self._districts([record for *_, record in ready])
        snoozed = await snoozed_warnings(self.hub.store, [record for *_, record in ready])
        # nothing changes before the last read succeeded: a failed batch is read again
        found: list[LiveItem] = []
        gaps = self._gaps([s.lost_before for s in slices])
        if gaps:
            message = "records may be missing: the stream no longer holds all after the cursor"
            found.append(LiveItem("gap", self.cursor, {"kinds": gaps, "message": message}))
        for _, i, entry_id, record in ready:
            self.position[i] = entry_id
            district = districts.get(record.get("uscc", ""))
            if self.caller.sees(district) and self.wanted.matches(
                KINDS[i], record, district, snoozed
            ):
                found.append(LiveItem(KINDS[i], self.cursor, record))
        if len(ready) == len(pending):
            return found, None
        return found, 0.0 if ready else _THIS_MILLISECOND

    def _gaps(self, lost_before: list[str | None]) -> list[Kind]:
        gaps: list[Kind] = []
        for i, first in enumerate(lost_before):
            reported = self._gap_reported[i]
            if first is None or (reported and stream_id(first) <= stream_id(reported)):
                continue
            self._gap_reported[i] = first
            if not self._quiet_gaps:
                gaps.append(KINDS[i])
        self._quiet_gaps = False
        return gaps

    async def _districts(self, records: list[dict[str, Any]]) -> dict[str, str | None]:
        """USCC -> district of the batch's enterprises, in one round trip, if needed."""
        if not records or (self.caller.district is None and not self.wanted.needs_district):
            return {}
        return await self.hub.store.districts(sorted({r["uscc"] for r in records if r.get("uscc")}))
