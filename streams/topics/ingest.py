"""Producing events to the input topic: from a JSONL file, or from any iterable.

Each line is checked against the contract before it is sent; a line that breaks it is
not sent to the input topic but to the dead-letter topic (nothing is lost), and its
line number and reason are reported. The valid events go in batch envelopes grouped by
partition (streams/topics/envelopes.py); `envelope=1` sends each as its own message.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from kafka import KafkaProducer

from streams.contract.events import Event, decode, encode_event
from streams.contract.rejections import Rejected, dead_letter_record
from streams.settings import StreamSettings
from streams.simulation import event_key, to_bytes
from streams.topics.envelopes import DEFAULT_ENVELOPE, Envelopes, Outgoing

log = logging.getLogger(__name__)


@dataclass
class IngestSummary:
    sent: int = 0
    #: Kafka messages the sent events went in
    messages: int = 0
    rejected: list[tuple[int, str, str]] = field(default_factory=list)  # line, reason, detail
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0


def make_producer(settings: StreamSettings) -> KafkaProducer:
    return KafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap.split(","),
        acks="all",
        linger_ms=20,
        batch_size=512 * 1024,
        max_request_size=16 << 20,
        compression_type=settings.compression_type,
        retries=5,
    )


def produce(
    producer: KafkaProducer,
    settings: StreamSettings,
    lines: Iterable[tuple[int, bytes]],
    progress: Any = None,
    envelope: int = DEFAULT_ENVELOPE,
) -> IngestSummary:
    """Validate and send numbered raw events, `envelope` events per message at most;
    the caller closes the producer."""
    summary = IngestSummary()
    started = time.perf_counter()
    packer = Envelopes(partition_count(producer, settings.events_topic), envelope)

    def send(messages: list[Outgoing]) -> None:
        for m in messages:
            producer.send(settings.events_topic, key=m.key, value=m.value, partition=m.partition)
            summary.messages += 1
            summary.sent += m.events

    for number, raw in lines:
        if progress is not None:
            progress.update(len(raw) + 1)
        raw = raw.strip()
        if not raw:
            continue
        items = decode(raw, datetime.now(UTC))
        for item in items:
            if isinstance(item, Rejected):
                summary.rejected.append((number, item.reason, item.detail))
                producer.send(
                    settings.dead_letters_topic,
                    key=item.event_id.encode() if item.event_id else None,
                    value=dead_letter_record(item, datetime.now(UTC)),
                )
        valid = [i for i in items if isinstance(i, Event)]
        if len(valid) == len(items) == 1:
            send(packer.add(valid[0].key.encode(), raw))
        else:  # a batch envelope: its events regrouped by their own partitions
            for event in valid:
                send(packer.add(event.key.encode(), encode_event(event)))
    send(packer.flush())
    producer.flush()
    summary.seconds = time.perf_counter() - started
    return summary


def partition_count(producer: KafkaProducer, topic: str) -> int:
    """The topic's partitions, as the broker has them (waits for its metadata)."""
    partitions = producer.partitions_for(topic)
    if not partitions:
        raise ValueError(f"topic {topic} has no partitions (`creditwatch topics` creates it)")
    return len(partitions)


def numbered_lines(handle: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    yield from enumerate(handle, start=1)


def ingest_file(
    path: Path,
    settings: StreamSettings,
    show_progress: bool = True,
    envelope: int = DEFAULT_ENVELOPE,
) -> IngestSummary:
    """Send a JSONL file's events with a progress bar; raises FileNotFoundError."""
    from tqdm import tqdm

    size = path.stat().st_size
    producer = make_producer(settings)
    try:
        with (
            path.open("rb") as handle,
            tqdm(
                total=size,
                unit="B",
                unit_scale=True,
                desc=f"ingest {path.name}",
                disable=not show_progress,
            ) as bar,
        ):
            return produce(producer, settings, numbered_lines(handle), bar, envelope)
    finally:
        producer.close()


def send_unchecked(
    producer: KafkaProducer,
    topic: str,
    items: Iterable[dict[str, Any] | bytes],
    envelope: int = 1,
) -> int:
    """Send generated items as they are, broken ones included, so the worker's own
    validation and dead-lettering are exercised (the simulator and the demo use this).
    With `envelope` above 1, the events go in envelopes by partition; broken bytes,
    which no envelope can hold, go alone and unkeyed, as they would with 1."""
    sent = 0
    packer = Envelopes(partition_count(producer, topic), envelope) if envelope > 1 else None
    for item in items:
        sent += 1
        if isinstance(item, bytes):
            producer.send(topic, key=None, value=item)
        elif packer is None:
            producer.send(topic, key=event_key(item).encode(), value=to_bytes(item))
        else:
            for m in packer.add(event_key(item).encode(), to_bytes(item)):
                producer.send(topic, key=m.key, value=m.value, partition=m.partition)
    for m in packer.flush() if packer is not None else []:
        producer.send(topic, key=m.key, value=m.value, partition=m.partition)
    producer.flush()
    return sent
