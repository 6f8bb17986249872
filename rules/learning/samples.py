"""Delayed labels, in event time.

At an enterprise's event the engine keeps a sample: its features then, the model's
probability then and the rules-only score then. The sample's label is whether a serious
adverse event (an ordinary-procedure penalty, a serious-violation listing, a dishonest
listing, a tax violation) happens after it within `HORIZON_DAYS` Beijing days:
positive the moment one arrives, negative once the horizon has passed.

Every label leaves, to be learned, when its sample's horizon has passed, positive or
not: so labels reach the trainer in the order their samples were taken, with the
true mix of outcomes. (Sent at once, positives would arrive up to 180 days ahead of
the negatives of the same days, and the model would learn that arrival order.)
Nothing is learned from a sample before then.

One sample per enterprise and Beijing day (the day's last event replaces its earlier
ones), kept in the state so it is written atomically with the events that resolve it.
A replay of the same events resolves the same labels: everything here is event time.
"""

from __future__ import annotations

import functools
import hashlib
from datetime import date, timedelta
from typing import Any

from rules.calendar import day_start, local_day
from rules.learning import vectors
from rules.state import EnterpriseState, Sample

HORIZON_DAYS = 180
#: the serious adverse events a forecast is about
ADVERSE_TYPES = frozenset(("list.serious_added", "court.dishonest_listed", "tax.violation"))

Label = dict[str, Any]


def is_adverse(etype: str, payload: dict[str, Any]) -> bool:
    """A serious adverse event.

    >>> is_adverse("penalty.decided", {"procedure": "ordinary"})
    True
    >>> is_adverse("penalty.decided", {"procedure": "simple"}), is_adverse("tax.violation", {})
    (False, True)
    """
    if etype == "penalty.decided":
        return payload.get("procedure") == "ordinary"
    return etype in ADVERSE_TYPES


def keep(state: EnterpriseState, at: str, x: dict[str, float], p: float | None, rules: int) -> None:
    """Keep the sample taken at `at` (UTC ISO): one per Beijing day, the latest, unless
    an adverse event since resolved the earlier one (that one is kept too). Its
    features are kept packed: the state is stored at every commit until the label
    leaves, and read back at every load."""
    day = local_day(at).isoformat()
    sample: Sample = {"at": at, "day": day, "p": p, "rules": rules, "x": vectors.pack(x)}
    last = state.samples[-1] if state.samples else None
    if last is not None and last["day"] == day and "y" not in last:
        if last["at"] <= at:
            state.samples[-1] = sample
        return
    state.samples.append(sample)
    state.samples.sort(key=lambda s: s["at"])


def positive(state: EnterpriseState, at: str, event_id: str) -> None:
    """Resolve positive the samples that an adverse event at `at` decides: those taken
    before it whose horizon holds its day (the earliest such event is the cause).

    >>> s = EnterpriseState("91440300708461136T")
    >>> keep(s, "2026-01-01T02:00:00+00:00", {"a": 1.0}, 0.3, 90)
    >>> positive(s, "2026-06-30T02:00:00+00:00", "e9")
    >>> s.samples[0]["y"], s.samples[0]["cause"]
    (1, 'e9')
    """
    first = _first_day(local_day(at))
    for sample in state.samples:
        inside = sample["at"] < at and sample["day"] >= first
        if inside and (sample.get("y") != 1 or at < sample["resolved_at"]):
            sample["y"], sample["cause"], sample["resolved_at"] = 1, event_id, at


def expire(state: EnterpriseState, as_of: str | None = None) -> list[Label]:
    """Labels of the samples whose horizon ended before the as-of day (`as_of`, UTC
    ISO; the state's clock by default): negative unless an adverse event resolved them
    positive. A negative is resolved at its horizon's end, whenever it is released.

    >>> s = EnterpriseState("91440300708461136T", clock="2026-06-30T02:00:00+00:00")
    >>> keep(s, "2026-01-01T02:00:00+00:00", {"a": 1.0}, 0.3, 90)
    >>> keep(s, "2026-01-02T02:00:00+00:00", {"a": 2.0}, 0.6, 80)
    >>> positive(s, "2026-01-05T02:00:00+00:00", "e9")
    >>> expire(s), next_expiry(s)       # 1 Jan + 180 days is 30 June: still open
    ([], datetime.date(2026, 7, 1))
    >>> s.clock = "2026-07-01T16:00:00+00:00"                # 2 July in Beijing
    >>> [(l["y"], l["cause"], l["resolved_at"][:10]) for l in expire(s)]
    [(1, 'e9', '2026-01-05'), (1, 'e9', '2026-01-05')]
    """
    as_of = as_of or state.clock
    if not state.samples or not as_of:
        return []
    first = _first_day(local_day(as_of))
    done = [s for s in state.samples if s["day"] < first]
    return _release(state, done)


def next_expiry(state: EnterpriseState) -> date | None:
    """The day the oldest open sample resolves negative, if nothing happens first."""
    if not state.samples:
        return None
    return _after_horizon(min(s["day"] for s in state.samples))


def horizon_end(sample: Sample) -> str:
    """The instant a sample's horizon ends (UTC ISO): the start of the Beijing day
    after its last day."""
    return day_start(_after_horizon(sample["day"]))


# The samples' days are compared as ISO text (their order), so that the functions above,
# which run at every evaluation, parse no sample's day: only the day asked about.
@functools.lru_cache(maxsize=1 << 12)
def _first_day(day: date) -> str:
    """The first day of a sample whose horizon holds `day`."""
    return (day - timedelta(days=HORIZON_DAYS)).isoformat()


@functools.lru_cache(maxsize=1 << 12)
def _after_horizon(day: str) -> date:
    """The day after the horizon of a sample taken on `day`: it resolves negative then."""
    return date.fromisoformat(day) + timedelta(days=HORIZON_DAYS + 1)


def _release(state: EnterpriseState, samples: list[Sample]) -> list[Label]:
    if not samples:
        return []
    gone = {id(s) for s in samples}
    state.samples = [s for s in state.samples if id(s) not in gone]
    return [
        {
            "label_id": hashlib.sha1(f"{state.uscc}|{s['at']}".encode()).hexdigest()[:20],
            "uscc": state.uscc,
            "sampled_at": s["at"],
            "resolved_at": s.get("resolved_at") or horizon_end(s),
            "y": s.get("y", 0),
            "p": s["p"],
            "rules": s["rules"],
            "x": vectors.unpack(s["x"]),
            "cause": s.get("cause", "horizon"),
        }
        for s in samples
    ]
