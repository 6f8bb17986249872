"""How each event changes an enterprise's state (pure, in place).

Every record keeps the event time that decides it, and each handler compares times
instead of trusting arrival order: a removal that arrives before its listing, a change
that arrives after a newer one, or a revocation before its decision give the same state
as the same events in order. Times are UTC ISO strings, so they compare as text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rules import aggregates, counters
from rules.calendar import local_day
from rules.state import EnterpriseState
from streams.contract.payloads import CHANGE_FIELDS

#: Profile fields copied from `enterprise.registered`.
PROFILE_FIELDS = (
    "name", "legal_rep", "address", "registered_capital", "industry", "district",
    "established_on", "phone", "shareholders", "officers", "tags",
)  # fmt: skip
#: changes that count towards `frequent_changes`
COUNTED_CHANGES = ("legal_rep", "shareholders")
#: profile fields the state's derived fields come from (EnterpriseState.derive_profile)
DERIVED_FROM = frozenset({"legal_rep", "officers", "shareholders", "address"})

Handler = Callable[[EnterpriseState, dict[str, Any], str, str], None]


def apply_event(
    state: EnterpriseState, etype: str, payload: dict[str, Any], event_id: str, occurred_at: str
) -> EnterpriseState:
    """Fold one event into the state (in place) and return it.

    `payload` is the validated payload as JSON-ready values (dates as ISO strings);
    `occurred_at` is UTC ISO text.

    >>> s = EnterpriseState("91440300708461136T")
    >>> _ = apply_event(s, "penalty.decided", {"decision_no": "X1", "procedure": "ordinary",
    ...     "decided_on": "2026-03-01", "amount": 500.0}, "e1", "2026-03-01T02:00:00+00:00")
    >>> s.penalties["X1"]["procedure"], s.events_seen
    ('ordinary', 1)
    >>> _ = apply_event(s, "penalty.revoked", {"decision_no": "X1"}, "e2", "2026-04-01T02:00:00")
    >>> s.penalties["X1"]["revoked"], s.clock
    (True, '2026-04-01T02:00:00')
    """
    handler = _HANDLERS.get(etype)
    if handler is not None:
        handler(state, payload, event_id, occurred_at)
    state.events_seen += 1
    if state.last_event_at is None or occurred_at > state.last_event_at:
        state.last_event_at = occurred_at
    advance_clock(state, occurred_at)
    return state


def advance_clock(state: EnterpriseState, at: str) -> None:
    """Move the rules' as-of time forward (never back)."""
    if state.clock is None or at > state.clock:
        state.clock = at


def _set_field(state: EnterpriseState, name: str, value: Any, event_id: str, at: str) -> bool:
    if state.field_times.get(name, "") <= at:
        state.profile[name] = value
        state.field_times[name] = at
        state.field_events[name] = event_id
        return True
    return False


def _registered(state: EnterpriseState, payload: dict[str, Any], eid: str, at: str) -> None:
    derive = False
    for name in PROFILE_FIELDS:
        changed = payload.get(name) is not None and _set_field(state, name, payload[name], eid, at)
        if changed and name == "address":
            state.address_since = payload.get("established_on") or local_day(at).isoformat()
        derive = derive or (changed and name in DERIVED_FROM)
    if derive:  # once for all the fields the registration set
        state.derive_profile()
    if state.registered_at is None or at < state.registered_at:
        state.registered_at = at
    if state.status != "deregistered":
        state.status = "active"


def _changed(state: EnterpriseState, payload: dict[str, Any], eid: str, at: str) -> None:
    name = payload["field"]
    if name not in CHANGE_FIELDS:
        return
    if _set_field(state, name, payload.get("after"), eid, at):
        if name == "address":
            state.address_since = local_day(at).isoformat()
        if name in DERIVED_FROM:
            state.derive_profile()
    if name in COUNTED_CHANGES:
        counters.add(state.counters.setdefault("changes", {}), local_day(at), eid)


def _deregistered(state: EnterpriseState, _payload: dict[str, Any], _eid: str, _at: str) -> None:
    state.status = "deregistered"


