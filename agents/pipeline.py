"""One batch of messages through decode, the rules and the store.

Kept free of Faust so it runs the same under the worker, in replays (agents/replay.py),
in tests against a real Redis, and in benchmarks. Three Redis round trips per batch:
load states (after linking the people and addresses the batch names), load the
related-party indexes, commit.

Besides contract events, the fan-out topic carries rechecks (streams/contract/internal.py): a
timer came due, or a related party changed; they re-evaluate without an event.
"""

from __future__ import annotations

import hashlib
import logging
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from agents import metrics
from agents.batch import EnterpriseBatch, Item, Recheck, Sweep
from agents.retry import OUTAGES
from agents.stages import Laps
from rules.learning.scorer import Scorer
from rules.ruleset import RuleSet, default_ruleset
from streams.contract.events import Event, decode, encode_event
from streams.contract.internal import parse_recheck, parse_sweep
from streams.contract.rejections import Rejected, dead_letter_record
from streams.store.ports import WorkerPort

log = logging.getLogger(__name__)

_PERSON_LISTINGS = {"person.dishonest_listed": True, "person.dishonest_removed": False}


@dataclass(frozen=True)
class Message:
    """A consumed Kafka message, as much of it as the pipeline needs."""

    topic: str
    partition: int
    offset: int
    value: bytes
    #: the record's Kafka timestamp (epoch seconds), where known
    timestamp: float | None = None


@dataclass
class Counts:
    """What batches did, as numbers (a batch's, or a replay's in total)."""

    applied: int = 0
    duplicates: int = 0
    dead_letters: int = 0
    warnings: int = 0
    closed: int = 0
    grade_changes: int = 0
    rechecks: int = 0
    #: timers' rechecks folded into the catch-up of a later event of the same firm
    folded: int = 0
    #: the days' sweeps of model labels applied (streams/store/labels.py)
    swept: int = 0

    def add(self, other: Counts) -> None:
        for name in fields(Counts):
            setattr(self, name.name, getattr(self, name.name) + getattr(other, name.name))


@dataclass
class BatchResult(Counts):
    #: (key, value) to produce to the fan-out topic
    fanout: list[tuple[str, bytes]] = field(default_factory=list)
    #: input partition -> latest event time seen in this batch (epoch seconds)
    event_times: dict[int, float] = field(default_factory=dict)

    def merge(self, other: BatchResult) -> None:
        self.add(other)
        self.fanout += other.fanout
        for partition, at in other.event_times.items():
            self.event_times[partition] = max(at, self.event_times.get(partition, at))


def split_by_events(messages: list[Message], limit: int) -> list[list[Message]]:
    """Consecutive runs of `messages` holding about `limit` events at most (a message
    counts its `"event_id"`s, at least one): a take of batch envelopes may hold
    hundreds of times more events than messages, and one batch's evaluation holds the
    event loop (heartbeats, the relay) while it runs. A run is what a smaller take
    would have given, so nothing about ordering or exactly-once changes.

    >>> ms = [Message("t", 0, n, v) for n, v in enumerate([b"{}", b'{"batch":[' + b",".join(
    ...     [b'{"event_id":"x"}'] * 3) + b"]}", b"{}", b"{}"])]
    >>> [[m.offset for m in run] for run in split_by_events(ms, 3)]
    [[0], [1], [2, 3]]
    """
    runs: list[list[Message]] = []
    run: list[Message] = []
    held = 0
    for message in messages:
        events = max(1, message.value.count(b'"event_id"'))
        if run and held + events > limit:
            runs.append(run)
            run, held = [], 0
        run.append(message)
        held += events
    if run:
        runs.append(run)
    return runs


