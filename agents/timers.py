"""Time-driven rules: hand due timers to the pipeline as rechecks, and the days of
label expiries the clock passed as sweeps (streams/store/labels.py).

The store keeps one timer per enterprise (the earliest day its rules asked to look
again), in a sorted set, so a tick reads only what is due: no scan of every
enterprise. "Now" is the wall clock in live mode, or the stream's watermark in event
time (replays, backfills, the demo): the latest event time every input partition has
reached, less an allowed lateness.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from agents import metrics
from agents.partitions import partition_of
from streams.contract.internal import encode_recheck, encode_sweep
from streams.store.ports import TimerPort
from streams.store.worker_records import RecheckQueue

#: sends (key, value) messages to the fan-out topic and returns once they are acknowledged
SendAll = Callable[[list[tuple[str, bytes]]], Awaitable[None]]


async def fire_due(
    store: TimerPort, now: float, send_all: SendAll, limit: int = 1000, partitions: int = 1
) -> int:
    """Send a recheck for every timer due at `now` (epoch seconds), for every
    operator's nudge and every related recheck (both due at once, whatever the clock),
    `limit` at a time; each is cleared only after its recheck was sent. Then the days
    of label expiries `now` passed, swept (`sweep_label_days`). Returns how many
    enterprises were sent a recheck or a sweep."""
    fired = 0
    queues: tuple[RecheckQueue, ...] = ("timer", "nudge", "related")
    for queue in queues:
        sent = 0
        while True:
            with metrics.redis_timer("timers"):
                due = await store.due_timers(now, limit, queue)
            if due:
                rebuild = queue == "related"
                await send_all(
                    [
                        (u, encode_recheck(u, datetime.fromtimestamp(at, UTC), rebuild))
                        for u, at in due
                    ]
                )
            await store.clear_timers(due, queue)
            sent += len(due)
            if len(due) < limit:
                break
        metrics.RECHECKS.labels(queue).inc(sent)
        fired += sent
    fired += await sweep_label_days(store, now, send_all, limit, partitions)
    metrics.TIMERS_FIRED.inc(fired)
    return fired


async def sweep_label_days(
    store: TimerPort, now: float, send_all: SendAll, limit: int = 1000, partitions: int = 1
) -> int:
    """For every day of label expiries whose start `now` has passed, one sweep message
    per input partition (of `partitions`) naming the day's enterprises of that
    partition, `limit` at most, keyed by the first: each reaches the worker that owns
    its firms, in order with their events. The firms are cleared from the day only
    once sent. Returns how many enterprises were swept."""
    sent = 0
    with metrics.redis_timer("timers"):
        days = await store.due_label_days(now)
    for day, start in days:
        at = datetime.fromtimestamp(start, UTC)
        with metrics.redis_timer("timers"):
            firms = await store.label_day_firms(day)
        by_partition: dict[int, list[str]] = defaultdict(list)
        for uscc in firms:
            by_partition[partition_of(uscc.encode(), partitions)].append(uscc)
        messages = [
            (group[i], encode_sweep(group[i : i + limit], at))
            for group in by_partition.values()
            for i in range(0, len(group), limit)
        ]
        await send_all(messages)
        sent += len(firms)
        with metrics.redis_timer("timers"):
            await store.clear_label_day(day, firms)
    metrics.RECHECKS.labels("labels").inc(sent)
    return sent


class EventClock:
    """The watermark of the partitions this process consumes.

    >>> c = EventClock(lateness_s=60)
    >>> c.observe({0: 1000.0, 1: 500.0}); c.observe({0: 900.0})
    >>> c.now()
    440.0
    """

    def __init__(self, lateness_s: float = 0.0):
        self.lateness_s = lateness_s
        self.latest: dict[int, float] = {}

    def observe(self, event_times: dict[int, float]) -> None:
        for partition, at in event_times.items():
            if at > self.latest.get(partition, float("-inf")):
                self.latest[partition] = at

    def now(self) -> float:
        if not self.latest:
            return float("-inf")
        return min(self.latest.values()) - self.lateness_s


class WallClock:
    def observe(self, event_times: dict[int, float]) -> None:
        pass

    def now(self) -> float:
        return time.time()
