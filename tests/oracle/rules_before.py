"""The rule implementations that rescanned the state's lists at every evaluation, kept
as they were as the oracle of the incremental ones (tests/oracle/test_incremental_rules.py).

Verbatim but for the imports, the docstrings' examples and the key people, read from
the profile as `EnterpriseState.key_people()` then did (the catalogue's functions
carry the running examples now). `ORACLE` maps each rule id to its old function: the
windowed rules all went through `recent` and the old `in_window`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from rules import counters
from rules.calendar import local_day
from rules.catalogue import Hit, Params, RuleInput
from rules.state import key_people_of
from streams.contract.identifiers import id_birth_date

Counter = counters.Counter


def in_window(counter: Counter, until: date, days: int) -> tuple[int, date | None, list[str]]:
    """Events in the `days` days ending on `until` (inclusive): their number, the
    oldest day with one, and the evidence ids kept for that window.
    """
    low = (until - timedelta(days=days - 1)).isoformat()
    high = until.isoformat()
    inside = [k for k in counter.get("days", {}) if low <= k <= high]
    if not inside:
        return 0, None, []
    count = sum(counter["days"][k] for k in inside)
    evidence = [eid for k, eid in counter.get("last", []) if low <= k <= high]
    return count, date.fromisoformat(min(inside)), evidence


def recent(data: RuleInput, name: str, p: Params, message: str) -> Hit | None:
    """A hit when counter `name` reaches `p["threshold"]` in the `p["window_days"]`
    days up to the as-of day, with its entries as evidence and `message` formatted with
    `count`, `days` and `oldest`; it then asks for a recheck on the day the oldest of
    them leaves the window (the verdict may change without an event)."""
    days = p["window_days"]
    today, counter = data.today, data.state.counters.get(name)
    if today is None or not counter:
        return None
    count, oldest, evidence = in_window(counter, today, days)
    if count < p["threshold"] or oldest is None:
        return None
    data.recheck(counters.window_ends(oldest, days))
    return Hit(message.format(count=count, days=days, oldest=oldest), tuple(evidence))


def _age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def abnormal_age(data: RuleInput, p: Params) -> Hit | None:
    """The legal representative or an officer is younger than `min_age` or older than
    `max_age` on the date of the event that made them so (主要人员年龄异常); the age
    comes from the ID number's birth date.
    """
    state, found, evidence = data.state, [], []
    people = [("legal_rep", state.profile.get("legal_rep"))]
    people += [("officers", officer) for officer in state.profile.get("officers") or []]
    for field_name, person in people:
        at = state.field_times.get(field_name)
        if not isinstance(person, dict) or not person.get("id_no") or not at:
            continue
        day = local_day(at)
        age = _age_on(id_birth_date(person["id_no"]), day)
        if age < p["min_age"] or age > p["max_age"]:
            role = "legal_rep" if field_name == "legal_rep" else person.get("role") or "officer"
            found.append(f"{role} aged {age} on {day}")
            evidence.append(state.field_events.get(field_name, ""))
    if not found:
        return None
    return Hit(message="; ".join(found), evidence=tuple(sorted({e for e in evidence if e})))


def _listing(usccs: list[str], limit: int = 8) -> str:
    shown = ", ".join(sorted(usccs)[:limit])
    return shown + (f" and {len(usccs) - limit} more" if len(usccs) > limit else "")


def address_cluster(data: RuleInput, p: Params) -> Hit | None:
    """`active_threshold` or more active enterprises at one normalized address, or
    `new_threshold` or more that arrived there (established, or moved in) within the
    last `new_window_days` days. Addresses on the allow-list (approved incubators and
    business centres) never fire. Every enterprise of the cluster gets the warning.
    """
    state, today = data.state, data.today
    firms = data.related.address_firms
    if state.status != "active" or data.related.address_allowed or today is None or not firms:
        return None
    evidence = (state.field_events.get("address", ""),)
    if len(firms) >= p["active_threshold"]:
        return Hit(f"{len(firms)} active enterprises at this address: {_listing(list(firms))}",
                   evidence)  # fmt: skip
    window = p["new_window_days"]
    arrivals = sorted((date.fromisoformat(day), uscc) for uscc, day in firms.items() if day)
    # judged as of the newest arrival when it is later than this firm's clock, so every
    # firm of the address sees the same window whatever order their events came in
    until = max(today, arrivals[-1][0]) if arrivals else today
    since = until - timedelta(days=window - 1)
    recent = [(day, uscc) for day, uscc in arrivals if since <= day <= until]
    if len(recent) < p["new_threshold"]:
        return None
    # it clears when the oldest arrival that keeps the count at the threshold leaves
    data.recheck(recent[-p["new_threshold"]][0] + timedelta(days=window))
    return Hit(
        f"{len(recent)} enterprises arrived at this address within {window} days: "
        f"{_listing([u for _, u in recent])}",
        evidence,
    )


def person_many_firms(data: RuleInput, p: Params) -> Hit | None:
    """A key person of this enterprise is legal representative of
    `legal_rep_threshold` or more active enterprises, or officer of
    `officer_threshold` or more (一人多企). Every one of those firms gets the warning.
    """
    state = data.state
    if state.status != "active":
        return None
    found, evidence = [], set()
    for pkey, roles in key_people_of(state.profile).items():
        held = data.related.person_firms.get(pkey, {})
        as_rep = [u for u, r in held.items() if "legal_rep" in r.split(",")]
        as_officer = [u for u, r in held.items() if "officer:" in r]
        if "legal_rep" in roles and len(as_rep) >= p["legal_rep_threshold"]:
            found.append(f"legal representative of {len(as_rep)} active enterprises: "
                         f"{_listing(as_rep)}")  # fmt: skip
            evidence.add(state.field_events.get("legal_rep", ""))
        if (
            any(r.startswith("officer:") for r in roles)
            and len(as_officer) >= p["officer_threshold"]
        ):
            found.append(f"officer of {len(as_officer)} active enterprises: {_listing(as_officer)}")
            evidence.add(state.field_events.get("officers", ""))
    if not found:
        return None
    return Hit("; ".join(found), tuple(sorted(e for e in evidence if e)))


def dishonest_legal_rep(data: RuleInput, _p: Params) -> Hit | None:
    """The legal representative or an officer is a listed dishonest judgment debtor,
    whichever came first, the listing or the appointment (a listed shareholder alone
    does not fire).
    """
    found: list[tuple[str, str]] = []
    for pkey, roles in key_people_of(data.state.profile).items():
        for event_id in data.related.listed_people.get(pkey, ()):
            found.extend((role.split(":")[0], event_id) for role in roles if role != "shareholder")
    if not found:
        return None
    roles = sorted({role for role, _ in found})
    return Hit(
        message=f"{' and '.join(roles)} is listed as a dishonest judgment debtor",
        evidence=tuple(sorted({event_id for _, event_id in found})),
    )


Evaluate = Callable[[RuleInput, Params], Hit | None]

_CHANGES = (
    "{count} changes of legal representative or shareholders within {days} days (since {oldest})"
)
_COMPLAINTS = "{count} complaints within {days} days (since {oldest})"
_TAX = "{count} tax violation case(s) since {oldest}"
_SOCIAL = "{count} social-insurance arrears report(s) since {oldest}"

#: rule id -> the implementation it had before it read incremental aggregates
ORACLE: dict[str, Evaluate] = {
    "abnormal_age": abnormal_age,
    "address_cluster": address_cluster,
    "person_many_firms": person_many_firms,
    "dishonest_legal_rep": dishonest_legal_rep,
    "frequent_changes": lambda d, p: recent(d, "changes", p, _CHANGES),
    "complaint_frequency": lambda d, p: recent(d, "complaints", p, _COMPLAINTS),
    "tax_violation": lambda d, p: recent(d, "tax_violations", p, _TAX),
    "social_insurance_arrears": lambda d, p: recent(d, "si_arrears", p, _SOCIAL),
}
