"""The dead-letter topic: read what `dead_letter_record` wrote, summarise it by reason,
and replay chosen dead letters' original bytes to the input topic after a fix.

Reading takes no consumer group (nothing is committed, any number of readers) and
stops at the end offsets seen at the start, so a busy topic still gives an answer.
Replaying is safe to repeat: each event carries its `event_id` and the worker applies
an event once; one still broken is dead-lettered again.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaConnectionError, KafkaTimeoutError

from streams.contract.events import Event, decode
from streams.contract.identifiers import mask_id, replace_id_numbers
from streams.settings import StreamSettings
from streams.topics.envelopes import DEFAULT_ENVELOPE, Envelopes
from streams.topics.ingest import make_producer, partition_count

log = logging.getLogger(__name__)
T = TypeVar("T")
BOOTSTRAP_TIMEOUT_MS = 10_000
"""How long the reader waits for the broker before it says it is unreachable."""


class DeadLetterError(Exception):
    """What the user must fix: an unreachable broker, a missing topic, a bad selection."""


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One record of the dead-letter topic; `id` (partition:offset) names it stably."""

    partition: int
    offset: int
    reason: str
    detail: str
    field: str | None
    event_id: str | None
    dead_at: datetime | None
    original: bytes

    @property
    def id(self) -> str:
        return f"{self.partition}:{self.offset}"

    def public(self) -> dict[str, object]:
        """What may be shown: never the original bytes (they hold personal data), and
        any ID-number-like run in the texts masked (decode keeps them out of details;
        an event_id or a bogus `type` is the producer's text)."""
        return {
            "id": self.id,
            "partition": self.partition,
            "offset": self.offset,
            "dead_at": self.dead_at.isoformat() if self.dead_at else None,
            "reason": self.reason,
            "field": self.field,
            "detail": masked(self.detail),
            "event_id": masked(self.event_id) if self.event_id is not None else None,
        }


def masked(text: str) -> str:
    """`text` with every 18-character ID-number-like run masked (`mask_id`)."""
    return replace_id_numbers(text, mask_id)


