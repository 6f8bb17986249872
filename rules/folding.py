"""How each event changes an enterprise's state (pure, in place).

Every record keeps the event time that decides it, and each handler compares times
instead of trusting arrival order: a removal that arrives before its listing, a change
that arrives after a newer one, or a revocation before its decision give the same state
as the same events in order. Times are UTC ISO strings, so they compare as text.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from rules import counters
from rules.state import EnterpriseState
from streams.payloads import CHANGE_FIELDS

#: Profile fields copied from `enterprise.registered`.
PROFILE_FIELDS = (
    "name", "legal_rep", "address", "registered_capital", "industry", "district",
    "established_on", "phone", "shareholders", "officers", "tags",
)  # fmt: skip
#: changes that count towards `frequent_changes`
COUNTED_CHANGES = ("legal_rep", "shareholders")

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


def _day(at: str) -> date:
    return date.fromisoformat(at[:10])


def _set_field(state: EnterpriseState, name: str, value: Any, event_id: str, at: str) -> bool:
    if state.field_times.get(name, "") <= at:
        state.profile[name] = value
        state.field_times[name] = at
        state.field_events[name] = event_id
        return True
    return False


def _registered(state: EnterpriseState, payload: dict[str, Any], eid: str, at: str) -> None:
    for name in PROFILE_FIELDS:
        changed = payload.get(name) is not None and _set_field(state, name, payload[name], eid, at)
        if changed and name == "address":
            state.address_since = payload.get("established_on") or at[:10]
    if state.registered_at is None or at < state.registered_at:
        state.registered_at = at
    if state.status != "deregistered":
        state.status = "active"


def _changed(state: EnterpriseState, payload: dict[str, Any], eid: str, at: str) -> None:
    name = payload["field"]
    if name not in CHANGE_FIELDS:
        return
    if _set_field(state, name, payload.get("after"), eid, at) and name == "address":
        state.address_since = at[:10]
    if name in COUNTED_CHANGES:
        counters.add(state.counters.setdefault("changes", {}), _day(at), eid)


def _deregistered(state: EnterpriseState, _payload: dict[str, Any], _eid: str, _at: str) -> None:
    state.status = "deregistered"


def _penalty(state: EnterpriseState, payload: dict[str, Any], event_id: str, _at: str) -> None:
    known = state.penalties.get(payload["decision_no"], {})
    state.penalties[payload["decision_no"]] = {
        **known,
        "procedure": payload["procedure"],
        "decided_on": payload["decided_on"],
        "amount": payload.get("amount"),
        "event_id": event_id,
        # a revocation or repair may arrive before the decision it applies to
        "revoked": known.get("revoked", False),
    }


def _penalty_revoked(
    state: EnterpriseState, payload: dict[str, Any], event_id: str, _at: str
) -> None:
    entry = state.penalties.setdefault(
        payload["decision_no"], {"procedure": None, "decided_on": None, "event_id": None}
    )
    entry["revoked"] = True
    entry["revoked_by"] = event_id


def _dishonest_listed(
    state: EnterpriseState, payload: dict[str, Any], event_id: str, _at: str
) -> None:
    case = state.dishonest_cases.setdefault(payload["case_no"], {"removed_by": None})
    case["listed_by"] = event_id


def _dishonest_removed(
    state: EnterpriseState, payload: dict[str, Any], event_id: str, _at: str
) -> None:
    case = state.dishonest_cases.setdefault(payload["case_no"], {"listed_by": None})
    case["removed_by"] = event_id


def _listed(kind: str) -> Handler:
    def handler(state: EnterpriseState, payload: dict[str, Any], eid: str, at: str) -> None:
        entry = state.lists.setdefault(kind or payload["reason"], {})
        if entry.get("added", "") <= at:
            entry.update(added=at, added_by=eid, reason=payload.get("reason"))
        # a repair may arrive before the listing it lifts
        repaired = state.repairs.get(kind or "abnormal")
        if repaired and repaired["at"] >= at and entry.get("removed", "") <= repaired["at"]:
            entry.update(removed=repaired["at"], removed_by=repaired["by"])

    return handler


def _unlisted(kind: str) -> Handler:
    def handler(state: EnterpriseState, payload: dict[str, Any], eid: str, at: str) -> None:
        entry = state.lists.setdefault(kind or payload["reason"], {})
        if entry.get("removed", "") <= at:
            entry.update(removed=at, removed_by=eid)

    return handler


def _inspection(state: EnterpriseState, payload: dict[str, Any], eid: str, at: str) -> None:
    seen = state.inspections
    if payload["result"] == "unreachable":
        if seen.get("unreachable", "") <= at:
            seen.update(unreachable=at, unreachable_by=eid)
    elif seen.get("reached", "") <= at:
        seen["reached"] = at


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


def _permit_revoked(state: EnterpriseState, payload: dict[str, Any], _eid: str, _at: str) -> None:
    state.permits.setdefault(payload["permit_no"], {"kind": None, "granted": None})["revoked"] = (
        True
    )


def _tax_arrears(state: EnterpriseState, payload: dict[str, Any], eid: str, at: str) -> None:
    known = state.tax_arrears.get(payload["period"], {})
    if (known.get("since") or "") > at[:10]:
        return  # a newer report of the same period arrived first
    state.tax_arrears[payload["period"]] = {
        "amount": float(payload["amount"]),
        "since": at[:10],
        "cleared": known.get("cleared", False),
        "event_id": eid,
    }


def _tax_cleared(state: EnterpriseState, payload: dict[str, Any], _eid: str, _at: str) -> None:
    state.tax_arrears.setdefault(payload["period"], {"amount": 0.0, "since": None})["cleared"] = (
        True
    )


def _counted(name: str) -> Handler:
    def handler(state: EnterpriseState, _payload: dict[str, Any], eid: str, at: str) -> None:
        counters.add(state.counters.setdefault(name, {}), _day(at), eid)

    return handler


def _tax_rated(state: EnterpriseState, payload: dict[str, Any], eid: str, _at: str) -> None:
    if int(payload["year"]) >= int(state.tax_rating.get("year", 0)):
        state.tax_rating = {"year": payload["year"], "rating": payload["rating"], "event_id": eid}


def _repaired(state: EnterpriseState, payload: dict[str, Any], eid: str, at: str) -> None:
    """Credit repair: the record stops counting (the statutory conditions for it are
    checked by the authority that approves it)."""
    target, ref = payload["target"], payload["ref"]
    if target == "penalty":
        state.penalties.setdefault(ref, {"procedure": None, "decided_on": None})["repaired_by"] = (
            eid
        )
    elif target == "dishonest":
        _dishonest_removed(state, {"case_no": ref}, eid, at)
    else:  # abnormal | serious: every listing of that kind made before the repair
        if state.repairs.get(target, {}).get("at", "") <= at:
            state.repairs[target] = {"at": at, "by": eid}
        for kind, entry in state.lists.items():
            if (kind == "serious") == (target == "serious") and entry.get("removed", "") <= at:
                entry.update(removed=at, removed_by=eid)


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
    "tax.credit_rated": _tax_rated,
    "credit.repaired": _repaired,
}