class Pipeline:
    """`ruleset` is where it starts; with `follow_published` it switches to the rule
    set published in Redis (`creditwatch rules load`) at the first batch after it
    changes: hot reload without a restart. It follows the model snapshot the trainer
    publishes the same way, always: the models score with the latest one."""

    def __init__(
        self,
        store: WorkerPort,
        fanout_topic: str,
        ruleset: RuleSet | None = None,
        follow_published: bool = True,
    ):
        self.store = store
        self.fanout_topic = fanout_topic
        self.ruleset = ruleset or default_ruleset()
        self.follow_published = follow_published
        self.scorer: Scorer | None = None
        self.model_version: str | None = None
        #: (topic, partition) -> the last offset whose outputs are committed: the
        #: consumer lag is measured from here
        self.processed: dict[tuple[str, int], int] = {}
        metrics.RULESET.labels(self.ruleset.version).set(1)

    async def handle(self, messages: list[Message], now: datetime | None = None) -> BatchResult:
        started = time.perf_counter()
        now = now or datetime.now(UTC)
        result = BatchResult()
        metrics.BATCH_SIZE.observe(len(messages))
        person_events: list[Event] = []
        by_uscc: dict[str, list[Item]] = defaultdict(list)
        laps = Laps()
        for message in messages:
            derived = message.topic == self.fanout_topic
            if derived and (recheck := parse_recheck(message.value)) is not None:
                by_uscc[recheck[0]].append(Recheck(recheck[1], recheck[2]))
                continue
            if derived and (sweep := parse_sweep(message.value)) is not None:
                for uscc in sweep[0]:
                    by_uscc[uscc].append(Sweep(sweep[1]))
                continue
            received = (
                datetime.fromtimestamp(message.timestamp, UTC)
                if message.timestamp is not None and not derived
                else None
            )
            for index, item in enumerate(decode(message.value, received)):
                if isinstance(item, Rejected):
                    await self._dead_letter(message, index, item, now, result)
                    continue
                if not derived:
                    at = item.occurred_at.timestamp()
                    if at > result.event_times.get(message.partition, 0.0):
                        result.event_times[message.partition] = at
                if item.is_person_event and not derived:
                    person_events.append(item)
                elif item.uscc:
                    by_uscc[item.uscc].append(item)
        laps.lap("decode")
        if person_events:
            await self._person_events(person_events, result)
            laps.lap("person")
        for _ in range(3):
            if not by_uscc:
                break
            # what was applied before is looked up at once (in the load's round trip): a
            # duplicate found only by the commit's guard would be retried after the rest
            # of the batch committed, seeing links it did not see the first time
            batch = EnterpriseBatch(self.store, self.ruleset, now)
            conflicts = await batch.run(by_uscc, result, self._follow)
            by_uscc = {u: by_uscc[u] for u in conflicts}
        if by_uscc:
            raise RuntimeError(f"commit conflicts persist for {sorted(by_uscc)}")
        metrics.BATCH_SECONDS.observe(time.perf_counter() - started)
        self._committed(messages)
        return result

    async def handle_isolating(self, messages: list[Message]) -> BatchResult:
        """`handle`; but a batch that fails other than by an outage (a bug some input
        trips) is applied message by message, and a message that fails on its own is
        dead-lettered as `internal_error` with its exact bytes, to replay once the bug
        is fixed: one such input cannot stop its partition. Outages are raised, for
        the caller to retry."""
        try:
            return await self.handle(messages)
        except OUTAGES:
            raise
        except Exception:
            if len(messages) == 1:
                return await self._failed(messages[0])
            log.exception("a batch of %d failed; applying its messages one by one", len(messages))
        result = BatchResult()
        for message in messages:
            try:
                one = await self.handle([message])
            except OUTAGES:
                raise
            except Exception:
                one = await self._failed(message)
            result.merge(one)
        return result

    async def _failed(self, message: Message) -> BatchResult:
        log.exception("message %s:%d:%d failed", message.topic, message.partition, message.offset)
        exc = sys.exc_info()[1]
        detail = f"processing failed ({type(exc).__name__}); see the worker log"
        result = BatchResult()
        rejected = Rejected(reason="internal_error", detail=detail, raw=message.value)
        await self._dead_letter(message, 0, rejected, datetime.now(UTC), result)
        self._committed([message])
        return result

    def _committed(self, messages: list[Message]) -> None:
        """The batch's outputs are in Redis: its latency per message, and how far each
        partition is processed."""
        committed = time.time()
        for m in messages:
            if m.timestamp is not None:
                metrics.PROCESSING_SECONDS.observe(max(0.0, committed - m.timestamp))
            tp = (m.topic, m.partition)
            if m.offset > self.processed.get(tp, -1):
                self.processed[tp] = m.offset

    async def _follow(
        self, published_version: str | None, model_version: str | None
    ) -> tuple[RuleSet, Scorer | None]:
        """The rule set and the scorer for this batch: the published ones, when they
        changed."""
        if model_version != self.model_version:
            await self._load_model()
        return await self._follow_rules(published_version), self.scorer

    async def _load_model(self) -> None:
        published = await self.store.get_model()
        if published is None:
            self.scorer, self.model_version = None, None
            return
        version, blob = published
        try:
            scorer = Scorer.from_snapshot(blob)
        except Exception:  # unreadable (another River, a newer format): keep ours
            log.exception("model snapshot %s not loadable", version)
            metrics.MODEL_LOAD_ERRORS.inc()
        else:
            log.info("model v%s loaded (in force: %s)", version, scorer.in_force)
            self.scorer = scorer
            metrics.MODEL_SCORING.set(scorer.version)
        self.model_version = version  # not retried at every batch if unreadable

    async def _follow_rules(self, published_version: str | None) -> RuleSet:
        if (
            self.follow_published
            and published_version is not None
            and published_version != self.ruleset.version
        ):
            try:
                published = await self.store.get_ruleset()
            except ValueError:  # unreadable (e.g. written by a newer version): keep ours
                log.exception("published rule set %s not loadable", published_version)
                metrics.RULESET_ERRORS.inc()
                published = None
            if published is not None:
                log.info("rule set %s in force (was %s)", published.version, self.ruleset.version)
                metrics.RULESET.labels(self.ruleset.version).set(0)
                metrics.RULESET.labels(published.version).set(1)
                self.ruleset = published
        return self.ruleset

    async def _dead_letter(
        self, message: Message, index: int, item: Rejected, now: datetime, result: BatchResult
    ) -> None:
        identity = f"{message.topic}:{message.partition}:{message.offset}:{index}"
        with metrics.redis_timer("dead_letter"):
            added = await self.store.add_dead_letter(identity, dead_letter_record(item, now))
        if added:
            metrics.DEAD_LETTERS.labels(item.reason).inc()
            result.dead_letters += 1
        log.info("dead letter %s: %s (%s)", identity, item.reason, item.field or "-")

    async def _person_events(self, events: list[Event], result: BatchResult) -> None:
        """Record each listing on the person, then send a re-evaluation to every
        enterprise the person is linked to, keyed by its USCC (its own partition)."""
        sent = len(result.fanout)
        for event in events:
            payload: Any = event.payload
            with metrics.redis_timer("person_listing"):
                firms = await self.store.apply_person_listing(
                    event.key,
                    event.event_id,
                    payload.case_no,
                    _PERSON_LISTINGS[event.type],
                    event.occurred_at.astimezone(UTC).isoformat(),
                )
            metrics.EVENTS.labels(event.type, event.source).inc()
            body = event.model_dump(mode="json")
            for uscc in firms:
                derived_id = hashlib.sha1(f"{event.event_id}|{uscc}".encode()).hexdigest()
                result.fanout.append(
                    (uscc, encode_event({**body, "uscc": uscc, "event_id": f"fanout:{derived_id}"}))
                )
        metrics.FANOUT.inc(len(result.fanout) - sent)
