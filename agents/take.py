"""Batches of a Faust stream's events that do not wait when the input is quiet.

Faust's `take_events(max_, within)` holds a batch until it has `max_` events or
`within` seconds passed: a live feed of one event now and then waits the whole window
(0.2 s) before its warning can be raised. `take_ready` is the same buffer (events
acknowledged only after the batch was handled, at most `max_` per batch, the stream
consumed in the background meanwhile), with one more reason to hand a batch on: no
event arrived for `idle` seconds, as when nothing else is queued. Under load events
arrive every few microseconds and batches fill as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from faust.types import EventT
from mode.utils.aiter import aiter
from mode.utils.futures import notify

#: a batch waits this long for one more event before it is handed on
IDLE_S = 0.002


async def take_ready(
    stream: Any, max_: int, within: float, idle: float = IDLE_S
) -> AsyncIterator[list[EventT]]:
    """Batches of up to `max_` events: handed on when full, when `within` seconds passed
    since their first event, or when no event came for `idle` seconds."""
    events: list[EventT] = []
    full = asyncio.Event()
    arrived = asyncio.Event()
    consumed = asyncio.Event()
    consuming: asyncio.Future[None] | None = None
    loop = asyncio.get_running_loop()

    async def add_to_buffer(value: Any) -> Any:
        nonlocal consuming
        try:
            if consuming is not None:  # a batch is being handled: wait for its end
                try:
                    await consuming
                finally:
                    consuming = None
            event = stream.current_event
            if event is None:
                raise RuntimeError("take buffer found current_event is None")
            events.append(event)
            arrived.set()
            if len(events) >= max_:
                full.set()
                consumed.clear()  # never more than max_ in a batch
                await stream.wait(consumed)
        except asyncio.CancelledError:  # pragma: no cover
            raise
        except Exception as exc:
            stream.log.exception("Error adding to take buffer: %r", exc)
            await stream.crash(exc)
        return value

    enable_acks = stream.enable_acks
    stream.enable_acks = False  # acknowledged here, once the batch was handled
    stream.add_processor(add_to_buffer)
    stream._enable_passive(aiter(stream.channel))
    try:
        while not stream.should_stop:
            if await stream.wait_for_stopped(arrived):
                break
            began = loop.time()
            while not full.is_set() and loop.time() - began < within:
                held = len(events)
                if await stream.wait_for_stopped(full, timeout=idle):
                    break
                if len(events) == held:
                    break  # nothing came meanwhile: the input is quiet, hand it on
            if not events:
                arrived.clear()
                continue
            consuming = loop.create_future()
            try:
                yield list(events)
            finally:
                for event in events:
                    await stream.ack(event)
                events.clear()
                notify(consuming)
                full.clear()
                arrived.clear()
                consumed.set()
    finally:
        stream.enable_acks = enable_acks
        stream._processors.remove(add_to_buffer)
