"""The one way a rule reads a windowed counter."""

from __future__ import annotations

from rules import counters
from rules.catalogue import Hit, Params, RuleInput


def recent(data: RuleInput, name: str, p: Params, message: str) -> Hit | None:
    """A hit when counter `name` reaches `p["threshold"]` in the `p["window_days"]`
    days up to the as-of day, with its entries as evidence and `message` formatted with
    `count`, `days` and `oldest`; it then asks for a recheck on the day the oldest of
    them leaves the window (the verdict may change without an event)."""
    days = p["window_days"]
    today, counter = data.today, data.state.counters.get(name)
    if today is None or not counter:
        return None
    count, oldest, evidence = counters.in_window(counter, today, days, p["threshold"])
    if count < p["threshold"] or oldest is None:
        return None
    data.recheck(counters.window_ends(oldest, days))
    return Hit(message.format(count=count, days=days, oldest=oldest), tuple(evidence))
