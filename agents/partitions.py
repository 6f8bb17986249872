"""The partition a key goes to: what the producers of the input (ingest, the
simulator, the bench: streams/topics/envelopes.py) and the timers' sweeps (one message
per partition and day: agents/timers.py) must agree on with the broker."""

from __future__ import annotations

from kafka.partitioner.default import murmur2


def partition_of(key: bytes, partitions: int, cache: dict[bytes, int] | None = None) -> int:
    """The partition Kafka's default partitioner (murmur2, as kafka-python's and
    aiokafka's) gives a key; cached when a cache is given (the hash is pure Python).

    >>> partition_of(b"91440300708461136T", 4)
    1
    """
    if cache is None:
        return (murmur2(key) & 0x7FFFFFFF) % partitions
    found = cache.get(key)
    if found is None:
        found = cache[key] = (murmur2(key) & 0x7FFFFFFF) % partitions
    return found
