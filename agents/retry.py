"""Retrying a step through an outage of Redis or the broker.

The worker must not skip a batch because Redis restarted or the broker went away: the
step (apply a batch, send its fan-out) is repeated until it succeeds, with a capped
exponential backoff. An outage is logged twice, when it starts (with its reason) and
when it ends, not once per attempt; the metrics say how often and whether the worker
is waiting now.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiokafka.errors import KafkaError
from faust.exceptions import ProducerSendError

from agents import metrics
from streams.store import StoreUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")

#: what the store raises while Redis restarts (StoreUnavailable: refused, reset, -LOADING
#: while it replays its AOF, a timeout)
#: and a broker away (a send that timed out or was refused) raise; anything else is a
#: bug and is not retried
OUTAGES: tuple[type[BaseException], ...] = (
    StoreUnavailable,
    KafkaError,
    ProducerSendError,
    OSError,
)
FIRST_DELAY_S = 0.2
MAX_DELAY_S = 10.0


class Stopping(Exception):
    """The app began to stop while the step was still failing: it was not done."""


async def until_done(
    step: Callable[[], Awaitable[T]],
    *,
    stopping: Callable[[], bool],
    what: str,
    retry_on: tuple[type[BaseException], ...] = OUTAGES,
    first_delay_s: float = FIRST_DELAY_S,
    max_delay_s: float = MAX_DELAY_S,
) -> T:
    """`await step()` until it returns (its result), retrying on `retry_on` after
    `first_delay_s`, doubled per failure up to `max_delay_s`. Raises `Stopping` once
    `stopping()` is true after a failure; a cancellation goes through at once."""
    delay, failures, since = first_delay_s, 0, 0.0
    try:
        while True:
            try:
                result = await step()
            except retry_on as exc:
                if failures == 0:
                    since = time.monotonic()
                    reason = f"{type(exc).__name__}: {exc}"
                    log.warning("%s failed (%s); retrying until it succeeds", what, reason)
                    metrics.WAITING.labels(what).set(1)
                failures += 1
                metrics.RETRIES.labels(what).inc()
                if not await _pause(delay, stopping):
                    raise Stopping(f"{what}: stopped after {failures} failures") from exc
                delay = min(delay * 2, max_delay_s)
                continue
            if failures:
                took = time.monotonic() - since
                log.info("%s succeeded after %d retries (%.1f s)", what, failures, took)
            return result
    finally:
        if failures:
            metrics.WAITING.labels(what).set(0)


async def _pause(seconds: float, stopping: Callable[[], bool], tick: float = 0.1) -> bool:
    """Sleep `seconds`, looking at `stopping()` every `tick`: whether it slept it out."""
    deadline = time.monotonic() + seconds
    while not stopping():
        left = deadline - time.monotonic()
        if left <= 0:
            return True
        await asyncio.sleep(min(tick, left))
    return False