def _penalty(state: EnterpriseState, payload: dict[str, Any], event_id: str, _at: str) -> None:
    known = state.penalties.get(payload["decision_no"], {})
    state.penalties[payload["decision_no"]] = {
        **known,
        "procedure": payload["procedure"],
        "decided_on": payload["decided_on"],
        "amount": payload.get("amount"),
        "measures": payload.get("measures") or [],
        "violation": payload.get("violation") or "",
        "event_id": event_id,
        # a revocation or repair may arrive before the decision it applies to
        "revoked": known.get("revoked", False),
    }
    aggregates.place_penalty(state, payload["decision_no"], known)


def _penalty_revoked(
    state: EnterpriseState, payload: dict[str, Any], event_id: str, _at: str
) -> None:
    entry = state.penalties.setdefault(
        payload["decision_no"], {"procedure": None, "decided_on": None, "event_id": None}
    )
    before = dict(entry)
    entry["revoked"] = True
    entry["revoked_by"] = event_id
    aggregates.place_penalty(state, payload["decision_no"], before)


def _dishonest_listed(
    state: EnterpriseState, payload: dict[str, Any], event_id: str, at: str
) -> None:
    case = state.dishonest_cases.setdefault(payload["case_no"], {"removed_by": None})
    if (case.get("listed_at") or "") <= at:
        case.update(listed_by=event_id, listed_at=at)
    aggregates.place_case(state, payload["case_no"])


def _dishonest_removed(
    state: EnterpriseState, payload: dict[str, Any], event_id: str, _at: str
) -> None:
    case = state.dishonest_cases.setdefault(payload["case_no"], {"listed_by": None})
    case["removed_by"] = event_id
    aggregates.place_case(state, payload["case_no"])


def _listed(kind: str) -> Handler:
    def handler(state: EnterpriseState, payload: dict[str, Any], eid: str, at: str) -> None:
        entry = state.lists.setdefault(kind or payload["reason"], {})
        if entry.get("added", "") <= at:
            entry.update(added=at, added_by=eid, reason=payload.get("reason"))

    return handler


def _unlisted(kind: str) -> Handler:
    def handler(state: EnterpriseState, payload: dict[str, Any], eid: str, at: str) -> None:
        entry = state.lists.setdefault(kind or payload["reason"], {})
        if entry.get("removed", "") <= at:
            entry.update(removed=at, removed_by=eid)

    return handler


def note_inspection(seen: dict[str, str], result: str, eid: str, at: str) -> None:
    """An inspection's result into `seen` (EnterpriseState.inspections): the latest,
    the latest unreachable, the latest that reached the firm. Arrival order does not
    matter: the latest by time, then by id, wins (two at one instant agree)."""
    if (seen.get("latest", ""), seen.get("latest_by", "")) <= (at, eid):
        seen.update(latest=at, latest_by=eid, result=result)
    if result == "unreachable":
        if seen.get("unreachable", "") <= at:
            seen.update(unreachable=at, unreachable_by=eid)
    elif seen.get("reached", "") <= at:
        seen["reached"] = at


def _inspection(state: EnterpriseState, payload: dict[str, Any], eid: str, at: str) -> None:
    if payload["result"] != "passed":
        counters.add(state.counters.setdefault("failed_inspections", {}), local_day(at), eid)
    note_inspection(state.inspections, payload["result"], eid, at)
    plan = payload.get("plan_id")
    if plan and state.plan_results.get(plan, {}).get("at", "") <= at:
        state.plan_results[plan] = {"result": payload["result"], "at": at, "event_id": eid}


def _annual_report(state: EnterpriseState, payload: dict[str, Any], eid: str, _at: str) -> None:
    figures = ("revenue", "employees", "tax_paid", "insured_employees")
    zero = all(float(payload[name]) == 0 for name in figures)
    state.annual_reports[str(payload["year"])] = {"zero": zero, "event_id": eid}


def _permit_granted(state: EnterpriseState, payload: dict[str, Any], eid: str, at: str) -> None:
    known = state.permits.get(payload["permit_no"], {})
    if (known.get("granted") or "") > at:
        return  # a newer grant of the same permit (a renewal) arrived first
    state.permits[payload["permit_no"]] = {
        "kind": payload["kind"],
        "granted": at,
        "valid_until": payload.get("valid_until"),
        "revoked": known.get("revoked", False),
        "event_id": eid,
    }
    aggregates.summarize_permits(state)