def parse_record(partition: int, offset: int, value: bytes | None) -> DeadLetter | None:
    """A dead letter from its topic record, or None for a record that is not one."""
    try:
        record = json.loads(value or b"")
        original = base64.b64decode(record["original_b64"], validate=True)
        reason = record["reason"]
        if not isinstance(reason, str):
            raise TypeError("reason is not a string")
    except (ValueError, TypeError, KeyError, binascii.Error):
        log.warning("record %d:%d is not a dead-letter record; skipped", partition, offset)
        return None
    try:
        dead_at: datetime | None = datetime.fromisoformat(record.get("dead_at") or "")
    except (TypeError, ValueError):
        dead_at = None
    if dead_at is not None and dead_at.utcoffset() is None:  # not ours: take it as UTC
        dead_at = dead_at.replace(tzinfo=UTC)
    return DeadLetter(
        partition=partition,
        offset=offset,
        reason=reason,
        detail=str(record.get("detail") or ""),
        field=_text(record.get("field")),
        event_id=_text(record.get("event_id")),
        dead_at=dead_at,
        original=original,
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


class DeadLetterReader:
    """A consumer without a group, every partition of the topic assigned; use it as a
    context manager."""

    def __init__(self, settings: StreamSettings):
        self.topic = settings.dead_letters_topic
        self.consumer = _connect(
            settings,
            lambda: KafkaConsumer(
                bootstrap_servers=settings.kafka_bootstrap.split(","),
                group_id=None,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                allow_auto_create_topics=False,  # a mistyped topic is an error, not a new topic
                bootstrap_timeout_ms=BOOTSTRAP_TIMEOUT_MS,
            ),
        )
        partitions = self.consumer.partitions_for_topic(self.topic)
        if not partitions:
            self.consumer.close()
            raise DeadLetterError(
                f"topic {self.topic} does not exist on {settings.kafka_bootstrap} "
                "(`creditwatch topics` creates it)"
            )
        self.tps = [TopicPartition(self.topic, p) for p in sorted(partitions)]
        self.consumer.assign(self.tps)
        self.starts = self.consumer.beginning_offsets(self.tps)
        self.ends = self.consumer.end_offsets(self.tps)

    def pending(self) -> int:
        """Records between the beginning and the end offsets: what `read` goes through."""
        return sum(self.ends[tp] - self.starts[tp] for tp in self.tps)

    def read(
        self, progress: Callable[[int], object] | None = None, stall_s: float = 30.0
    ) -> Iterator[DeadLetter]:
        """Every dead letter up to the end offsets taken at the start, in partition
        order within each poll; `progress(n)` hears of each n records read. Gives up
        when no record arrives for `stall_s` while some are still due."""
        self.consumer.seek_to_beginning(*self.tps)
        left = {tp for tp in self.tps if self.ends[tp] > self.starts[tp]}
        deadline = time.monotonic() + stall_s
        while left:
            if time.monotonic() > deadline:
                raise DeadLetterError(f"no record from {self.topic} for {stall_s:.0f} s")
            for tp, records in self.consumer.poll(timeout_ms=500).items():
                deadline = time.monotonic() + stall_s
                due = [r for r in records if r.offset < self.ends[tp]]
                for record in due:
                    letter = parse_record(tp.partition, record.offset, record.value)
                    if letter is not None:
                        yield letter
                if progress is not None:
                    progress(len(due))
            left = {tp for tp in left if self.consumer.position(tp) < self.ends[tp]}
            self.consumer.pause(*(tp for tp in self.tps if tp not in left))

    def close(self) -> None:
        self.consumer.close()

    def __enter__(self) -> DeadLetterReader:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _connect(settings: StreamSettings, make: Callable[[], T]) -> T:
    """`make()` a client; an unreachable broker becomes one clear DeadLetterError
    (the client's own log would say so at every retry: quiet until it gives up)."""
    kafka_log = logging.getLogger("kafka")
    level = kafka_log.level
    kafka_log.setLevel(logging.CRITICAL)
    try:
        return make()
    except (KafkaTimeoutError, KafkaConnectionError):
        raise DeadLetterError(
            f"no broker reachable at {settings.kafka_bootstrap} (CREDITWATCH_KAFKA_BOOTSTRAP)"
        ) from None
    finally:
        kafka_log.setLevel(level)


@dataclass
class ReasonSummary:
    reason: str
    count: int
    first: datetime | None
    last: datetime | None


def summarise(letters: Iterable[DeadLetter]) -> list[ReasonSummary]:
    """Per reason: how many, the first and the last `dead_at`; most frequent first."""
    by_reason: dict[str, ReasonSummary] = {}
    for letter in letters:
        entry = by_reason.setdefault(letter.reason, ReasonSummary(letter.reason, 0, None, None))
        entry.count += 1
        if letter.dead_at is not None:
            if entry.first is None or letter.dead_at < entry.first:
                entry.first = letter.dead_at
            if entry.last is None or letter.dead_at > entry.last:
                entry.last = letter.dead_at
    return sorted(by_reason.values(), key=lambda s: (-s.count, s.reason))


def replay_key(original: bytes) -> bytes | None:
    """The key `creditwatch ingest` gives the event (`Event.key`: its USCC, or the
    person's key); None when the bytes still hold no valid event to key by."""
    keys = {item.key for item in decode(original) if isinstance(item, Event)}
    return keys.pop().encode() if len(keys) == 1 else None


def replay(
    letters: Iterable[DeadLetter],
    settings: StreamSettings,
    progress: Callable[[int], object] | None = None,
    envelope: int = DEFAULT_ENVELOPE,
) -> int:
    """Produce each dead letter's exact original bytes to the input topic; the number
    sent. The caller picks the letters (distinct originals: see `distinct`). An
    original that now holds one valid event goes in a batch envelope of its partition
    (`envelope` events at most); anything else goes alone, as it came."""
    producer = _connect(settings, lambda: make_producer(settings))
    sent = 0
    try:
        packer = Envelopes(partition_count(producer, settings.events_topic), envelope)
        topic = settings.events_topic
        for letter in letters:
            items = decode(letter.original)
            if len(items) == 1 and isinstance(items[0], Event) and envelope > 1:
                ready = packer.add(items[0].key.encode(), letter.original)
                for m in ready:
                    producer.send(topic, key=m.key, value=m.value, partition=m.partition)
            else:
                producer.send(topic, key=replay_key(letter.original), value=letter.original)
            sent += 1
            if progress is not None:
                progress(1)
        for m in packer.flush():
            producer.send(topic, key=m.key, value=m.value, partition=m.partition)
        producer.flush()
    finally:
        producer.close()
    log.info("replayed %d dead letters to %s", sent, settings.events_topic)
    return sent


def distinct(letters: Iterable[DeadLetter]) -> list[DeadLetter]:
    """The first dead letter of each original: an event dead-lettered again after an
    earlier replay is sent once."""
    seen: set[bytes] = set()
    kept = []
    for letter in letters:
        if letter.original not in seen:
            seen.add(letter.original)
            kept.append(letter)
    return kept
