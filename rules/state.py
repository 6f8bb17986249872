"""Per-enterprise state (pure data).

The state is what the rules need to decide, nothing more: the registration profile,
the records that count (penalties, lists, permits, arrears, windowed counters) and the
open warnings. It is stored as one JSON document per enterprise; rules/folding.py is
the only place that changes it, so a replay of the same events always gives the same
state. Fields added later default to empty, so older stored states still load.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rules import jsoncodec
from rules.addresses import normalize_address
from streams.contract.identifiers import person_key


@dataclass
class EnterpriseState:
    uscc: str
    profile: dict[str, Any] = field(default_factory=dict)
    #: profile field -> occurred_at of the event that set it, so a late event never
    #: overwrites a newer value (arrival order does not matter)
    field_times: dict[str, str] = field(default_factory=dict)
    status: str = "unregistered"  # unregistered | active | deregistered
    #: decision_no -> {procedure, decided_on, amount, measures, violation, event_id,
    #: revoked}
    penalties: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: case_no -> {listed_by, listed_at, removed_by}: kept so a removal that arrives
    #: before its listing still wins
    dishonest_cases: dict[str, dict[str, str | None]] = field(default_factory=dict)
    #: the enterprise's own records, each kept with the event time(s) that decide it,
    #: so late and out-of-order events give the same state as ordered ones
    #: kind ("abnormal" reason or "serious") -> {added, added_by, removed, reason}
    lists: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: "target:ref" -> a credit repair {target, ref, approved_on, event_id, at} and,
    #: as judged at the latest evaluation (rules/repair.py), {status, reason}
    repairs: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: latest unreachable inspection (unreachable, unreachable_by), latest one that
    #: reached the firm (reached), and the latest of all (latest, latest_by, result)
    inspections: dict[str, str] = field(default_factory=dict)
    #: plan_id -> {result, at, event_id}: the result of each inspection plan's visit
    plan_results: dict[str, dict[str, str]] = field(default_factory=dict)
    #: event_id -> {on (day awarded), title, level}
    commendations: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: a regulator's grade in force {grade, reason, set_at, expires_on, set_by,
    #: override_id}, as last read from the store; rules/engine.py applies it
    override: dict[str, Any] | None = None
    #: year -> {zero, event_id}
    annual_reports: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: permit_no -> {kind, granted, valid_until, revoked, event_id}
    permits: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: period -> {amount, since, cleared, event_id}
    tax_arrears: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: {year, rating, event_id} of the latest tax credit rating
    tax_rating: dict[str, Any] = field(default_factory=dict)
    #: windowed day-bucket counters (rules/counters.py): changes, tax_violations, ...
    counters: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: profile field -> event_id that set it (evidence for related-party rules)
    field_events: dict[str, str] = field(default_factory=dict)
    #: occurred_at (UTC) of `enterprise.registered`; day the current address took effect
    registered_at: str | None = None
    address_since: str | None = None
    #: rule_id -> the open warning {warning_id, raised_at, occurred_at, severity, message, evidence}
    open_warnings: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: rule_id -> score contribution of the rules in force, to explain grade changes
    contributions: dict[str, int] = field(default_factory=dict)
    score: int | None = None
    #: the grade in force: the regulator's while an override holds, else the computed one
    grade: str | None = None
    computed_grade: str | None = None
    overridden: str | None = None
    events_seen: int = 0
    last_event_at: str | None = None
    #: the as-of time of the rules (UTC): the latest event or timer seen
    clock: str | None = None
    #: when the rules should look again without a new event (UTC), or None
    recheck_at: str | None = None
    #: the rule set of the latest evaluation
    ruleset_version: str | None = None
    #: the models' view at the latest event {p, anomaly, version, in_force, event_id,
    #: top, unusual} (rules/learning/scorer.py), or None without a model
    model: dict[str, Any] | None = None
    #: samples waiting for their delayed label (rules/learning/samples.py)
    samples: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> bytes:
        # the fields hold plain JSON values already: no deep copy (asdict) needed
        return jsoncodec.dumpb(vars(self))

    @classmethod
    def from_json(cls, raw: str | bytes) -> EnterpriseState:
        return cls(**jsoncodec.loads(raw))

    def key_people(self) -> dict[str, list[str]]:
        """person_key -> roles held (legal_rep, officer:ROLE, shareholder) here."""
        return key_people_of(self.profile)

    def links(self) -> tuple[dict[str, list[str]], str | None]:
        """What the related-party indexes hold for this enterprise: its key people and
        its normalized address, while it is active (a deregistered firm links nothing)."""
        if self.status != "active":
            return {}, None
        address = self.profile.get("address")
        return self.key_people(), normalize_address(address) if address else None


def key_people_of(profile: dict[str, Any]) -> dict[str, list[str]]:
    """person_key -> roles of the legal representative, officers and natural-person
    shareholders named in a profile, or in any payload of the same shape
    (`enterprise.registered`, a change's `after`).

    >>> key_people_of({"legal_rep": {"name": "张三", "id_no": "11010519491231002X"},
    ...                "shareholders": [{"name": "张三", "id_no": "11010519491231002X"}]})
    {'426695a0efdb59b9eaedaf0b5ca3eddf': ['legal_rep', 'shareholder']}
    """
    people: dict[str, list[str]] = {}
    rep = profile.get("legal_rep")
    if isinstance(rep, dict) and rep.get("id_no"):
        people.setdefault(person_key(rep["id_no"]), []).append("legal_rep")
    for officer in profile.get("officers") or []:
        if isinstance(officer, dict) and officer.get("id_no"):
            role = officer.get("role") or "officer"
            people.setdefault(person_key(officer["id_no"]), []).append(f"officer:{role}")
    for holder in profile.get("shareholders") or []:
        if isinstance(holder, dict) and holder.get("id_no"):
            roles = people.setdefault(person_key(holder["id_no"]), [])
            if "shareholder" not in roles:
                roles.append("shareholder")
    return people
