"""The idempotency guard's compact form: each event id applied to an enterprise kept
as an 8-byte digest (the first 8 bytes of its SHA-1, which the commit script can
compute too), all of them in one string (`cw:{USCC}:seen`), which the commit script
appends to and searches at 8-byte steps. A guard kept before as a set of the ids
themselves is still read, and the commit script converts it at the enterprise's
next commit.

Two different ids of one enterprise share a digest with a chance of about n^2 / 2^65
for n ids: for a firm with a million events, one in 10^7.

>>> blob = b"".join(digest(e) for e in ("e1", "e2"))
>>> len(blob), applied(blob, ["e2", "e3"])
(16, {'e2'})
"""

from __future__ import annotations

from collections.abc import Iterable
from hashlib import sha1

WIDTH = 8


def digest(event_id: str) -> bytes:
    return sha1(event_id.encode()).digest()[:WIDTH]


def applied(blob: bytes | None, event_ids: Iterable[str]) -> set[str]:
    """Which of `event_ids` the stored digests hold."""
    if not blob:
        return set()
    held = {blob[i : i + WIDTH] for i in range(0, len(blob), WIDTH)}
    return {e for e in event_ids if digest(e) in held}
