"""Producing events to the input topic: from a JSONL file, or from any iterable.

Each line is checked against the contract before it is sent; a line that breaks it is
not sent to the input topic but to the dead-letter topic (nothing is lost), and its
line number and reason are reported.
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

log = logging.getLogger(__name__)


@dataclass
class IngestSummary:
    sent: int = 0
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
        retries=5,
    )


def produce(
    producer: KafkaProducer,
    settings: StreamSettings,
    lines: Iterable[tuple[int, bytes]],
    progress: Any = None,
) -> IngestSummary:
    """Validate and send numbered raw events; the caller flushes and closes."""
    summary = IngestSummary()
    started = time.perf_counter()
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
            producer.send(settings.events_topic, key=valid[0].key.encode(), value=raw)
            summary.sent += 1
        else:  # a batch envelope with rejects: send its valid events one by one
            for event in valid:
                producer.send(
                    settings.events_topic, key=event.key.encode(), value=encode_event(event)
                )
                summary.sent += 1
    producer.flush()
    summary.seconds = time.perf_counter() - started
    return summary


def numbered_lines(handle: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    yield from enumerate(handle, start=1)


def ingest_file(path: Path, settings: StreamSettings, show_progress: bool = True) -> IngestSummary:
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
            return produce(producer, settings, numbered_lines(handle), bar)
    finally:
        producer.close()


def send_unchecked(
    producer: KafkaProducer, topic: str, items: Iterable[dict[str, Any] | bytes]
) -> int:
    """Send generated items as they are, broken ones included, so the worker's own
    validation and dead-lettering are exercised (the simulator and the demo use this)."""
    sent = 0
    for item in items:
        key = None if isinstance(item, bytes) else event_key(item).encode()
        producer.send(topic, key=key, value=to_bytes(item))
        sent += 1
    producer.flush()
    return sent
