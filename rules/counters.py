"""Windowed counters in event time, bucketed by day.

A counter is a small JSON-ready dict kept in the enterprise's state (so it is written
in the same atomic, event-id-guarded step as everything else: an event counts once):

    {"days": {"2026-03-01": 2, ...}, "last": [["2026-03-01", "event-id"], ...]}

`days` holds one entry per day with events, whatever the number of events, so memory
grows with active days, not with events; `last` keeps the newest few event ids as
evidence. An event lands in the bucket of its own `occurred_at` day, so a late or
out-of-order event counts in the windows it belongs to. Buckets older than
`HORIZON_DAYS` before the newest are dropped: no window may be longer.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

HORIZON_DAYS = 1100
EVIDENCE_KEPT = 10

Counter = dict[str, Any]


def add(counter: Counter, day: date, event_id: str, n: int = 1) -> Counter:
    """Count `n` events on `day`.

    >>> c = {}
    >>> for d, e in [(date(2026, 3, 1), "a"), (date(2026, 1, 5), "b"), (date(2026, 3, 1), "c")]:
    ...     _ = add(c, d, e)
    >>> c["days"]
    {'2026-03-01': 2, '2026-01-05': 1}
    """
    days: dict[str, int] = counter.setdefault("days", {})
    key = day.isoformat()
    days[key] = days.get(key, 0) + n
    last: list[list[str]] = counter.setdefault("last", [])
    last.append([key, event_id])
    last.sort()
    del last[:-EVIDENCE_KEPT]
    newest = max(days)
    cutoff = (date.fromisoformat(newest) - timedelta(days=HORIZON_DAYS)).isoformat()
    for old in [k for k in days if k < cutoff]:
        del days[old]
    return counter


def in_window(counter: Counter, until: date, days: int) -> tuple[int, date | None, list[str]]:
    """Events in the `days` days ending on `until` (inclusive): their number, the
    oldest day with one, and the evidence ids kept for that window.

    >>> c = {}
    >>> for d in (1, 20, 31):
    ...     _ = add(c, date(2026, 1, d), f"e{d}")
    >>> in_window(c, date(2026, 1, 30), 11)
    (1, datetime.date(2026, 1, 20), ['e20'])
    >>> in_window(c, date(2026, 2, 9), 40)[0]
    3
    """
    low = (until - timedelta(days=days - 1)).isoformat()
    high = until.isoformat()
    inside = [k for k in counter.get("days", {}) if low <= k <= high]
    if not inside:
        return 0, None, []
    count = sum(counter["days"][k] for k in inside)
    evidence = [eid for k, eid in counter.get("last", []) if low <= k <= high]
    return count, date.fromisoformat(min(inside)), evidence


def window_ends(oldest: date, days: int) -> date:
    """The first day a window of `days` no longer holds events of day `oldest`.

    >>> window_ends(date(2026, 1, 1), 30)
    datetime.date(2026, 1, 31)
    """
    return oldest + timedelta(days=days)
