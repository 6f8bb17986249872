"""Batch envelopes for the bulk path: many events per Kafka message.

A Kafka message costs the worker about 190 us whatever it holds, so a backfill
(`ingest`, `simulate --to-topic`, `dlq replay`, the bench's sustained phase) sends
`{"batch": [event, ...]}` envelopes (EVENTS.md). Every event of an envelope hashes to
the partition the envelope is produced to, with the key hashing of single events
(murmur2 of the USCC, or of the person's key), so per-enterprise order holds. The
live path (the demo feed, anything paced) stays one event per message.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from agents.partitions import partition_of

__all__ = [
    "DEFAULT_ENVELOPE",
    "MAX_ENVELOPE_BYTES",
    "Envelopes",
    "Outgoing",
    "pack",
    "partition_of",
]

#: events per envelope by default: Faust's per-message cost becomes ~2 us per event
DEFAULT_ENVELOPE = 100
#: an envelope is closed before it passes this size: under the 1 MB message limit that
#: brokers apply by default, and under one event's own limit (MAX_EVENT_BYTES)
MAX_ENVELOPE_BYTES = 900 * 1024


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message to produce: to `partition`, keyed by its (first) event's key."""

    partition: int
    key: bytes
    value: bytes
    events: int


@dataclass
class _Open:
    key: bytes
    values: list[bytes] = field(default_factory=list)
    size: int = 0


class Envelopes:
    """Groups events (their key and compact JSON) into envelopes by partition.

    `add` returns the messages ready to send (an envelope full in events or bytes),
    `flush` what is left; within a partition, messages come out in the order their
    events went in. With `size` 1 each event is its own message, its bytes as given.

    >>> packer = Envelopes(partitions=4, size=2)
    >>> packer.add(b"91440300708461136T", b'{"a":1}')
    []
    >>> [m.value for m in packer.add(b"91440300708461136T", b'{"a":2}')]
    [b'{"batch":[{"a":1},{"a":2}]}']
    >>> packer.add(b"91440300708461136T", b'{"a":3}'), [m.events for m in packer.flush()]
    ([], [1])
    """

    def __init__(
        self, partitions: int, size: int = DEFAULT_ENVELOPE, max_bytes: int = MAX_ENVELOPE_BYTES
    ):
        if size < 1:
            raise ValueError("an envelope holds at least one event")
        self.partitions, self.size, self.max_bytes = partitions, size, max_bytes
        self._open: dict[int, _Open] = {}
        self._cache: dict[bytes, int] = {}

    def add(self, key: bytes, value: bytes, partition: int | None = None) -> list[Outgoing]:
        """`partition`: the key's, when the caller has it already."""
        if partition is None:
            partition = partition_of(key, self.partitions, self._cache)
        if self.size == 1:
            return [Outgoing(partition, key, value, 1)]
        ready: list[Outgoing] = []
        pending = self._open.get(partition)
        if pending is not None and pending.size + len(value) + 1 > self.max_bytes:
            ready.append(self._close(partition))
            pending = None
        if len(value) + 12 > self.max_bytes:  # too big to share: alone, in its turn
            return [*ready, Outgoing(partition, key, value, 1)]
        if pending is None:
            pending = self._open[partition] = _Open(key)
        pending.values.append(value)
        pending.size += len(value) + 1
        if len(pending.values) >= self.size:
            ready.append(self._close(partition))
        return ready

    def flush(self) -> list[Outgoing]:
        return [self._close(partition) for partition in list(self._open)]

    def _close(self, partition: int) -> Outgoing:
        pending = self._open.pop(partition)
        if len(pending.values) == 1:  # one event: as a single message, as it came
            return Outgoing(partition, pending.key, pending.values[0], 1)
        value = b'{"batch":[' + b",".join(pending.values) + b"]}"
        return Outgoing(partition, pending.key, value, len(pending.values))


def pack(
    keyed: Iterable[tuple[bytes, bytes]], partitions: int, size: int = DEFAULT_ENVELOPE
) -> Iterator[Outgoing]:
    """(key, event JSON) pairs as the messages that carry them, every envelope closed."""
    packer = Envelopes(partitions, size)
    for key, value in keyed:
        yield from packer.add(key, value)
    yield from packer.flush()
