"""The one way a rule reads a windowed counter."""

from __future__ import annotations

from datetime import date

from rules import counters
from rules.catalogue import RuleInput


def recent(
    data: RuleInput, name: str, days: int, threshold: int
) -> tuple[int, date, tuple[str, ...]] | None:
    """(count, oldest day, evidence) of counter `name` in the `days` days up to the
    as-of day, when the count reaches `threshold`; it then asks for a recheck on the day
    the oldest of them leaves the window (the verdict may change without an event)."""
    today, counter = data.today, data.state.counters.get(name)
    if today is None or not counter:
        return None
    count, oldest, evidence = counters.in_window(counter, today, days)
    if count < threshold or oldest is None:
        return None
    data.recheck(counters.window_ends(oldest, days))
    return count, oldest, tuple(evidence)
