"""Negative lists and the signs of a firm that is not really there: the
abnormal-operation and serious-violation lists, unreachable at the registered address,
all-zero annual reports."""

from __future__ import annotations

from datetime import date
from typing import Any

from rules import entered_results
from rules.calendar import add_months, local_day
from rules.catalogue import Hit, Params, Rule, RuleInput, register
from rules.clocks import ABNORMAL_TRANSFER_MONTHS
from rules.repair import lifted_listing
from rules.state import EnterpriseState


def _in_force(state: EnterpriseState, kind: str, entry: dict[str, Any]) -> bool:
    """Listed after the latest removal (a removal at the same instant wins), and not
    lifted by an accepted credit repair."""
    listed = bool(entry.get("added")) and entry["added"] > entry.get("removed", "")
    return listed and lifted_listing(state, kind, entry) is None


def abnormal_list(data: RuleInput, _p: Params) -> Hit | None:
    """On the abnormal-operation list (经营异常名录) for at least one reason; a firm
    listed for two reasons stays listed until both are removed.

    >>> from rules.state import EnterpriseState
    >>> s = EnterpriseState("91440300708461136T")
    >>> s.lists["annual_report_missing"] = {"added": "2026-01-02T00:00:00+00:00",
    ...                                     "added_by": "e1"}
    >>> abnormal_list(RuleInput(s), {}).message
    'on the abnormal-operation list: annual_report_missing'
    >>> s.lists["annual_report_missing"]["removed"] = "2026-03-01T00:00:00+00:00"
    >>> abnormal_list(RuleInput(s), {}) is None
    True
    """
    listed = sorted(
        (reason, entry["added_by"])
        for reason, entry in data.state.lists.items()
        if reason != "serious" and _in_force(data.state, reason, entry)
    )
    if not listed:
        return None
    return Hit(
        message="on the abnormal-operation list: " + ", ".join(r for r, _ in listed),
        evidence=tuple(eid for _, eid in listed),
    )


def abnormal_overdue(data: RuleInput, p: Params) -> Hit | None:
    """Still on the abnormal-operation list `months` (36) after being listed: due for
    transfer to the serious-violation list (列入严重违法失信名单). Exact to the day: the
    warning is raised on the day the 3 years are up, by a timer if no event comes.

    >>> from rules.state import EnterpriseState
    >>> s = EnterpriseState("91440300708461136T", clock="2029-01-04T15:59:00+00:00")
    >>> s.lists["unreachable_address"] = {"added": "2026-01-05T02:00:00+00:00",
    ...                                   "added_by": "e1"}
    >>> data = RuleInput(s)
    >>> abnormal_overdue(data, {"months": 36}), data.rechecks
    (None, [datetime.date(2029, 1, 5)])
    >>> s.clock = "2029-01-04T16:00:00+00:00"
    >>> print(abnormal_overdue(RuleInput(s), {"months": 36}).message)
    on the abnormal-operation list since 2026-01-05 (unreachable_address): due for transfer ...
    """
    today = data.today
    if today is None or data.state.status == "deregistered":
        return None
    overdue: list[tuple[date, str, str]] = []
    for reason, entry in data.state.lists.items():
        if reason == "serious" or not _in_force(data.state, reason, entry):
            continue
        since = local_day(entry["added"])
        due = add_months(since, p["months"])
        if today < due:
            data.recheck(due)
        else:
            overdue.append((since, reason, entry["added_by"]))
    if not overdue:
        return None
    since = min(day for day, _, _ in overdue)
    reasons = ", ".join(sorted({reason for _, reason, _ in overdue}))
    return Hit(
        f"on the abnormal-operation list since {since} ({reasons}): due for transfer to the "
        "serious-violation list",
        tuple(sorted(eid for _, _, eid in overdue)),
    )


