"""Windowed counters in event time, bucketed by day.

A counter is a small JSON-ready dict kept in the enterprise's state (so it is written
in the same atomic, event-id-guarded step as everything else: an event counts once):

    {"days": {"2026-03-01": 2, ...}, "last": [["2026-03-01", "event-id"], ...]}

`days` holds one entry per day with events, whatever the number of events, so memory
grows with active days, not with events. The days are kept in order (a late event's
day is put in its place), so a window is read from the newest day back, not by
scanning every day. `last` keeps the newest few event ids as evidence. An event lands
in the bucket of its own `occurred_at` day, so a late or out-of-order event counts in
the windows it belongs to. Buckets older than `HORIZON_DAYS` before the newest are
dropped: no window may be longer.
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
    {'2026-01-05': 1, '2026-03-01': 2}
    """
    days: dict[str, int] = counter.setdefault("days", {})
    key = day.isoformat()
    known = days.get(key)
    if known is not None:
        days[key] = known + n
    else:
        late = bool(days) and key < next(reversed(days))
        days[key] = n
        if late:  # put it in its place (rare: only an event older than the newest day)
            sort_days(counter)
            days = counter["days"]
    last: list[list[str]] = counter.setdefault("last", [])
    last.append([key, event_id])
    last.sort()
    del last[:-EVIDENCE_KEPT]
    newest = next(reversed(days))
    cutoff = (date.fromisoformat(newest) - timedelta(days=HORIZON_DAYS)).isoformat()
    while next(iter(days)) < cutoff:  # the oldest first: stop at the first one kept
        del days[next(iter(days))]
    return counter


def sort_days(counter: Counter) -> None:
    """Put the day buckets in day order (a counter stored before they were kept so).

    >>> c = {"days": {"2026-03-01": 2, "2026-01-05": 1}}
    >>> sort_days(c)
    >>> c["days"]
    {'2026-01-05': 1, '2026-03-01': 2}
    """
    if "days" in counter:
        counter["days"] = dict(sorted(counter["days"].items()))


def in_window(
    counter: Counter, until: date, days: int, at_least: int = 0
) -> tuple[int, date | None, list[str]]:
    """Events in the `days` days ending on `until` (inclusive): their number, the
    oldest day with one, and the evidence ids kept for that window. Below `at_least`
    events, only the number (a rule's threshold: the rest is read only when it fires).

    >>> c = {}
    >>> for d in (1, 20, 31):
    ...     _ = add(c, date(2026, 1, d), f"e{d}")
    >>> in_window(c, date(2026, 1, 30), 11)
    (1, datetime.date(2026, 1, 20), ['e20'])
    >>> in_window(c, date(2026, 2, 9), 40)[0]
    3
    >>> in_window(c, date(2026, 1, 30), 11, at_least=2)
    (1, None, [])
    """
    low = (until - timedelta(days=days - 1)).isoformat()
    high = until.isoformat()
    buckets: dict[str, int] = counter.get("days", {})
    count, oldest = 0, None
    for key in reversed(buckets):  # newest first: stop at the first day before the window
        if key > high:
            continue
        if key < low:
            break
        count += buckets[key]
        oldest = key
    if oldest is None or count < at_least:
        return count, None, []
    evidence = [eid for k, eid in counter.get("last", []) if low <= k <= high]
    return count, date.fromisoformat(oldest), evidence


def window_ends(oldest: date, days: int) -> date:
    """The first day a window of `days` no longer holds events of day `oldest`.

    >>> window_ends(date(2026, 1, 1), 30)
    datetime.date(2026, 1, 31)
    """
    return oldest + timedelta(days=days)
