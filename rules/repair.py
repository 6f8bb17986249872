"""Credit repair (信用修复): whether a `credit.repaired` lifts its target.

A repair is judged at every evaluation, not when it arrives: its target may arrive
after it (any arrival order gives the same verdict), and the verdict depends only on
dates. It lifts its target when the target is known and the repair was approved at
least 6 months after the target's publication (1 year for food, drug and
special-equipment penalties; rules/clocks.py). Otherwise it is rejected with the
reason, or pending while its target is unknown; both stay visible on the enterprise.

Targets: `penalty` (ref: decision_no), `dishonest` (ref: case_no), `abnormal` and
`serious` (every listing of that kind made before the repair; ref is free text).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from rules.calendar import add_months, local_day
from rules.clocks import REPAIR_MONTHS, repair_months
from rules.state import EnterpriseState


def judge(state: EnterpriseState) -> None:
    """Set `status` (accepted | rejected | pending) and `reason` on every repair.

    >>> s = EnterpriseState("91440300708461136T")
    >>> s.penalties["P1"] = {"procedure": "ordinary", "decided_on": "2026-03-01",
    ...                      "violation": "虚假宣传", "event_id": "e1"}
    >>> s.repairs["penalty:P1"] = {"target": "penalty", "ref": "P1",
    ...     "approved_on": "2026-08-31", "event_id": "r1", "at": "2026-08-31T02:00:00+00:00"}
    >>> judge(s); print(s.repairs["penalty:P1"]["status"], s.repairs["penalty:P1"]["reason"])
    rejected approved 2026-08-31, before 2026-09-01 (6 months after publication on 2026-03-01)
    >>> s.repairs["penalty:P1"]["approved_on"] = "2026-09-01"
    >>> judge(s); s.repairs["penalty:P1"]["status"]
    'accepted'
    """
    for repair in state.repairs.values():
        status, reason = _verdict(state, repair)
        repair["status"], repair["reason"] = status, reason


def lifted_penalty(state: EnterpriseState, decision_no: str) -> str | None:
    """The event id of the accepted repair that lifted this penalty, if any."""
    repair = state.repairs.get(f"penalty:{decision_no}")
    return repair["event_id"] if repair and repair.get("status") == "accepted" else None


def lifted_case(state: EnterpriseState, case_no: str) -> str | None:
    repair = state.repairs.get(f"dishonest:{case_no}")
    return repair["event_id"] if repair and repair.get("status") == "accepted" else None


def lifted_listing(state: EnterpriseState, kind: str, entry: dict[str, Any]) -> str | None:
    """The event id of an accepted repair of this listing (abnormal for any reason but
    `serious`): one made after the listing and eligible for it."""
    target = "serious" if kind == "serious" else "abnormal"
    for repair in state.repairs.values():
        if repair["target"] == target and _lifts_listing(repair, entry):
            return str(repair["event_id"])
    return None


def _verdict(state: EnterpriseState, repair: dict[str, Any]) -> tuple[str, str]:
    target, ref = repair["target"], repair["ref"]
    approved = date.fromisoformat(repair["approved_on"])
    if target == "penalty":
        penalty = state.penalties.get(ref)
        if not penalty or not penalty.get("decided_on"):
            return "pending", f"penalty {ref} is not known (yet)"
        published = date.fromisoformat(penalty["decided_on"])
        return _timely(approved, published, repair_months(penalty))
    if target == "dishonest":
        case = state.dishonest_cases.get(ref)
        if not case or not case.get("listed_at"):
            return "pending", f"dishonest listing {ref} is not known (yet)"
        return _timely(approved, local_day(str(case["listed_at"])), REPAIR_MONTHS)
    listings = [
        entry
        for kind, entry in state.lists.items()
        if (kind == "serious") == (target == "serious")
        and entry.get("added")
        and entry["added"] <= repair["at"]
    ]
    if not listings:
        return "pending", f"no {target} listing before the repair"
    if any(_lifts_listing(repair, entry) for entry in listings):
        return "accepted", ""
    newest = max(local_day(e["added"]) for e in listings)
    return _timely(approved, newest, REPAIR_MONTHS)


def _lifts_listing(repair: dict[str, Any], entry: dict[str, Any]) -> bool:
    if not entry.get("added") or entry["added"] > repair["at"]:
        return False
    eligible = add_months(local_day(entry["added"]), REPAIR_MONTHS)
    return date.fromisoformat(repair["approved_on"]) >= eligible


def _timely(approved: date, published: date, months: int) -> tuple[str, str]:
    eligible = add_months(published, months)
    if approved >= eligible:
        return "accepted", ""
    return "rejected", (
        f"approved {approved}, before {eligible} ({months} months after publication on {published})"
    )
