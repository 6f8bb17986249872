"""The idempotency guard's compact form (`cw:{USCC}:seen`): one 10-byte record per
event applied to the enterprise, all in one string: the first 8 bytes of the SHA-1 of
its event id, then its event-time day (days since 1970-01-01, UTC, 2 bytes, big
endian). The commit script searches the digests at record starts, appends the batch's
records, and drops those older than `SEEN_DAYS` before the newest day it holds.

An event not held here is new unless it is older than that window: then it may have
been dropped, and the enterprise's journal (every event applied, streams/store/
journal.py) decides. So exactly-once holds at any lateness; the window only sets how
late an event may be before its check reads the journal. (The commit's guard on the
state it loaded keeps a concurrent commit from slipping between the check and the
write.) A guard kept before as a set of the ids themselves is still read, and the
commit script converts it.

Two different ids of one enterprise share a digest with a chance of about n^2 / 2^65
for n ids held.

>>> day = datetime(2026, 3, 1, tzinfo=UTC)
>>> blob = record("e1", day) + record("e2", day)
>>> len(blob), held(blob)[1], sorted(applied(held(blob)[0], ["e2", "e3"]))
(20, 20513, ['e2'])
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from hashlib import sha1

DIGEST = 8
WIDTH = DIGEST + 2
#: how many days of events before the newest the guard holds; older ones are looked
#: up in the journal
SEEN_DAYS = 120


def digest(event_id: str) -> bytes:
    return sha1(event_id.encode()).digest()[:DIGEST]


def epoch_day(at: datetime | str) -> int:
    """The UTC day of an instant, in days since 1970-01-01."""
    moment = datetime.fromisoformat(at) if isinstance(at, str) else at
    return int(moment.timestamp() // 86_400)


def record(event_id: str, at: datetime | str) -> bytes:
    return digest(event_id) + epoch_day(at).to_bytes(2, "big")


def held(blob: bytes | None) -> tuple[set[bytes], int | None]:
    """The digests a guard holds, and its newest day (None when it holds none)."""
    if not blob:
        return set(), None
    digests = {blob[i : i + DIGEST] for i in range(0, len(blob), WIDTH)}
    newest = max(int.from_bytes(blob[i + DIGEST : i + WIDTH], "big") for i in range(0, len(blob), WIDTH))
    return digests, newest


def applied(digests: set[bytes], event_ids: Iterable[str]) -> set[str]:
    """Which of `event_ids` the digests hold."""
    return {e for e in event_ids if digest(e) in digests}


def beyond(newest: int | None, at: datetime) -> bool:
    """Whether an event at `at` is older than the window of a guard whose newest day
    is `newest` (its record may have been dropped: the journal decides)."""
    return newest is not None and epoch_day(at) < newest - SEEN_DAYS
