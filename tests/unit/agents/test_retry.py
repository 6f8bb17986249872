"""agents/retry.py: a step is repeated through an outage, and only through one."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
from redis.exceptions import BusyLoadingError, ConnectionError

from agents import metrics
from agents.retry import Stopping, until_done
from streams.store.errors import translated


class Flaky:
    """Fails `times` times with `error`, then returns "done"; records when it ran."""

    def __init__(self, times: int, error: BaseException):
        self.times, self.error = times, error
        self.calls: list[float] = []

    async def __call__(self) -> str:
        self.calls.append(time.monotonic())
        if len(self.calls) <= self.times:
            raise self.error
        return "done"


def gauge(what: str) -> float:
    return metrics.WAITING.labels(what)._value.get()


def counter(what: str) -> float:
    return metrics.RETRIES.labels(what)._value.get()


async def test_an_outage_is_waited_out_with_growing_pauses_and_logged_twice(
    caplog: pytest.LogCaptureFixture,
) -> None:
    step = Flaky(6, translated(BusyLoadingError("Redis is loading the dataset in memory")))
    before = counter("unit-outage")
    with caplog.at_level(logging.INFO, logger="agents.retry"):
        result = await until_done(
            step, stopping=lambda: False, what="unit-outage", first_delay_s=0.02, max_delay_s=0.05
        )
    assert result == "done" and len(step.calls) == 7
    pauses = [b - a for a, b in zip(step.calls, step.calls[1:], strict=False)]
    assert pauses[0] >= 0.02 and pauses[1] >= 0.04  # doubled...
    assert sum(pauses) < 0.6  # ...up to the cap: 0.26 s in all, uncapped 1.26 s
    assert counter("unit-outage") - before == 6
    assert gauge("unit-outage") == 0
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2, messages  # one when it starts, one when it ends
    assert "BusyLoadingError" in messages[0] and "after 6 retries" in messages[1]


async def test_the_gauge_shows_a_step_waiting() -> None:
    step = Flaky(1000, translated(ConnectionError("refused")))
    task = asyncio.create_task(
        until_done(step, stopping=lambda: False, what="unit-gauge", first_delay_s=0.01)
    )
    while len(step.calls) < 2:
        await asyncio.sleep(0.01)
    assert gauge("unit-gauge") == 1
    task.cancel()  # a cancellation goes through at once
    with pytest.raises(asyncio.CancelledError):
        await task
    assert gauge("unit-gauge") == 0


async def test_anything_but_an_outage_is_not_retried() -> None:
    step = Flaky(1, RuntimeError("commit conflicts persist"))
    with pytest.raises(RuntimeError):
        await until_done(step, stopping=lambda: False, what="unit-bug", first_delay_s=0.01)
    assert len(step.calls) == 1


async def test_stopping_ends_the_wait_without_the_step_done() -> None:
    step = Flaky(1000, translated(ConnectionError("refused")))
    stop_at = time.monotonic() + 0.3
    started = time.monotonic()
    with pytest.raises(Stopping):
        await until_done(
            step, stopping=lambda: time.monotonic() > stop_at, what="unit-stop", max_delay_s=10
        )
    assert time.monotonic() - started < 1.0  # not after a full pause
    assert gauge("unit-stop") == 0
