"""Kafka topics, created explicitly with the partition count the workers expect.

Auto-created topics get one partition and Faust then fails with PartitionsMismatch,
so `ensure_topics` runs before any worker starts, and refuses topics that exist with
another partition count.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from streams.settings import StreamSettings

log = logging.getLogger(__name__)


class TopicMismatchError(RuntimeError):
    """An existing topic has another partition count than the one configured."""


def _partition_counts(admin: object, names: Sequence[str]) -> dict[str, int]:
    """Partition count per existing topic among `names` (missing topics left out)."""
    counts: dict[str, int] = {}
    if not names:
        return counts
    for desc in admin.describe_topics(list(names)):  # type: ignore[attr-defined]
        if desc.get("error_code", 0) == 0:
            counts[desc["name"]] = len(desc.get("partitions") or [])
    return counts


def ensure_topics(
    bootstrap: str,
    names: Sequence[str],
    partitions: int,
    *,
    replication_factor: int = 1,
    timeout: float = 15.0,
) -> list[str]:
    """Create the missing topics with `partitions` partitions; return those created.

    Idempotent. Raises `TopicMismatchError` when a topic already exists with another
    partition count (Faust would fail later with PartitionsMismatch).
    """
    from kafka.admin import KafkaAdminClient, NewTopic

    if partitions < 1:
        raise ValueError(f"partitions must be >= 1, got {partitions}")
    wanted = list(dict.fromkeys(names))
    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap,
        client_id="creditwatch-topics",
        request_timeout_ms=int(timeout * 1000),
    )
    try:
        existing = set(admin.list_topics())
        missing = [n for n in wanted if n not in existing]
        _check_counts(_partition_counts(admin, [n for n in wanted if n in existing]), partitions)
        if missing:
            result = admin.create_topics(
                [NewTopic(n, partitions, replication_factor) for n in missing],
                timeout_ms=int(timeout * 1000),
                raise_errors=False,  # a concurrent creator is fine; the check below decides
            )
            _raise_create_errors(result)
        deadline = time.monotonic() + timeout
        while True:
            counts = _partition_counts(admin, wanted)
            _check_counts(counts, partitions)
            absent = [n for n in wanted if n not in counts]
            if not absent:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"topics not visible after {timeout:.0f} s: {absent}")
            time.sleep(0.1)
    finally:
        admin.close()
    if missing:
        log.info("created topics %s with %d partitions", missing, partitions)
    return missing


def ensure_stream_topics(bootstrap: str, settings: StreamSettings) -> list[str]:
    """Every topic the monitor uses: the partitioned ones, and the labels log with one
    partition (one trainer, in order)."""
    replicas = settings.replication_factor
    created = ensure_topics(
        bootstrap, settings.topic_names(), settings.partitions, replication_factor=replicas
    )
    labels = ensure_topics(bootstrap, [settings.labels_topic], 1, replication_factor=replicas)
    return created + labels


def _check_counts(counts: Mapping[str, int], partitions: int) -> None:
    wrong = {name: n for name, n in counts.items() if n != partitions}
    if wrong:
        listing = ", ".join(f"{name!r} has {n}" for name, n in sorted(wrong.items()))
        raise TopicMismatchError(
            f"topics exist with another partition count than {partitions}: {listing}. "
            f"Faust would fail with PartitionsMismatch. Set CREDITWATCH_PARTITIONS to match, "
            f"or delete the topics (for the embedded broker: remove its data dir)."
        )


_TOPIC_ALREADY_EXISTS = 36


def _raise_create_errors(result: object) -> None:
    """Fail on CreateTopics errors other than 'already exists' (a concurrent creator)."""
    topics = result.get("topics", []) if isinstance(result, Mapping) else []
    errors = [
        f"{t.get('name')!r}: {t.get('error_message') or 'error ' + str(t.get('error_code'))}"
        for t in topics
        if t.get("error_code", 0) not in (0, _TOPIC_ALREADY_EXISTS)
    ]
    if errors:
        raise RuntimeError("could not create topics: " + "; ".join(errors))
