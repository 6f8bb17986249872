"""Per-enterprise state, and how each event changes it (pure).

The state is what the rules need to decide, nothing more: the registration profile,
the records that count (penalties, dishonest-list cases) and the open warnings. It is
stored as one JSON document per enterprise; `apply_event` is the only place that
changes it, so a replay of the same events always gives the same state.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from streams.identifiers import person_key
from streams.payloads import CHANGE_FIELDS

#: Profile fields copied from `enterprise.registered`.
PROFILE_FIELDS = (
    "name",
    "legal_rep",
    "address",
    "registered_capital",
    "industry",
    "district",
    "established_on",
    "phone",
    "shareholders",
    "officers",
    "tags",
)


@dataclass
class EnterpriseState:
    uscc: str
    profile: dict[str, Any] = field(default_factory=dict)
    #: profile field -> occurred_at of the event that set it, so a late event never
    #: overwrites a newer value (arrival order does not matter)
    field_times: dict[str, str] = field(default_factory=dict)
    status: str = "unregistered"  # unregistered | active | deregistered
    #: decision_no -> {procedure, decided_on, amount, event_id, revoked}
    penalties: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: case_no -> {listed_by, removed_by}: event ids, kept so a removal that arrives
    #: before its listing still wins
    dishonest_cases: dict[str, dict[str, str | None]] = field(default_factory=dict)
    #: rule_id -> the open warning {warning_id, raised_at, occurred_at, severity, message, evidence}
    open_warnings: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: rule_id -> score contribution of the rules in force, to explain grade changes
    contributions: dict[str, int] = field(default_factory=dict)
    score: int | None = None
    grade: str | None = None
    events_seen: int = 0
    last_event_at: str | None = None

    def to_json(self) -> str:
        # the fields hold plain JSON values already: no deep copy (asdict) needed
        return json.dumps(vars(self), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | bytes) -> EnterpriseState:
        return cls(**json.loads(raw))

    def key_people(self) -> dict[str, list[str]]:
        """person_key -> roles held (legal_rep, officer role names) in this enterprise."""
        return key_people_of(self.profile)


def key_people_of(profile: dict[str, Any]) -> dict[str, list[str]]:
    """person_key -> roles of the legal representative and officers named in a profile,
    or in any payload of the same shape (`enterprise.registered`, a change's `after`).

    >>> key_people_of({"legal_rep": {"name": "张三", "id_no": "11010519491231002X"}})
    {'426695a0efdb59b9eaedaf0b5ca3eddf': ['legal_rep']}
    """
    people: dict[str, list[str]] = {}
    rep = profile.get("legal_rep")
    if isinstance(rep, dict) and rep.get("id_no"):
        people.setdefault(person_key(rep["id_no"]), []).append("legal_rep")
    for officer in profile.get("officers") or []:
        if isinstance(officer, dict) and officer.get("id_no"):
            role = officer.get("role") or "officer"
            people.setdefault(person_key(officer["id_no"]), []).append(f"officer:{role}")
    return people


def apply_event(
    state: EnterpriseState, etype: str, payload: dict[str, Any], event_id: str, occurred_at: str
) -> EnterpriseState:
    """Fold one event into the state (in place) and return it.

    `payload` is the validated payload as JSON-ready values (dates as ISO strings).

    >>> s = EnterpriseState("91440300708461136T")
    >>> _ = apply_event(s, "penalty.decided", {"decision_no": "X1", "procedure": "ordinary",
    ...     "decided_on": "2026-03-01", "amount": 500.0}, "e1", "2026-03-01T10:00:00+08:00")
    >>> s.penalties["X1"]["procedure"], s.events_seen
    ('ordinary', 1)
    >>> _ = apply_event(s, "penalty.revoked", {"decision_no": "X1"}, "e2", "2026-04-01T02:00:00")
    >>> s.penalties["X1"]["revoked"]
    True
    """
    handler = _HANDLERS.get(etype)
    if handler is not None:
        handler(state, payload, event_id, occurred_at)
    state.events_seen += 1
    if state.last_event_at is None or occurred_at > state.last_event_at:
        state.last_event_at = occurred_at
    return state


def _set_field(state: EnterpriseState, name: str, value: Any, at: str) -> None:
    if state.field_times.get(name, "") <= at:
        state.profile[name] = value
        state.field_times[name] = at


def _registered(state: EnterpriseState, payload: dict[str, Any], _eid: str, at: str) -> None:
    for name in PROFILE_FIELDS:
        if payload.get(name) is not None:
            _set_field(state, name, payload[name], at)
    if state.status != "deregistered":
        state.status = "active"


def _changed(state: EnterpriseState, payload: dict[str, Any], _eid: str, at: str) -> None:
    if payload["field"] in CHANGE_FIELDS:
        _set_field(state, payload["field"], payload.get("after"), at)


def _deregistered(state: EnterpriseState, _payload: dict[str, Any], _eid: str, _at: str) -> None:
    state.status = "deregistered"


def _penalty(state: EnterpriseState, payload: dict[str, Any], event_id: str, _at: str) -> None:
    known = state.penalties.get(payload["decision_no"], {})
    state.penalties[payload["decision_no"]] = {
        "procedure": payload["procedure"],
        "decided_on": payload["decided_on"],
        "amount": payload.get("amount"),
        "event_id": event_id,
        # a revocation may arrive before the decision it revokes
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
    state.dishonest_cases.setdefault(payload["case_no"], {"removed_by": None})["listed_by"] = (
        event_id
    )


def _dishonest_removed(
    state: EnterpriseState, payload: dict[str, Any], event_id: str, _at: str
) -> None:
    state.dishonest_cases.setdefault(payload["case_no"], {"listed_by": None})["removed_by"] = (
        event_id
    )


_HANDLERS = {
    "enterprise.registered": _registered,
    "registration.changed": _changed,
    "enterprise.deregistered": _deregistered,
    "penalty.decided": _penalty,
    "penalty.revoked": _penalty_revoked,
    "court.dishonest_listed": _dishonest_listed,
    "court.dishonest_removed": _dishonest_removed,
}
