"""Tax and social insurance: arrears, violations, the tax credit rating."""

from __future__ import annotations

from datetime import date, timedelta

from rules.catalogue import Hit, Params, Rule, RuleInput, register
from rules.indicators.windowed import recent


def tax_arrears(data: RuleInput, p: Params) -> Hit | None:
    """Tax arrears not cleared (欠税) of at least `min_amount` CNY in all, or any
    outstanding for more than `max_days` days (the timer fires on that day).

    Reads the open arrears as folding sums them (`state.arrears_open`).

    >>> from rules.folding import apply_event
    >>> from rules.state import EnterpriseState
    >>> s = EnterpriseState("91440300708461136T")
    >>> _ = apply_event(s, "tax.arrears", {"period": "2026-01", "amount": 20000.0}, "t1",
    ...                 "2026-02-15T02:00:00+00:00")
    >>> s.clock = "2026-03-01T00:00:00+00:00"
    >>> params = {"min_amount": 100000.0, "max_days": 90}
    >>> data = RuleInput(s)
    >>> tax_arrears(data, params) is None, data.rechecks
    (True, [datetime.date(2026, 5, 17)])
    >>> s.clock = "2026-05-17T00:00:00+00:00"
    >>> tax_arrears(RuleInput(s), params).message
    '20,000 CNY of tax arrears outstanding, the oldest since 2026-02-15'
    """
    today, arrears = data.today, data.state.arrears_open
    if today is None or not arrears:
        return None
    total = arrears["total"]
    oldest = date.fromisoformat(arrears["oldest"])
    overdue_on = oldest + timedelta(days=p["max_days"] + 1)
    if total < p["min_amount"] and today < overdue_on:
        data.recheck(overdue_on)
        return None
    return Hit(
        message=f"{total:,.0f} CNY of tax arrears outstanding, the oldest since {oldest}",
        evidence=tuple(arrears["evidence"]),
    )


def tax_violation(data: RuleInput, p: Params) -> Hit | None:
    """A tax violation case (税收违法) within the last `window_days` days.

    >>> from rules.state import EnterpriseState
    >>> from rules.counters import add
    >>> s = EnterpriseState("91440300708461136T", clock="2026-03-01T00:00:00+00:00")
    >>> _ = add(s.counters.setdefault("tax_violations", {}), date(2025, 6, 1), "v1")
    >>> tax_violation(RuleInput(s), {"window_days": 1095, "threshold": 1}).evidence
    ('v1',)
    """
    return recent(data, "tax_violations", p, "{count} tax violation case(s) since {oldest}")


def social_insurance_arrears(data: RuleInput, p: Params) -> Hit | None:
    """Social-insurance arrears (社保欠费) reported within the last `window_days` days
    (the contract has no "cleared" event: a report stays relevant for the window).

    >>> from rules.state import EnterpriseState
    >>> from rules.counters import add
    >>> s = EnterpriseState("91440300708461136T", clock="2026-03-01T00:00:00+00:00")
    >>> _ = add(s.counters.setdefault("si_arrears", {}), date(2025, 2, 1), "s1")
    >>> social_insurance_arrears(RuleInput(s), {"window_days": 365, "threshold": 1}) is None
    True
    """
    message = "{count} social-insurance arrears report(s) since {oldest}"
    return recent(data, "si_arrears", p, message)


def tax_credit_low(data: RuleInput, p: Params) -> Hit | None:
    """The latest tax credit rating is one of `ratings` (default D, the lowest).

    >>> from rules.state import EnterpriseState
    >>> s = EnterpriseState("91440300708461136T")
    >>> s.tax_rating = {"year": 2025, "rating": "D", "event_id": "r1"}
    >>> tax_credit_low(RuleInput(s), {"ratings": ["D"]}).message
    'tax credit rating D for 2025'
    """
    rating = data.state.tax_rating
    if not rating or rating.get("rating") not in p["ratings"]:
        return None
    return Hit(f"tax credit rating {rating['rating']} for {rating['year']}", (rating["event_id"],))


_TAX = "STA Measures for tax credit management; 重大税收违法失信主体 publicity (3 years)"
for rule in (
    Rule("tax_arrears", 1, "Tax arrears", "operation", "tax", "orange", 10,
         "Tax Collection Administration Law art. 45-46; STA arrears announcements", tax_arrears,
         defaults={"min_amount": 100000.0, "max_days": 90}),
    Rule("tax_violation", 1, "Major tax violation", "operation", "tax", "red", 20, _TAX,
         tax_violation, defaults={"window_days": 1095, "threshold": 1}),
    Rule("social_insurance_arrears", 1, "Social-insurance arrears", "operation",
         "social_insurance", "yellow", 5, "Social Insurance Law art. 63, 86",
         social_insurance_arrears, defaults={"window_days": 365, "threshold": 1}),
    Rule("tax_credit_low", 1, "Lowest tax credit rating", "evaluations", "ratings", "orange",
         10, _TAX, tax_credit_low, defaults={"ratings": ["D"]}),
):  # fmt: skip
    register(rule)
