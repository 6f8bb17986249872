"""The trainer's loop: learning records in (from the labels topic live, or straight
from the Redis labels log in replays), model snapshots out.

Exactly one trainer learns: live, the labels topic has one partition, and a Kafka
consumer group of its own hands it to one worker process. A trainer that takes the
partition resumes from the last snapshot and seeks to the record after the one the
snapshot learned, so a restart neither loses nor repeats a label; it publishes a
snapshot when it hands the partition back.

The trainer runs in a thread of its own, with its own event loop and Redis client
(`run_trainer_thread`): in the worker, where learning then never holds the loop that
consumes the input, or in the sidecar beside the workers (agents/sidecar.py), where it
does not share the worker's GIL either. Which trainer learns is still the labels topic's
consumer group's choice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from agents import metrics
from agents.retry import until_done
from agents.stages import cpu_stage
from rules.jsoncodec import loads
from rules.learning.trainer import Trainer, TrainerSettings, figures
from streams.figures import MODEL_FIGURES
from streams.settings import StoreSettings, StreamSettings
from streams.store import Store
from streams.store.ports import TrainerPort

log = logging.getLogger(__name__)

#: an idle labels fetch waits this long (agents/fetch_pacing.py): a label is learnt
#: a moment later, and the trainer's consumer does not spin beside the worker's
TRAINER_IDLE_PAUSE_S = 0.5

Record = tuple[Any, bytes]


class TrainerLoop:
    def __init__(
        self,
        store: TrainerPort,
        settings: TrainerSettings | None = None,
        publish_labels: int = 500,
        publish_interval_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.store = store
        self.settings = settings or TrainerSettings()
        self.trainer = Trainer(self.settings)
        self.publish_labels, self.publish_interval_s = publish_labels, publish_interval_s
        self.clock = clock
        self.unpublished = 0
        self._last_publish = clock()

    async def resume(self) -> None:
        """Continue from the published snapshot, if there is one this code can read."""
        published = await self.store.get_model()
        if published is None:
            return
        version, blob = published
        try:
            self.trainer = Trainer.restore(blob)
        except Exception:  # another format or River: start afresh rather than not at all
            log.exception("model snapshot %s not loadable; the trainer starts afresh", version)
            metrics.MODEL_LOAD_ERRORS.inc()
            return
        log.info("trainer resumes from snapshot v%s (%d labels)", version, self.trainer.labels)

    async def learn(self, records: Iterable[Record]) -> int:
        """Learn the records after the trainer's offset; publish when due. Returns the
        number of records learned."""
        with cpu_stage("trainer"):
            learned, events = self._learn(records)
        due = self.unpublished >= self.publish_labels or (
            self.unpublished and self.clock() - self._last_publish >= self.publish_interval_s
        )
        if events or due:
            await self.publish()
        if events:
            await self._announce(events)
        return learned

    def _learn(self, records: Iterable[Record]) -> tuple[int, list[dict[str, Any]]]:
        learned, events = 0, []
        for offset, raw in records:
            if _learned_before(offset, self.trainer.offset):
                continue  # learned before the snapshot this trainer resumed from
            try:
                record = loads(raw)
            except ValueError:
                log.error("unreadable learning record at %s skipped", offset)
                continue
            before = self.trainer.labels
            events += self.trainer.learn(record, offset)
            self.unpublished += self.trainer.labels - before
            learned += 1
        return learned, events

    async def drain(self) -> int:
        """Replays: learn everything in the Redis labels log after the trainer's offset."""
        total = 0
        while entries := await self.store.read_learning(str(self.trainer.offset or "0")):
            total += await self.learn(entries)
        return total

    async def publish(self) -> None:
        with cpu_stage("trainer"):
            blob = self.trainer.snapshot()
            meta = self.trainer.meta()
        await self.store.put_model(self.trainer.version, blob, meta)
        MODEL_FIGURES.figures = figures(meta)
        self.unpublished, self._last_publish = 0, self.clock()

    async def _announce(self, events: list[dict[str, Any]]) -> None:
        """Tell operators, and re-grade everyone when the forecaster's weight changed."""
        await self.store.add_model_events(events)
        for event in events:
            metrics.MODEL_EVENTS.labels(event["kind"]).inc()
            log.warning("model %s at %s: %s", event["kind"], event["at"], event["reason"])
        if any(e["kind"] in ("suspended", "restored") for e in events):
            await self.store.nudge_graded()


def _learned_before(offset: Any, learned: Any) -> bool:
    """Kafka offsets only: replays read the Redis log after the snapshot's entry."""
    return isinstance(offset, int) and isinstance(learned, int) and offset <= learned


async def consume_labels(
    stream: StreamSettings, loop: TrainerLoop, stopping: Callable[[], bool]
) -> None:
    """Live: the labels topic through a consumer group of the trainer's own."""
    from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener

    from agents.fetch_pacing import set_idle_pause

    consumer = AIOKafkaConsumer(
        bootstrap_servers=stream.kafka_bootstrap,
        group_id=f"{stream.consumer_group}.trainer",
        enable_auto_commit=False,  # the snapshot's offset is where a trainer resumes
        auto_offset_reset="earliest",
        session_timeout_ms=int(stream.session_timeout_s * 1000),
        heartbeat_interval_ms=3_000,
    )

    class Handover(ConsumerRebalanceListener):
        async def on_partitions_revoked(self, revoked: Any) -> None:
            if revoked and loop.unpublished:
                await loop.publish()

        async def on_partitions_assigned(self, assigned: Any) -> None:
            if not assigned:
                return
            # without the snapshot the trainer would learn from a blank model and
            # publish it over the good one: wait for Redis rather than go on
            await until_done(loop.resume, stopping=stopping, what="trainer")
            for partition in assigned:
                if isinstance(loop.trainer.offset, int):
                    consumer.seek(partition, loop.trainer.offset + 1)
                else:
                    await consumer.seek_to_beginning(partition)

    consumer.subscribe([stream.labels_topic], listener=Handover())
    await consumer.start()
    set_idle_pause(consumer, TRAINER_IDLE_PAUSE_S)
    try:
        while not stopping():
            batches = await consumer.getmany(timeout_ms=1000, max_records=2000)
            records = [(m.offset, m.value) for ms in batches.values() for m in ms]
            await loop.learn(records)
    finally:
        await consumer.stop()


def run_trainer_thread(
    stream: StreamSettings, store_settings: StoreSettings, stopping: Callable[[], bool]
) -> None:
    """The live trainer until `stopping()`: blocking, for a thread of its own (its event
    loop and Redis client are its own). On the way out the consumer hands the labels
    partition back, publishing what was learned since the last snapshot."""

    async def main() -> None:
        store = Store.from_settings(store_settings)
        trainer = TrainerLoop(
            store,
            publish_labels=stream.model_publish_labels,
            publish_interval_s=stream.model_publish_interval_s,
        )
        try:
            while not stopping():
                try:
                    await consume_labels(stream, trainer, stopping)
                except Exception:  # broker or Redis away: resume from the snapshot
                    log.exception("trainer failed; resuming in 5 s")
                    for _ in range(50):
                        if stopping():
                            break
                        await asyncio.sleep(0.1)
        finally:
            await store.close()

    asyncio.run(main())
