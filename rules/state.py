"""Per-enterprise state (pure data).

The state is what the rules need to decide, nothing more: the registration profile,
the records that count (penalties, lists, permits, arrears, windowed counters) and the
open warnings. It is stored packed (`to_bytes`: msgpack compressed over a preset
dictionary, rules/compression.py, without the fields derived from the profile, which are
recomputed when it is read); a state stored as JSON before (`to_json`) still loads.
rules/folding.py is the only place that changes it, so a replay of the same events
always gives the same state. Fields added later default to empty, so older stored
states still load.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NotRequired, TypedDict

from rules import aggregates, compression, counters, jsoncodec
from rules.addresses import normalize_address
from rules.calendar import local_day
from rules.learning import vectors
from streams.contract.identifiers import id_birth_date, person_key

#: the version of the derived fields' layout: a state stored with an older one (or
#: none) has them rebuilt from its records when it is loaded
DERIVED_VERSION = 2
#: the fields `to_bytes` leaves out: derived from the profile and the records,
#: recomputed on reading (`derive`)
_DERIVED = frozenset(
    (
        "people",
        "person_links",
        "key_ages",
        "normalized_address",
        "penalty_days",
        "open_cases",
        "commendation_days",
        "permit_expiries",
        "permit_held",
        "arrears_open",
        "derived",
    )
)


class KeyAge(TypedDict):
    """The age of a legal representative or officer on the day of the event that
    named them (what `abnormal_age` judges), with that event as evidence."""

    role: str
    age: int
    day: str
    event_id: str


class Sample(TypedDict):
    """A model sample waiting for its delayed label (rules/learning/samples.py): taken
    at `at` (UTC), on Beijing day `day`, with the model's probability and the
    rules-only score then; resolved positive, it holds the cause and when."""

    at: str
    day: str
    p: float | None
    rules: int
    #: the features then, packed (rules/learning/vectors.py `pack`; as a mapping only
    #: if they are not all known features)
    x: bytes | dict[str, float]
    y: NotRequired[int]
    cause: NotRequired[str]
    resolved_at: NotRequired[str]


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
    #: warning_id -> its latest disposition (rules/dispositions.py `Judgement`), as last
    #: read from the store; rules/engine.py takes each hit as they rule
    dispositions: dict[str, Any] = field(default_factory=dict)
    #: plan_id -> the result entered for this firm's visit {result, at}
    #: (rules/entered_results.py), as last read from the store; the rules read it with
    #: the inspections
    entered_results: dict[str, Any] = field(default_factory=dict)
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
    samples: list[Sample] = field(default_factory=list)
    #: derived from the profile, kept current by rules/folding.py whenever a field they
    #: come from is set, so the rules read them instead of re-deriving them at every
    #: evaluation: person_key -> roles (`key_people_of`), its entry in the person index
    #: ("roles|instant", `person_links_of`), the key people's ages (`KeyAge`, legal
    #: representative first) and the normalized address
    people: dict[str, list[str]] = field(default_factory=dict)
    person_links: dict[str, str] = field(default_factory=dict)
    key_ages: list[KeyAge] = field(default_factory=list)
    normalized_address: str | None = None
    #: derived from the records, kept current by rules/folding.py as they change, so
    #: the rules read what can count instead of rescanning the records (rules/aggregates.py)
    penalty_days: list[list[str]] = field(default_factory=list)
    open_cases: list[str] = field(default_factory=list)
    commendation_days: list[list[str]] = field(default_factory=list)
    permit_expiries: dict[str, list[str]] = field(default_factory=dict)
    permit_held: bool = False
    arrears_open: aggregates.ArrearsOpen | None = None
    derived: int = DERIVED_VERSION

    def to_json(self) -> bytes:
        # the fields hold plain JSON values already (but the samples' packed features):
        # no deep copy (asdict) needed
        samples = [{**s, "x": vectors.unpack(s["x"])} for s in self.samples]
        return jsoncodec.dumpb({**vars(self), "samples": samples})

    @classmethod
    def from_json(cls, raw: str | bytes) -> EnterpriseState:
        fields = jsoncodec.loads(raw)
        state = cls(**fields)
        state.pack_samples()
        if fields.get("derived", 0) < DERIVED_VERSION:  # stored before these fields
            state.derive()
            for counter in state.counters.values():
                counters.sort_days(counter)
        return state

    def to_bytes(self) -> bytes:
        """The state as the store keeps it: packed and compressed, without the derived
        fields (`from_stored` recomputes them).

        >>> s = EnterpriseState("91440300708461136T", status="active", score=100)
        >>> EnterpriseState.from_stored(s.to_bytes()) == s
        True
        """
        return compression.pack_compressed(self.stored_fields(), compression.STATE)

    def stored_fields(self) -> dict[str, Any]:
        """The fields as stored: all but the derived ones."""
        fields = vars(self).copy()
        for name in _DERIVED:  # (a fifth of the CPU of a comprehension over every field)
            del fields[name]
        return fields

    @classmethod
    def from_stored(cls, raw: bytes) -> EnterpriseState:
        """A stored state: packed (`to_bytes`), or JSON as states were stored before."""
        if not compression.is_compressed(raw):
            return cls.from_json(raw)
        state = cls(**compression.unpack_compressed(raw))
        if raw[0] != compression.STATE:  # stored before the samples' features were packed
            state.pack_samples()
        state.derive()
        return state

    def pack_samples(self) -> None:
        """Pack the features of samples that hold them as a mapping (states stored
        before they were packed), as rules/learning/samples.py keeps them now."""
        for sample in self.samples:
            if isinstance(sample["x"], dict):
                sample["x"] = vectors.pack(sample["x"])

    def derive(self) -> None:
        """Recompute every derived field from the profile and the records."""
        self.derive_profile()
        aggregates.rebuild(self)

    def derive_profile(self) -> None:
        """Recompute the fields derived from the profile: a pure function of the
        records, so the same events in any order give the same values.

        >>> s = EnterpriseState("91440300708461136T", field_times={
        ...     "legal_rep": "2026-03-01T02:00:00+00:00"}, field_events={"legal_rep": "e1"})
        >>> s.profile["legal_rep"] = {"name": "张三", "id_no": "11010519491231002X"}
        >>> s.derive_profile()
        >>> s.people, s.key_ages
        ({'426695a0efdb59b9eaedaf0b5ca3eddf': ['legal_rep']}, \
[{'role': 'legal_rep', 'age': 76, 'day': '2026-03-01', 'event_id': 'e1'}])
        """
        self.people = key_people_of(self.profile)
        self.person_links = person_links_of(self.people, self.field_times)
        self.key_ages = key_ages_of(self.profile, self.field_times, self.field_events)
        address = self.profile.get("address")
        self.normalized_address = normalize_address(address) if address else None
        self.derived = DERIVED_VERSION

    def key_people(self) -> dict[str, list[str]]:
        """person_key -> roles held (legal_rep, officer:ROLE, shareholder) here."""
        return self.people

    def links(self) -> tuple[dict[str, str], str | None]:
        """What the related-party indexes hold for this enterprise: its key people's
        entries ("roles|instant") and its normalized address, while it is active (a
        deregistered firm links nothing)."""
        if self.status != "active":
            return {}, None
        return self.person_links, self.normalized_address


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


#: the profile field that gives a person each kind of role
_ROLE_FIELDS = {"legal_rep": "legal_rep", "officer": "officers", "shareholder": "shareholders"}


def person_links_of(people: dict[str, list[str]], field_times: dict[str, str]) -> dict[str, str]:
    """person_key -> the person index entry for this enterprise: the roles held and the
    event time from which they are held as they are (the latest of the fields naming
    the person; rules/related.py).

    >>> person_links_of({"k": ["legal_rep", "shareholder"]},
    ...                 {"legal_rep": "2026-03-02T06:00:00+00:00", "shareholders": "2026-01-05"})
    {'k': 'legal_rep,shareholder|2026-03-02T06:00:00+00:00'}
    """
    links = {}
    for pkey, roles in people.items():
        since = max(field_times.get(_ROLE_FIELDS[role.split(":")[0]], "") for role in roles)
        joined = ",".join(roles)
        links[pkey] = f"{joined}|{since}" if since else joined
    return links


def key_ages_of(
    profile: dict[str, Any], field_times: dict[str, str], field_events: dict[str, str]
) -> list[KeyAge]:
    """The age of the legal representative and of each officer with an ID number on
    the day the field naming them was set, in profile order.

    >>> key_ages_of({"officers": [{"id_no": "11010519491231002X", "role": "director"}]},
    ...             {"officers": "2026-03-01T02:00:00+00:00"}, {})
    [{'role': 'director', 'age': 76, 'day': '2026-03-01', 'event_id': ''}]
    """
    people = [("legal_rep", profile.get("legal_rep"))]
    people += [("officers", officer) for officer in profile.get("officers") or []]
    ages: list[KeyAge] = []
    for field_name, person in people:
        at = field_times.get(field_name)
        if not isinstance(person, dict) or not person.get("id_no") or not at:
            continue
        day = local_day(at)
        birth = id_birth_date(person["id_no"])
        age = day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))
        role = "legal_rep" if field_name == "legal_rep" else person.get("role") or "officer"
        ages.append(
            KeyAge(
                role=role, age=age, day=day.isoformat(), event_id=field_events.get(field_name, "")
            )
        )
    return ages
