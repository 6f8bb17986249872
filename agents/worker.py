"""The worker: the Faust agent over the input topics, the timers, and the threads of
the outbox relay and the trainer (unless a sidecar runs those: agents/sidecar.py).

Thin by design: it moves batches between Kafka and `Pipeline`, and outputs between the
store and Kafka. The rules live in rules/, the Redis code in streams/store/.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import Any

import faust
from faust.types import EventT
from prometheus_client import start_http_server

from agents import metrics
from agents.faust_app import create_faust_app
from agents.fetch_pacing import pace_empty_fetches
from agents.lag import consumer_lag
from agents.pipeline import Message, Pipeline, split_by_events
from agents.relay import run_relay_thread
from agents.retry import Stopping, until_done
from agents.take import take_ready
from agents.timers import EventClock, WallClock, fire_due
from agents.training import run_trainer_thread
from streams.settings import StoreSettings, StreamSettings
from streams.store import Store

log = logging.getLogger(__name__)


def build_worker(
    stream: StreamSettings, store_settings: StoreSettings, datadir: Path | None = None
) -> faust.App:
    # before Faust's consumer and the trainer's start: idle fetches would spin
    pace_empty_fetches()
    app, topics = create_faust_app(stream, datadir)
    store = Store.from_settings(store_settings)
    pipeline = Pipeline(store, stream.fanout_topic)
    clock = EventClock(stream.allowed_lateness_s) if stream.timer_clock == "event" else WallClock()
    by_name = {
        stream.warnings_topic: topics.warnings,
        stream.grade_changes_topic: topics.grade_changes,
        stream.dead_letters_topic: topics.dead_letters,
        stream.fanout_topic: topics.fanout,
        stream.labels_topic: topics.labels,
    }

    async def send(
        topic: str, key: bytes | None, value: bytes, headers: list[tuple[str, bytes]] | None = None
    ) -> Any:
        # force=True: publish now, not when the current input event is acknowledged
        return await by_name[topic].send(key=key, value=value, headers=headers, force=True)

    async def send_fanout(items: list[tuple[str, bytes]]) -> None:
        futures = [await send(stream.fanout_topic, key.encode(), value) for key, value in items]
        for future in futures:
            await future

    def stopping() -> bool:
        return bool(app.should_stop)

    @app.agent(topics.inputs, name="creditwatch.process")
    async def process(events: faust.StreamT) -> None:
        # events (not values): the batch keeps each message's topic, partition, offset;
        # a quiet input hands a batch on at once rather than after the window
        batches = take_ready(events, stream.batch_size, within=stream.batch_within_s)
        async for batch in batches:
            messages = [
                Message(
                    e.message.topic,
                    e.message.partition,
                    e.message.offset,
                    e.value,
                    e.message.timestamp,
                )
                for e in batch
            ]
            # through an outage of Redis or the broker the batch waits: applied in full
            # (a commit is idempotent by event_id, so a partial one is re-run safely),
            # then acknowledged, never skipped
            try:
                for run in split_by_events(messages, stream.batch_size):
                    result = await until_done(
                        partial(pipeline.handle_isolating, run), stopping=stopping, what="batch"
                    )
                    clock.observe(result.event_times)
                    if result.fanout:
                        await until_done(
                            partial(send_fanout, result.fanout), stopping=stopping, what="fanout"
                        )
            except Stopping:
                # the batch and the event the take buffer holds besides it: not applied
                withhold([*batch, events.current_event])
                log.warning(
                    "stopped before a batch of %d was applied: not acknowledged", len(batch)
                )
                return

    if stream.worker_relay_trainer:  # else a sidecar runs them (agents/sidecar.py)

        @app.task
        async def train() -> None:
            # every worker asks; the trainer's consumer group gives the one partition to
            # one. In a thread of its own: learning never holds this event loop.
            stopping_trainer = partial(_should_stop, app)
            await asyncio.to_thread(run_trainer_thread, stream, store_settings, stopping_trainer)

        @app.task
        async def relay_outputs() -> None:
            # in a thread of its own, with its own producer and Redis client: publishing
            # the outputs never holds this event loop
            stopping_relay = partial(_should_stop, app)
            await asyncio.to_thread(run_relay_thread, stream, store_settings, stopping_relay)

    @app.timer(interval=stream.timer_interval_s)
    async def fire_timers() -> None:
        # rechecks go through the fan-out topic: the worker that owns the firm's
        # partition applies them, in order with the firm's events
        try:
            await fire_due(store, clock.now(), send_fanout, partitions=stream.partitions)
        except Exception:  # Redis or the broker away: the timers wait for the next tick
            log.exception("handing out due timers failed; retrying next tick")

    @app.timer(interval=stream.lag_interval_s)
    async def measure_lag() -> None:
        try:
            metrics.CONSUMER_LAG.figures = await consumer_lag(app.consumer, pipeline.processed)
        except Exception:  # the broker away: the figures stay as they were until it is back
            log.warning("measuring the consumer lag failed", exc_info=True)

    @app.task
    async def expose_metrics() -> None:
        # started with the app: a scrape that answers means the worker is running
        server, _thread = start_http_server(
            stream.worker_metrics_port, addr=stream.worker_metrics_host
        )
        log.info("worker metrics on port %d", server.server_port)

    return app


def _should_stop(app: faust.App) -> bool:
    return bool(app.should_stop)


def withhold(events: Iterable[EventT | None]) -> None:
    """The app stops while a batch waits for Redis or the broker: settle the events
    not applied without acknowledging them. Faust would otherwise wait for their
    acknowledgement on its way out (until killed), and acknowledging them would commit
    the offsets of events never applied; unacknowledged, they go to the partition's
    next owner."""
    for event in events:
        if event is not None:
            event.message.acked = True  # Faust skips an acked message: no offset recorded


#: the young generation's threshold (CPython's default: 700 allocations)
GC_YOUNG_THRESHOLD = 50_000


def settle_garbage_collector() -> None:
    """What is loaded by now (modules, Faust, the rules) lives as long as the process:
    frozen, the collector no longer scans it. A batch allocates hundreds of thousands
    of short-lived objects: at CPython's default threshold they outlive the young
    generations while the batch runs, reach the old one and bring on full collections
    (about 0.2 s each, a fifth of the worker's CPU in the bench); with a larger
    threshold most die young."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)


def run_worker(loglevel: str = "info") -> None:
    """Run a worker in the foreground until SIGINT or SIGTERM."""
    stream, store = StreamSettings(), StoreSettings()
    app = build_worker(stream, store, Path(stream.datadir))
    settle_garbage_collector()
    worker = faust.Worker(app, loglevel=loglevel, quiet=True)
    worker.execute_from_commandline()