def serious_violation_list(data: RuleInput, _p: Params) -> Hit | None:
    """On the serious-violation list (严重违法失信名单).

    >>> from rules.state import EnterpriseState
    >>> s = EnterpriseState("91440300708461136T")
    >>> s.lists["serious"] = {"added": "2026-01-02T00:00:00+00:00", "added_by": "e1",
    ...                       "reason": "拒不履行行政处罚决定"}
    >>> serious_violation_list(RuleInput(s), {}).evidence
    ('e1',)
    """
    entry = data.state.lists.get("serious", {})
    if not _in_force(data.state, "serious", entry):
        return None
    return Hit(
        message=f"on the serious-violation list ({entry.get('reason') or 'no reason given'})",
        evidence=(entry["added_by"],),
    )


def unreachable(data: RuleInput, _p: Params) -> Hit | None:
    """Unreachable at the registered address (住所失联): listed as abnormal for
    `unreachable_address`, or an inspection found nobody there and no later inspection
    reached the firm and it has not moved since.

    >>> from rules.state import EnterpriseState
    >>> s = EnterpriseState("91440300708461136T")
    >>> s.inspections = {"unreachable": "2026-02-01T02:00:00+00:00", "unreachable_by": "i1"}
    >>> unreachable(RuleInput(s), {}).evidence
    ('i1',)
    >>> s.field_times["address"] = "2026-02-10T02:00:00+00:00"   # moved since
    >>> unreachable(RuleInput(s), {}) is None
    True
    """
    state = data.state
    found: list[str] = []
    listing = state.lists.get("unreachable_address", {})
    if _in_force(state, "unreachable_address", listing):
        found.append(listing["added_by"])
    seen = entered_results.inspections(state)  # the events' and the results entered
    if seen.get("unreachable") and seen["unreachable"] > max(
        seen.get("reached", ""), state.field_times.get("address", "")
    ):
        found.append(seen["unreachable_by"])
    if not found:
        return None
    return Hit(message="unreachable at the registered address", evidence=tuple(found))


def zero_annual_report(data: RuleInput, _p: Params) -> Hit | None:
    """The latest annual report declares zero revenue, employees, tax paid and insured
    employees (年报全零申报); a later non-zero report clears it.

    >>> from rules.state import EnterpriseState
    >>> s = EnterpriseState("91440300708461136T")
    >>> s.annual_reports = {"2024": {"zero": False, "event_id": "a1"},
    ...                     "2025": {"zero": True, "event_id": "a2"}}
    >>> zero_annual_report(RuleInput(s), {}).message
    'the 2025 annual report is all zero'
    """
    reports = data.state.annual_reports
    if not reports:
        return None
    year = max(reports, key=int)
    if not reports[year].get("zero"):
        return None
    return Hit(
        message=f"the {year} annual report is all zero", evidence=(reports[year]["event_id"],)
    )


_LIST_BASIS = "SAMR Order 23 (2015, rev. 2021) on the abnormal-operation list"
for rule in (
    Rule("abnormal_list", 2, "Listed as abnormal in operation", "penalties_lists", "lists",
         "orange", 10, _LIST_BASIS, abnormal_list, veto_grade="C"),
    Rule("abnormal_overdue", 1, "Abnormal listing overdue for the serious-violation list",
         "penalties_lists", "lists", "red", 10,
         _LIST_BASIS + ", art. 17; SAMR Order 44 (2021) art. 13", abnormal_overdue,
         defaults={"months": ABNORMAL_TRANSFER_MONTHS}),
    Rule("serious_violation_list", 1, "On the serious-violation list", "penalties_lists",
         "lists", "red", 40, "SAMR Order 44 (2021) on the serious-violation list",
         serious_violation_list, veto_grade="D"),
    Rule("unreachable", 1, "Unreachable at the registered address", "operation", "contact",
         "orange", 10, _LIST_BASIS + ", art. 4(4); inspection records (监管留痕)", unreachable),
    Rule("zero_annual_report", 1, "All-zero annual report", "operation", "annual_report",
         "yellow", 5, "Interim Regulations on Enterprise Information Disclosure (2014)",
         zero_annual_report),
):  # fmt: skip
    register(rule)
