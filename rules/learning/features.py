"""What the models see of an enterprise: a few dozen numbers read off its state and its
related parties as of its clock (pure, cheap: it runs at every event).

Counts are log-scaled (`log1p`) so a firm with 40 complaints does not dwarf the
rest; a feature that is zero is left out (samples travel and wait sparse). The names
are part of a model snapshot: renaming one starts its weight from zero.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

from rules import counters
from rules.calendar import local_day
from rules.catalogue import Related
from rules.state import EnterpriseState

Features = dict[str, float]

#: the activity the anomaly detector watches: what a firm did lately, not what it is
ACTIVITY = (
    "changes_90", "address_moved_365", "complaints_90", "simple_penalties_365",
    "tax_arrears_open", "si_arrears_365", "judgments_365", "enforcements_365",
    "pledges_365", "failed_inspections_365",
)  # fmt: skip

#: counter name -> (feature, window in days)
_WINDOWED = (
    ("changes", "changes_90", 90),
    ("changes", "changes_365", 365),
    ("complaints", "complaints_90", 90),
    ("complaints", "complaints_365", 365),
    ("tax_violations", "tax_violations_3y", 1095),
    ("si_arrears", "si_arrears_365", 365),
    ("judgments", "judgments_365", 365),
    ("enforcements", "enforcements_365", 365),
    ("pledges", "pledges_365", 365),
    ("failed_inspections", "failed_inspections_365", 365),
)


def features(state: EnterpriseState, related: Related) -> Features:
    """The enterprise's features as of its clock; empty for an empty state.

    >>> s = EnterpriseState("91440300708461136T", clock="2026-03-01T02:00:00+00:00")
    >>> s.profile = {"registered_capital": 1_000_000, "established_on": "2024-03-01"}
    >>> s.tax_arrears["2026-01"] = {"amount": 9_999.0, "since": "2026-02-01", "cleared": False}
    >>> {name: round(value, 3) for name, value in features(s, Related()).items()}
    {'age_years': 1.098, 'capital': 6.0, 'tax_arrears_open': 0.693, 'tax_arrears_amount': 4.0}
    """
    if not state.clock:
        return {}
    today = local_day(state.clock)
    x: Features = {}
    _profile(state, today, x)
    for name, feature, days in _WINDOWED:
        counter = state.counters.get(name)
        if counter:
            x[feature] = math.log1p(counters.in_window(counter, today, days)[0])
    _records(state, today, x)
    _related(state, related, x)
    return {name: value for name, value in x.items() if value}


def _profile(state: EnterpriseState, today: date, x: Features) -> None:
    profile = state.profile
    established = _day(profile.get("established_on"))
    if established is not None:
        x["age_years"] = math.log1p(max(0, (today - established).days) / 365.25)
    capital = _number(profile.get("registered_capital"))
    if capital > 0:
        x["capital"] = math.log10(1 + capital)
    moved = _day(state.address_since)
    if moved is not None and established is not None and moved > established:
        x["address_moved_365"] = float(today - moved <= timedelta(days=365))


def _records(state: EnterpriseState, today: date, x: Features) -> None:
    year_ago, three_years_ago = today - timedelta(days=365), today - timedelta(days=1095)
    simple = ordinary = 0
    for penalty in state.penalties.values():
        decided = _day(penalty.get("decided_on"))
        if decided is None or penalty.get("revoked") or decided > today:
            continue
        if penalty.get("procedure") == "simple" and decided > year_ago:
            simple += 1
        elif penalty.get("procedure") == "ordinary" and decided > three_years_ago:
            ordinary += 1
    x["simple_penalties_365"] = math.log1p(simple)
    x["ordinary_penalties_3y"] = math.log1p(ordinary)
    open_arrears = [a for a in state.tax_arrears.values() if a.get("since") and not a["cleared"]]
    x["tax_arrears_open"] = math.log1p(len(open_arrears))
    x["tax_arrears_amount"] = math.log10(1 + sum(_number(a["amount"]) for a in open_arrears))
    x["abnormal_listed"] = float(
        any(_in_force(entry) for kind, entry in state.lists.items() if kind != "serious")
    )
    x["serious_listed"] = float(_in_force(state.lists.get("serious") or {}))
    x["dishonest_cases"] = float(
        sum(1 for case in state.dishonest_cases.values() if case.get("listed_by") and not
            case.get("removed_by"))
    )  # fmt: skip
    if state.annual_reports:
        x["zero_report"] = float(state.annual_reports[max(state.annual_reports)]["zero"])
    rating = state.tax_rating.get("rating")
    x["tax_rating_low"] = float(rating in ("C", "D"))
    x["tax_rating_a"] = float(rating == "A")
    x["commended_3y"] = math.log1p(
        sum(
            1 for c in state.commendations.values() if date.fromisoformat(c["on"]) > three_years_ago
        )
    )


def _related(state: EnterpriseState, related: Related, x: Features) -> None:
    x["dishonest_people"] = float(len(related.listed_people))
    x["address_crowd"] = math.log1p(max(0, len(related.address_firms) - 1))
    # the batch's index holds everyone it read: only this firm's own people count
    firms = related.person_firms
    spread = max((len(firms.get(pkey, ())) - 1 for pkey in state.key_people()), default=0)
    x["person_spread"] = math.log1p(max(0, spread))


def _in_force(entry: dict[str, Any]) -> bool:
    return bool(entry.get("added")) and (entry.get("removed") or "") < entry["added"]


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0
