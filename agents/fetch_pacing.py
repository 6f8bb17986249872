"""Empty fetches paced: a consumer whose fetch comes back empty sooner than its broker
should have held it waits out the rest before asking again.

Kafka holds a fetch with nothing to return for up to `fetch.max.wait.ms` (a long poll)
and answers as soon as a record arrives. The embedded broker (noida-db, what `creditwatch
up` and the bench run) answers at once, empty: aiokafka then sends the next fetch
straight away, and each idle or partly idle consumer spins at some 3,000 fetches a
second, half a core between it and the broker. Measured in the bench, the worker's
two consumers (Faust's, the trainer's) cost more CPU per event than the rules.

The pause applies only to a fetch that returned no record and came back sooner than the
floor: against Kafka an empty answer takes the whole long poll, so nothing changes, and a
fetch that brings records is never held. The floor starts at 5 ms and doubles with each
empty fetch in a row, up to 40 ms, so an idle worker's consumer asks some 25 times a
second; the first record resets it. A record produced during a pause waits for it: not at
all under a steady feed (fetches bring records), at most 40 ms after a quiet spell.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiokafka.consumer.fetcher import Fetcher

#: an empty fetch's round trip is brought up to this (the worker's input consumer) ...
IDLE_PAUSE_S = 0.005
#: ... doubled for each empty fetch in a row, up to this
IDLE_PAUSE_MAX_S = 0.04
_FLOOR = "_creditwatch_idle_pause_s"
_STREAK = "_creditwatch_empty_streak"


def pace_empty_fetches() -> None:
    """Install the pause in every aiokafka consumer of this process (once; idempotent)."""
    original = Fetcher._proc_fetch_request
    if getattr(original, "paced", False):
        return

    async def paced(self: Fetcher, assignment: Any, node_id: Any, request: Any) -> bool:
        started = time.monotonic()
        fetched: bool = await original(self, assignment, node_id, request)
        streak = 0 if fetched else getattr(self, _STREAK, 0) + 1
        setattr(self, _STREAK, streak)
        if streak:
            floor = getattr(self, _FLOOR, IDLE_PAUSE_S)
            pause = max(floor, min(floor * 2 ** min(streak - 1, 10), IDLE_PAUSE_MAX_S))
            rest = pause - (time.monotonic() - started)
            if rest > 0:
                try:
                    await asyncio.sleep(rest)
                except asyncio.CancelledError:  # closing or unassigned, as the original
                    return False
        return fetched

    paced.paced = True  # type: ignore[attr-defined]
    Fetcher._proc_fetch_request = paced


def set_idle_pause(consumer: Any, seconds: float) -> None:
    """A started consumer's own floor, for one whose latency matters less than its CPU
    (the trainer's: labels wait for their horizon anyway)."""
    setattr(consumer._fetcher, _FLOOR, seconds)
