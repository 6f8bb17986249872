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
>>> unwrap_all(wrap(blob, b"state", b"held")) == (blob, b"held", b"state")
True
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


#: the first byte of a state stored with its guard in front, as written before the
#: index memberships moved in too
GUARDED = 0xC2
#: the first byte of a state stored with its guard and its index memberships in front
#: (`wrap`)
INDEXED = 0xC6


def wrap(guard: bytes, state: bytes, held: bytes | None = None) -> bytes:
    """The value stored under `cw:{USCC}:state`: a marker, the guard's length (4 bytes,
    big endian), the guard, then the packed state; with the firm's index memberships
    (`held`, kept by the commit script: streams/store/lua/lib/index.lua), the marker
    `INDEXED` and their length and bytes after the guard's."""
    front = len(guard).to_bytes(4, "big") + guard
    if held is None:
        return bytes((GUARDED,)) + front + state
    return bytes((INDEXED,)) + front + len(held).to_bytes(4, "big") + held + state


def unwrap(raw: bytes) -> tuple[bytes | None, bytes]:
    """The guard and the state of a stored value; None for the guard of a state stored
    before the guard moved in (JSON, or packed alone: its guard is in its own key)."""
    guard, _, state = unwrap_all(raw)
    return guard, state


def unwrap_all(raw: bytes) -> tuple[bytes | None, bytes | None, bytes]:
    """The guard, the index memberships held (None where they are not in front) and
    the state of a stored value."""
    if not raw or raw[0] not in (GUARDED, INDEXED):
        return None, None, raw
    n = int.from_bytes(raw[1:5], "big")
    guard, at = raw[5 : 5 + n], 5 + n
    if raw[0] == GUARDED:
        return guard, None, raw[at:]
    n = int.from_bytes(raw[at : at + 4], "big")
    return guard, raw[at + 4 : at + 4 + n], raw[at + 4 + n :]
