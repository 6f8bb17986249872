"""Annual reports (企业年报): due between 1 January and 30 June for the previous year."""

from __future__ import annotations

from datetime import date

from rules.calendar import local_day
from rules.catalogue import Hit, Params, Rule, RuleInput, register
from rules.clocks import annual_report_due_year


def annual_report_missing(data: RuleInput, _p: Params) -> Hit | None:
    """No annual report for the latest year whose deadline (30 June) has passed, from
    an active firm established by the end of that year. Only deadlines that passed
    while the monitor knew the firm are judged: an initial load does not carry the
    reports of earlier years. Looked at again every 1 July; a late report clears it.

    >>> from rules.state import EnterpriseState
    >>> s = EnterpriseState("91440300708461136T", status="active",
    ...     registered_at="2026-01-05T01:00:00+00:00", clock="2026-06-30T15:59:59+00:00")
    >>> s.profile["established_on"] = "2019-05-20"
    >>> data = RuleInput(s)
    >>> annual_report_missing(data, {}), data.rechecks     # 30 June: still in time
    (None, [datetime.date(2026, 7, 1)])
    >>> s.clock = "2026-06-30T16:00:00+00:00"                # 1 July in Beijing
    >>> annual_report_missing(RuleInput(s), {}).message
    'no annual report for 2025 (due by 2026-06-30)'
    >>> s.annual_reports["2025"] = {"zero": False, "event_id": "a1"}
    >>> annual_report_missing(RuleInput(s), {}) is None
    True
    """
    state, today = data.state, data.today
    if today is None or state.status != "active" or not state.registered_at:
        return None
    data.recheck(date(today.year if (today.month, today.day) <= (6, 30) else today.year + 1, 7, 1))
    year = annual_report_due_year(today)
    deadline = date(year + 1, 6, 30)
    established = state.profile.get("established_on")
    founded = date.fromisoformat(established).year if established else None
    if founded is None or founded > year or local_day(state.registered_at) > deadline:
        return None
    if str(year) in state.annual_reports:
        return None
    evidence = state.field_events.get("established_on") or state.field_events.get("name", "")
    return Hit(f"no annual report for {year} (due by {deadline})", (evidence,) if evidence else ())


register(
    Rule("annual_report_missing", 1, "Annual report not filed", "operation", "annual_report",
         "yellow", 5, "Interim Regulations on Enterprise Information Disclosure (2014) art. 8",
         annual_report_missing)
)  # fmt: skip
