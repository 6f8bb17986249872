"""The idempotency guard's compact form: one 10-byte record per event applied to the
enterprise: the first 8 bytes of the SHA-1 of its event id, then its event-time day
(days since 1970-01-01, UTC, 2 bytes, big endian). The records travel with the state,
in front of it in the same value (`cw:{USCC}:state`, see `wrap`): the commit script
appends the batch's records and drops those older than `SEEN_DAYS` before the newest
day held.

An event not held here is new unless it is older than that window: then it may have
been dropped, and the enterprise's journal (every event applied, streams/store/
journal.py) decides. So exactly-once holds at any lateness; the window only sets how
late an event may be before its check reads the journal. The commit takes effect only
over the value it loaded (state and guard), so no other commit slips in between the
check and the write. A guard kept before in its own key (`cw:{USCC}:seen`, a set of
the ids themselves) is still read, and the commit script moves it into the state's.

Two different ids of one enterprise share a digest with a chance of about n^2 / 2^65
for n ids held.

>>> from datetime import UTC
>>> day = datetime(2026, 3, 1, tzinfo=UTC)
>>> blob = record("e1", day) + record("e2", day)
>>> len(blob), held(blob)[1], sorted(applied(held(blob)[0], ["e2", "e3"]))
(20, 20513, ['e2'])
>>> unwrap(wrap(blob, b"state")) == (blob, b"state"), unwrap(b"{}")[0]
(True, None)
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
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
    starts = range(0, len(blob), WIDTH)
    newest = max(int.from_bytes(blob[i + DIGEST : i + WIDTH], "big") for i in starts)
    return digests, newest


def applied(digests: set[bytes], event_ids: Iterable[str]) -> set[str]:
    """Which of `event_ids` the digests hold."""
    return {e for e in event_ids if digest(e) in digests}


def beyond(newest: int | None, at: datetime) -> bool:
    """Whether an event at `at` is older than the window of a guard whose newest day
    is `newest` (its record may have been dropped: the journal decides)."""
    return newest is not None and epoch_day(at) < newest - SEEN_DAYS


#: the first byte of a state stored with its guard in front (`wrap`)
GUARDED = 0xC2


def wrap(guard: bytes, state: bytes) -> bytes:
    """The value stored under `cw:{USCC}:state`: a marker, the guard's length (4 bytes,
    big endian), the guard, then the packed state."""
    return bytes((GUARDED,)) + len(guard).to_bytes(4, "big") + guard + state


def unwrap(raw: bytes) -> tuple[bytes | None, bytes]:
    """The guard and the state of a stored value; None for the guard of a state stored
    before the guard moved in (JSON, or packed alone: its guard is in its own key)."""
    if not raw or raw[0] != GUARDED:
        return None, raw
    n = int.from_bytes(raw[1:5], "big")
    return raw[5 : 5 + n], raw[5 + n :]
