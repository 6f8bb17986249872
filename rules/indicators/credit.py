"""Credit indicators (评价与表彰): positive records that add points and never warn."""

from __future__ import annotations

from datetime import date, timedelta

from rules import entered_results
from rules.calendar import add_months, local_day
from rules.catalogue import Hit, Params, Rule, RuleInput, register


def commended(data: RuleInput, p: Params) -> Hit | None:
    """A commendation awarded within the last `months` months. Reads the awards in day
    order (`state.commendation_days`) from the newest back, and stops at the first one
    over: every older one is too.

    >>> from rules.folding import apply_event
    >>> from rules.state import EnterpriseState
    >>> s = EnterpriseState("91440300708461136T")
    >>> _ = apply_event(s, "commendation.awarded", {"title": "守合同重信用企业"}, "c1",
    ...                 "2026-03-01T02:00:00+00:00")
    >>> s.clock = "2027-01-01T00:00:00+00:00"
    >>> data = RuleInput(s)
    >>> commended(data, {"months": 36}).message, data.rechecks
    ('commended: 守合同重信用企业 (2026-03-01)', [datetime.date(2029, 3, 1)])
    """
    today, months, days = data.today, p["months"], data.state.commendation_days
    if today is None or not days:
        return None
    # the first award day still in force today, found once: add_months is monotone, so
    # the awards from that day on count and the ones before do not (ISO days compare
    # as text). `months` back from today and forth again lands on today or, at a month
    # end, a few days before it: the first day is that one or a few days later
    first = add_months(today, -months)
    while add_months(first, months) <= today:
        first += timedelta(days=1)
    since, until = first.isoformat(), today.isoformat()
    found = []
    awards = data.state.commendations
    for day, event_id in reversed(days):
        if day < since:
            break
        if day <= until:
            found.append((day, awards[event_id].get("title") or "", event_id))
    if not found:
        return None
    found.sort()
    # it changes when the oldest of them is over
    data.recheck(add_months(date.fromisoformat(found[0][0]), months))
    titles = "; ".join(f"{title} ({on})" for on, title, _ in found)
    return Hit(f"commended: {titles}", tuple(event_id for *_, event_id in found))


def tax_credit_a(data: RuleInput, _p: Params) -> Hit | None:
    """The latest tax credit rating is A (纳税信用A级).

    >>> from rules.state import EnterpriseState
    >>> s = EnterpriseState("91440300708461136T")
    >>> s.tax_rating = {"year": 2025, "rating": "A", "event_id": "r1"}
    >>> tax_credit_a(RuleInput(s), {}).evidence
    ('r1',)
    """
    rating = data.state.tax_rating
    if rating.get("rating") != "A":
        return None
    return Hit(f"tax credit rating A for {rating['year']}", (rating["event_id"],))


def inspection_passed(data: RuleInput, p: Params) -> Hit | None:
    """The latest inspection passed (an event, or a result entered for a plan), within
    the last `days` days.

    >>> from rules.state import EnterpriseState
    >>> s = EnterpriseState("91440300708461136T", clock="2026-05-01T00:00:00+00:00")
    >>> s.inspections = {"latest": "2026-03-01T02:00:00+00:00", "latest_by": "i1",
    ...                  "result": "passed"}
    >>> data = RuleInput(s)
    >>> inspection_passed(data, {"days": 365}).message, data.rechecks
    ('inspection passed on 2026-03-01', [datetime.date(2027, 3, 1)])
    """
    seen, today = entered_results.inspections(data.state), data.today
    if today is None or seen.get("result") != "passed":
        return None
    on = local_day(seen["latest"])
    until = on + timedelta(days=p["days"])
    if today >= until:
        return None
    data.recheck(until)
    return Hit(f"inspection passed on {on}", (seen["latest_by"],))


_BASIS = "SAMR 2022 Opinions on credit-risk classification: positive records (良好信息)"
for rule in (
    Rule("commended", 1, "Commendation", "evaluations", "commendations", None, 0, _BASIS,
         commended, defaults={"months": 36}, bonus=5),
    Rule("tax_credit_a", 1, "Tax credit rating A", "evaluations", "ratings", None, 0,
         "STA Measures for tax credit management (A级纳税人)", tax_credit_a, bonus=5),
    Rule("inspection_passed", 1, "Inspection passed", "evaluations", "inspections", None, 0,
         _BASIS + "; 双随机、一公开 results", inspection_passed, defaults={"days": 365},
         bonus=3),
):  # fmt: skip
    register(rule)
