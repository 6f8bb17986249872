"""Produce-to-warning latency, from the warnings outbox in Redis.

A warning's commit time is its stream entry's id: the commit script XADDs with '*', so
the id's millisecond part is Redis's clock at commit (the same machine's clock as the
benchmark's send times). A raised warning (`status` 'open') carries its enterprise and
the `occurred_at` of the event that raised it; the benchmark remembers when it sent
each event under that pair. Warnings it cannot pair (raised by a timer, or by an event
sent before the phase) are counted, not measured.
"""

from __future__ import annotations

import bisect
import json
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


def instant(iso: str) -> datetime:
    """An ISO 8601 time as an aware datetime, so '…+08:00' and the same instant in UTC
    compare equal (the city writes +08:00; the worker may re-serialize).

    >>> instant("2025-03-01T08:00:00+08:00") == instant("2025-03-01T00:00:00Z")
    True
    """
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


@dataclass
class SendLog:
    """When each paced event was sent (epoch seconds), by what its warnings carry:
    (USCC, occurred_at) for an enterprise's event; occurred_at alone for a person's
    event, whose warnings reach the person's firms through the fan-out topic."""

    by_firm: dict[tuple[str, datetime], list[float]] = field(
        default_factory=lambda: defaultdict(list)
    )
    by_person: dict[datetime, list[float]] = field(default_factory=lambda: defaultdict(list))
    sent: int = 0

    def record(self, event: dict[str, Any], sent_at: float) -> None:
        at = instant(event["occurred_at"])
        if str(event.get("type", "")).startswith("person."):
            self.by_person[at].append(sent_at)
        else:
            self.by_firm[(event["uscc"], at)].append(sent_at)
        self.sent += 1

    def sent_at(self, uscc: str, occurred_at: str, committed: float) -> tuple[float, bool] | None:
        """The send time of the event that raised a warning committed at `committed`
        (the latest send not after it, when several events share the key), and
        whether it came through the fan-out; None when no paced event matches."""
        at = instant(occurred_at)
        for times, fanned in (
            (self.by_firm.get((uscc, at)), False),
            (self.by_person.get(at), True),
        ):
            if times:
                ordered = sorted(times)
                k = bisect.bisect_right(ordered, committed)
                return (ordered[k - 1] if k else ordered[0]), fanned
        return None


@dataclass
class Latencies:
    """What the warnings of a phase showed."""

    ms: list[float] = field(default_factory=list)
    via_fanout: int = 0
    #: raised warnings no paced event accounts for (timers, earlier events)
    unmatched: int = 0
    #: warnings closed in the phase (not latencies: nothing was raised)
    closed: int = 0

    def summary(self) -> dict[str, float | int | None]:
        return summarize(self.ms)


def entry_ms(entry_id: bytes | str) -> int:
    """The millisecond part of a stream entry id.

    >>> entry_ms(b"1735689600123-4")
    1735689600123
    """
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return int(text.split("-", 1)[0])


def match_warnings(
    entries: Iterable[tuple[bytes | str, dict[bytes, bytes]]], sends: SendLog, into: Latencies
) -> Latencies:
    """Pair the warnings of outbox entries (id, fields) with their events' send times."""
    for entry_id, fields in entries:
        record = json.loads(fields[b"data"])
        if record.get("status") != "open":
            into.closed += 1
            continue
        committed = entry_ms(entry_id) / 1000
        found = sends.sent_at(record["uscc"], record["occurred_at"], committed)
        if found is None:
            into.unmatched += 1
            continue
        sent_at, fanned = found
        into.ms.append((committed - sent_at) * 1000)
        into.via_fanout += fanned
    return into


def percentile(ordered: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) of sorted values, interpolated linearly between
    ranks (numpy's default), so it never exceeds the maximum.

    >>> percentile([10.0, 20.0, 30.0, 40.0], 50), percentile([5.0], 99)
    (25.0, 5.0)
    """
    if not ordered:
        raise ValueError("no values")
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarize(values: Iterable[float]) -> dict[str, float | int | None]:
    """p50, p95, p99, max and count (None for the figures when there are no values)."""
    ordered = sorted(values)
    if not ordered:
        return {"p50": None, "p95": None, "p99": None, "max": None, "count": 0}
    return {
        "p50": percentile(ordered, 50),
        "p95": percentile(ordered, 95),
        "p99": percentile(ordered, 99),
        "max": ordered[-1],
        "count": len(ordered),
    }