def _permit_revoked(state: EnterpriseState, payload: dict[str, Any], _eid: str, _at: str) -> None:
    state.permits.setdefault(payload["permit_no"], {"kind": None, "granted": None})["revoked"] = (
        True
    )
    aggregates.summarize_permits(state)


def _tax_arrears(state: EnterpriseState, payload: dict[str, Any], eid: str, at: str) -> None:
    known = state.tax_arrears.get(payload["period"], {})
    since = local_day(at).isoformat()
    if (known.get("since") or "") > since:
        return  # a newer report of the same period arrived first
    state.tax_arrears[payload["period"]] = {
        "amount": float(payload["amount"]),
        "since": since,
        "cleared": known.get("cleared", False),
        "event_id": eid,
    }
    aggregates.summarize_arrears(state)


def _tax_cleared(state: EnterpriseState, payload: dict[str, Any], _eid: str, _at: str) -> None:
    state.tax_arrears.setdefault(payload["period"], {"amount": 0.0, "since": None})["cleared"] = (
        True
    )
    aggregates.summarize_arrears(state)


def _counted(name: str) -> Handler:
    def handler(state: EnterpriseState, _payload: dict[str, Any], eid: str, at: str) -> None:
        counters.add(state.counters.setdefault(name, {}), local_day(at), eid)

    return handler


def _counted_if(name: str, field: str, values: tuple[str, ...]) -> Handler:
    """Count the event when `payload[field]` is one of `values` (activity the models
    read: a judgment against the firm, an enforcement filed, an inspection that failed)."""

    def handler(state: EnterpriseState, payload: dict[str, Any], eid: str, at: str) -> None:
        if payload.get(field) in values:
            counters.add(state.counters.setdefault(name, {}), local_day(at), eid)

    return handler


def _tax_rated(state: EnterpriseState, payload: dict[str, Any], eid: str, _at: str) -> None:
    if int(payload["year"]) >= int(state.tax_rating.get("year", 0)):
        state.tax_rating = {"year": payload["year"], "rating": payload["rating"], "event_id": eid}


def _repaired(state: EnterpriseState, payload: dict[str, Any], eid: str, at: str) -> None:
    """Credit repair: recorded as requested; whether it lifts its target is judged at
    evaluation (rules/repair.py), since the target may not have arrived yet."""
    key = f"{payload['target']}:{payload['ref']}"
    known = state.repairs.get(key)
    if known is None or known["at"] <= at:
        state.repairs[key] = {
            "target": payload["target"],
            "ref": payload["ref"],
            "approved_on": payload["approved_on"],
            "event_id": eid,
            "at": at,
        }


def _commended(state: EnterpriseState, payload: dict[str, Any], eid: str, at: str) -> None:
    before = state.commendations.get(eid, {}).get("on")
    state.commendations[eid] = {
        "on": local_day(at).isoformat(),
        "title": payload.get("title"),
        "level": payload.get("level"),
    }
    aggregates.place_commendation(state, eid, before)


_HANDLERS: dict[str, Handler] = {
    "enterprise.registered": _registered,
    "registration.changed": _changed,
    "enterprise.deregistered": _deregistered,
    "penalty.decided": _penalty,
    "penalty.revoked": _penalty_revoked,
    "court.dishonest_listed": _dishonest_listed,
    "court.dishonest_removed": _dishonest_removed,
    "list.abnormal_added": _listed(""),
    "list.abnormal_removed": _unlisted(""),
    "list.serious_added": _listed("serious"),
    "list.serious_removed": _unlisted("serious"),
    "inspection.completed": _inspection,
    "annual_report.filed": _annual_report,
    "permit.granted": _permit_granted,
    "permit.revoked": _permit_revoked,
    "tax.arrears": _tax_arrears,
    "tax.arrears_cleared": _tax_cleared,
    "tax.violation": _counted("tax_violations"),
    "social_insurance.arrears": _counted("si_arrears"),
    "complaint.received": _counted("complaints"),
    "court.judgment": _counted_if("judgments", "role", ("defendant",)),
    "court.enforcement": _counted_if("enforcements", "status", ("filed",)),
    "pledge.registered": _counted("pledges"),
    "tax.credit_rated": _tax_rated,
    "credit.repaired": _repaired,
    "commendation.awarded": _commended,
}
