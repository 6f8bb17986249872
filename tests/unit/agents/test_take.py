"""Batches of a stream's events (agents/take.py): handed on at once when the input is
quiet, full batches under load, events acknowledged only once their batch was handled."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from agents.take import take_ready


class Channel:
    def __aiter__(self) -> Channel:
        return self

    async def __anext__(self) -> Any:
        raise StopAsyncIteration


class FakeStream:
    """What take_ready uses of a Faust stream; `deliver` is what its passive drainer
    does with each message."""

    def __init__(self) -> None:
        self.enable_acks = True
        self.should_stop = False
        self.current_event: Any = None
        self.channel = Channel()
        self.acked: list[str] = []
        self.log = logging.getLogger("fake-stream")
        self._processors: list[Any] = []

    def add_processor(self, processor: Any) -> None:
        self._processors.append(processor)

    def _enable_passive(self, channel: Any) -> None:
        pass

    async def wait(self, event: asyncio.Event) -> None:
        await event.wait()

    async def wait_for_stopped(self, event: asyncio.Event, timeout: float | None = None) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)
        return self.should_stop

    async def ack(self, event: str) -> None:
        self.acked.append(event)

    async def crash(self, exc: BaseException) -> None:
        raise exc

    async def deliver(self, event: str) -> None:
        self.current_event = event
        for processor in self._processors:
            await processor(event)


async def test_a_lone_event_is_handed_on_without_waiting_for_the_window() -> None:
    stream = FakeStream()
    batches = take_ready(stream, 500, within=3600.0)
    first = asyncio.ensure_future(batches.__anext__())
    await asyncio.sleep(0)  # the take starts and adds its processor
    await stream.deliver("e1")
    # an hour's window: only the quiet input can hand it on within the test's patience
    assert await asyncio.wait_for(first, 10) == ["e1"]
    assert stream.acked == []  # not before the batch was handled
    second = asyncio.ensure_future(batches.__anext__())
    await asyncio.sleep(0)
    assert stream.acked == ["e1"]
    second.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await second
    await batches.aclose()


async def test_events_arriving_together_fill_batches_of_at_most_max() -> None:
    stream = FakeStream()
    batches = take_ready(stream, 3, within=3600.0)
    first = asyncio.ensure_future(batches.__anext__())
    await asyncio.sleep(0)

    async def burst() -> None:
        for n in range(1, 6):
            await stream.deliver(f"e{n}")

    sending = asyncio.ensure_future(burst())
    assert await asyncio.wait_for(first, 10) == ["e1", "e2", "e3"]
    assert await asyncio.wait_for(batches.__anext__(), 10) == ["e4", "e5"]
    assert stream.acked == ["e1", "e2", "e3"]
    await sending
    await batches.aclose()
    assert stream.enable_acks and stream._processors == []  # the stream as it was
