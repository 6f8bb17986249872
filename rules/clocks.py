"""Statutory clocks, to the day (China Standard Time, rules/calendar.py).

- Administrative penalty publicity (SAMR Order 45, 2021): only ordinary-procedure
  penalties are published; one that is only circulated criticism and/or a small fine
  stops counting 3 months after its decision, any other 3 years after it. A revoked
  penalty stops at once.
- Abnormal-operation list: still listed 3 years after the listing, the firm is due for
  transfer to the serious-violation list.
- Credit repair (rules/repair.py): possible 6 months after publication, 1 year for food,
  drug and special-equipment violations.
- Annual reports for year Y are due between 1 January and 30 June of Y + 1.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from rules.calendar import add_months

PENALTY_MONTHS = 36
SHORT_PENALTY_MONTHS = 3
#: measures that alone make a penalty a short-publicity one (with a small fine)
SHORT_MEASURES = frozenset(("criticism", "fine"))
ABNORMAL_TRANSFER_MONTHS = 36
REPAIR_MONTHS = 6
LONGER_REPAIR_MONTHS = 12
#: words in a penalty's `violation` that put it in the 1-year repair class
LONGER_REPAIR_WORDS = ("食品", "药品", "特种设备", "food", "drug", "special equipment")


def is_short_penalty(penalty: dict[str, Any], small_fine: float) -> bool:
    """Only circulated criticism and/or a fine of at most `small_fine`.

    >>> is_short_penalty({"measures": ["criticism"], "amount": 0}, 30000)
    True
    >>> is_short_penalty({"measures": ["fine"], "amount": 30000.01}, 30000)
    False
    >>> is_short_penalty({"measures": ["warning"], "amount": 0}, 30000)
    False
    """
    measures = set(penalty.get("measures") or ())
    if not measures or not measures <= SHORT_MEASURES:
        return False
    return "fine" not in measures or float(penalty.get("amount") or 0) <= small_fine


def penalty_window(penalty: dict[str, Any], small_fine: float | None) -> tuple[date, date] | None:
    """The days a penalty counts: from its decision (inclusive) to its expiry
    (exclusive); None if it never counts (simple procedure, revoked, undated). With
    `small_fine` None there is no short class: every penalty counts 3 years.

    >>> p = {"procedure": "ordinary", "decided_on": "2026-03-01", "measures": ["fine"],
    ...      "amount": 200000}
    >>> penalty_window(p, 30000)
    (datetime.date(2026, 3, 1), datetime.date(2029, 3, 1))
    >>> penalty_window({**p, "amount": 5000}, 30000)[1]
    datetime.date(2026, 6, 1)
    """
    if penalty.get("procedure") != "ordinary" or penalty.get("revoked"):
        return None
    if not penalty.get("decided_on"):
        return None
    decided = date.fromisoformat(penalty["decided_on"])
    return decided, penalty_expiry(decided, penalty, small_fine)


def penalty_expiry(decided: date, penalty: dict[str, Any], small_fine: float | None) -> date:
    """The first day a penalty decided on `decided` no longer counts (see
    `penalty_window`); never later than `PENALTY_MONTHS` after its decision."""
    short = small_fine is not None and is_short_penalty(penalty, small_fine)
    return add_months(decided, SHORT_PENALTY_MONTHS if short else PENALTY_MONTHS)


def repair_months(penalty: dict[str, Any] | None) -> int:
    """How long after publication a repair may be granted.

    >>> repair_months({"violation": "销售不符合食品安全标准的食品"}), repair_months(None)
    (12, 6)
    """
    violation = str((penalty or {}).get("violation") or "").lower()
    longer = any(word in violation for word in LONGER_REPAIR_WORDS)
    return LONGER_REPAIR_MONTHS if longer else REPAIR_MONTHS


def annual_report_due_year(today: date) -> int:
    """The latest report year whose deadline (30 June of the next year) has passed.

    >>> annual_report_due_year(date(2026, 6, 30)), annual_report_due_year(date(2026, 7, 1))
    (2024, 2025)
    """
    return today.year - 1 if (today.month, today.day) > (6, 30) else today.year - 2
