"""Replays a stream of events through the pipeline in one process, in event time:
each batch, then what it fanned out, then the timers the watermark has passed. Used by
`creditwatch backtest`, the benchmark and the integration tests, so they all exercise
the worker's own code path."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from agents.pipeline import Counts, Message, Pipeline
from agents.timers import EventClock, fire_due
from agents.training import TrainerLoop

INPUT_TOPIC = "replay.events"


@dataclass
class ReplayStats(Counts):
    messages: int = 0
    batch_seconds: list[float] = field(default_factory=list)


class Replayer:
    """With a `trainer`, the models learn as they would live: after each batch, from
    what it wrote to the labels log; the pipeline scores with each snapshot published."""

    def __init__(
        self,
        pipeline: Pipeline,
        batch_size: int = 500,
        lateness_s: float = 0.0,
        trainer: TrainerLoop | None = None,
    ):
        self.pipeline = pipeline
        self.trainer = trainer
        self.batch_size = batch_size
        self.clock = EventClock(lateness_s)
        self.stats = ReplayStats()
        self._offsets = itertools.count()

    async def run(
        self, values: Iterable[bytes], progress: Callable[[int], object] | None = None
    ) -> ReplayStats:
        """Replay message values (one event, or a batch frame, each) in order."""
        items = iter(values)
        while batch := list(itertools.islice(items, self.batch_size)):
            await self.feed(batch)
            if progress is not None:
                progress(len(batch))
        return self.stats

    async def feed(self, values: list[bytes]) -> None:
        started = time.perf_counter()
        messages = [Message(INPUT_TOPIC, 0, next(self._offsets), v) for v in values]
        self.stats.messages += len(messages)
        result = await self.pipeline.handle(messages)
        self.stats.add(result)
        self.clock.observe(result.event_times)
        await self._drain(result.fanout)
        await self.fire_timers()
        if self.trainer is not None:
            await self.trainer.drain()
        self.stats.batch_seconds.append(time.perf_counter() - started)

    async def fire_timers(self) -> None:
        pending: list[tuple[str, bytes]] = []

        async def send_all(items: list[tuple[str, bytes]]) -> None:
            pending.extend(items)

        while await fire_due(self.pipeline.store, self.clock.now(), send_all):
            await self._drain(pending)
            pending.clear()

    async def _drain(self, fanout: list[tuple[str, bytes]]) -> None:
        topic = self.pipeline.fanout_topic
        while fanout:
            chunk, fanout = fanout[: self.batch_size], fanout[self.batch_size :]
            messages = [Message(topic, 0, next(self._offsets), v) for _, v in chunk]
            result = await self.pipeline.handle(messages)
            self.stats.add(result)
            fanout = fanout + result.fanout
