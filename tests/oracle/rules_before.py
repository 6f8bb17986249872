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
from rules.calendar import add_months, local_day
from rules.catalogue import Hit, Params, RuleInput
from rules.clocks import penalty_window
from rules.repair import lifted_case, lifted_penalty
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


# -- the rules that rescanned the enterprise's own records (rules/aggregates.py now) ----


def _counting(data: RuleInput, small_fine: float | None) -> list[tuple[date, date, str, str]]:
    today, state = data.today, data.state
    if today is None:
        return []
    found = []
    for decision_no, penalty in state.penalties.items():
        window = penalty_window(penalty, small_fine)
        if window is None or lifted_penalty(state, decision_no):
            continue
        decided, expires = window
        if today < decided:
            data.recheck(decided)
        elif today < expires:
            data.recheck(expires)
            found.append((decided, expires, decision_no, penalty["event_id"]))
    return sorted(found)


def penalty_record(data: RuleInput, p: Params) -> Hit | None:
    found = _counting(data, p["small_fine"])
    if not found:
        return None
    listing = ", ".join(
        f"{no} (until {date.fromordinal(expires.toordinal() - 1)})" for _, expires, no, _ in found
    )
    noun = "penalty" if len(found) == 1 else "penalties"
    return Hit(
        f"{len(found)} {noun} in its publicity period: {listing}",
        tuple(event_id for *_, event_id in found),
    )


def penalty_frequency(data: RuleInput, p: Params) -> Hit | None:
    window = p["window_days"]
    dated = [(decided, event_id) for decided, _, _, event_id in _counting(data, None)]
    best: list[tuple[date, str]] = []
    start = 0
    for end in range(len(dated)):
        while (dated[end][0] - dated[start][0]).days > window:
            start += 1
        if end - start + 1 > len(best):
            best = dated[start : end + 1]
    if len(best) < p["threshold"]:
        return None
    return Hit(
        message=f"{len(best)} ordinary-procedure penalties within {window} days "
        f"({best[0][0]} to {best[-1][0]})",
        evidence=tuple(event_id for _, event_id in best),
    )


def dishonest_enterprise(data: RuleInput, _p: Params) -> Hit | None:
    state = data.state
    listed = sorted(
        (case_no, entry["listed_by"])
        for case_no, entry in state.dishonest_cases.items()
        if entry.get("listed_by")
        and not entry.get("removed_by")
        and not lifted_case(state, case_no)
    )
    if not listed:
        return None
    cases = ", ".join(case_no for case_no, _ in listed)
    return Hit(
        message=f"listed as a dishonest judgment debtor (case {cases})",
        evidence=tuple(event_id for _, event_id in listed if event_id),
    )


def commended(data: RuleInput, p: Params) -> Hit | None:
    today = data.today
    if today is None:
        return None
    found = []
    for event_id, award in data.state.commendations.items():
        on = date.fromisoformat(award["on"])
        until = add_months(on, p["months"])
        if on <= today < until:
            data.recheck(until)
            found.append((on, award.get("title") or "", event_id))
    if not found:
        return None
    found.sort()
    titles = "; ".join(f"{title} ({on})" for on, title, _ in found)
    return Hit(f"commended: {titles}", tuple(event_id for *_, event_id in found))


def permit_expiring(data: RuleInput, p: Params) -> Hit | None:
    today = data.today
    if today is None or data.state.status != "active":
        return None
    latest: dict[str, tuple[date, str]] = {}
    lasting: set[str] = set()  # kinds with a permit that does not expire
    for permit in data.state.permits.values():
        if permit.get("revoked") or not permit.get("kind"):
            continue
        if permit.get("valid_until") is None:
            lasting.add(permit["kind"])
            continue
        until = date.fromisoformat(permit["valid_until"])
        if permit["kind"] not in latest or until > latest[permit["kind"]][0]:
            latest[permit["kind"]] = (until, permit["event_id"])
    found = []
    for kind, (until, event_id) in sorted(latest.items()):
        if kind in lasting:
            continue
        warn_from = until - timedelta(days=p["days_before"])
        if today < warn_from:
            data.recheck(warn_from)
            continue
        verb = "expires" if today <= until else "expired"
        found.append((f"{kind} {verb} on {until}", event_id))
    if not found:
        return None
    return Hit(message="; ".join(m for m, _ in found), evidence=tuple(e for _, e in found))


def permit_missing(data: RuleInput, p: Params) -> Hit | None:
    state, today = data.state, data.today
    profile = state.profile
    if (
        today is None
        or state.status != "active"
        or profile.get("industry") not in p["industries"]
        or not profile.get("established_on")
        or not state.registered_at
    ):
        return None
    established = date.fromisoformat(profile["established_on"])
    due = established + timedelta(days=p["grace_days"])
    if local_day(state.registered_at) > due:
        return None  # loaded after the fact: its permits may predate our records
    if any(x.get("granted") and not x.get("revoked") for x in state.permits.values()):
        return None
    if today < due:
        data.recheck(due)
        return None
    return Hit(
        message=f"industry {profile['industry']} needs a permit; none granted by {due}",
        evidence=(state.field_events.get("industry", ""),),
    )


def tax_arrears(data: RuleInput, p: Params) -> Hit | None:
    today = data.today
    open_ = [
        (x["since"], x["amount"], x["event_id"])
        for x in data.state.tax_arrears.values()
        if not x.get("cleared") and x.get("since")
    ]
    if today is None or not open_:
        return None
    total = sum(amount for _, amount, _ in open_)
    oldest = date.fromisoformat(min(since for since, _, _ in open_))
    overdue_on = oldest + timedelta(days=p["max_days"] + 1)
    if total < p["min_amount"] and today < overdue_on:
        data.recheck(overdue_on)
        return None
    return Hit(
        message=f"{total:,.0f} CNY of tax arrears outstanding, the oldest since {oldest}",
        evidence=tuple(eid for _, _, eid in sorted(open_)),
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
    "penalty_record": penalty_record,
    "penalty_frequency": penalty_frequency,
    "dishonest_enterprise": dishonest_enterprise,
    "commended": commended,
    "permit_expiring": permit_expiring,
    "permit_missing": permit_missing,
    "tax_arrears": tax_arrears,
}
