"""Related-party patterns, read from the address and person indexes: many firms at one
address (一址多照) and one person behind many firms (一人多企)."""

from __future__ import annotations

from datetime import date, timedelta

from rules.catalogue import Hit, Params, Rule, RuleInput, register


def _listing(usccs: list[str], limit: int = 8) -> str:
    shown = ", ".join(sorted(usccs)[:limit])
    return shown + (f" and {len(usccs) - limit} more" if len(usccs) > limit else "")


def address_cluster(data: RuleInput, p: Params) -> Hit | None:
    """`active_threshold` or more active enterprises at one normalized address, or
    `new_threshold` or more that arrived there (established, or moved in) within the
    last `new_window_days` days. Addresses on the allow-list (approved incubators and
    business centres) never fire. Every enterprise of the cluster gets the warning.

    >>> from rules.catalogue import Related
    >>> from rules.state import EnterpriseState
    >>> s = EnterpriseState("91440300708461136T", status="active",
    ...                     clock="2026-03-20T00:00:00+00:00")
    >>> s.field_events["address"] = "r1"
    >>> firms = {"A": "2026-03-01", "B": "2026-03-10", "91440300708461136T": "2026-03-19"}
    >>> params = {"active_threshold": 5, "new_threshold": 3, "new_window_days": 30}
    >>> data = RuleInput(s, Related(address_firms=firms))
    >>> address_cluster(data, params).message
    '3 enterprises arrived at this address within 30 days: 91440300708461136T, A, B'
    >>> data.rechecks     # when the burst is over: 30 days after the earliest of the three
    [datetime.date(2026, 3, 31)]
    >>> allowed = Related(address_firms=firms, address_allowed=True)
    >>> address_cluster(RuleInput(s, allowed), params) is None
    True
    """
    state, today = data.state, data.today
    firms = data.related.address_firms
    if state.status != "active" or data.related.address_allowed or today is None or not firms:
        return None
    evidence = (state.field_events.get("address", ""),)
    if len(firms) >= p["active_threshold"]:
        return Hit(f"{len(firms)} active enterprises at this address: {_listing(list(firms))}",
                   evidence)  # fmt: skip
    if len(firms) < p["new_threshold"]:  # too few firms there for any burst
        return None
    window = p["new_window_days"]
    # ISO days compare as text: no parsing, and no sort unless the burst is there.
    # Judged as of the newest arrival when it is later than this firm's clock, so every
    # firm of the address sees the same window whatever order their events came in
    newest = max(filter(None, firms.values()), default="")
    until = max(today.isoformat(), newest)
    since = (date.fromisoformat(until) - timedelta(days=window - 1)).isoformat()
    recent = [(day, uscc) for uscc, day in firms.items() if day and since <= day <= until]
    if len(recent) < p["new_threshold"]:
        return None
    recent.sort()
    # it clears when the oldest arrival that keeps the count at the threshold leaves
    data.recheck(date.fromisoformat(recent[-p["new_threshold"]][0]) + timedelta(days=window))
    return Hit(
        f"{len(recent)} enterprises arrived at this address within {window} days: "
        f"{_listing([u for _, u in recent])}",
        evidence,
    )


def person_many_firms(data: RuleInput, p: Params) -> Hit | None:
    """A key person of this enterprise is legal representative of
    `legal_rep_threshold` or more active enterprises, or officer of
    `officer_threshold` or more (一人多企). Every one of those firms gets the warning.

    >>> from rules.catalogue import Related
    >>> from rules.state import EnterpriseState
    >>> from rules.folding import apply_event
    >>> s = EnterpriseState("91440300708461136T")
    >>> _ = apply_event(s, "enterprise.registered", {"legal_rep": {"name": "张三",
    ...     "id_no": "11010519491231002X"}}, "r1", "2026-03-01T02:00:00+00:00")
    >>> pk = next(iter(s.people))
    >>> firms = {pk: {f"F{n}": "legal_rep" for n in range(4)} | {s.uscc: "legal_rep"}}
    >>> person_many_firms(RuleInput(s, Related(person_firms=firms)),
    ...                   {"legal_rep_threshold": 5, "officer_threshold": 10}).message
    'legal representative of 5 active enterprises: 91440300708461136T, F0, F1, F2, F3'
    """
    state = data.state
    if state.status != "active":
        return None
    found, evidence = [], set()
    # a person with fewer firms than either threshold cannot reach it: most people
    # hold one or two, so their firms are not looked at (only a crowd is listed)
    least = min(p["legal_rep_threshold"], p["officer_threshold"])
    for pkey, roles in state.people.items():
        held = data.related.person_firms.get(pkey, {})
        if len(held) < least:
            continue
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


register(
    Rule(
        rule_id="address_cluster",
        version=1,
        title="Many enterprises at one address (一址多照)",
        aspect="registration",
        category="address",
        severity="orange",
        deduction=10,
        basis="SAMR registration practice on 一址多照; approved cluster addresses exempt",
        evaluate=address_cluster,
        defaults={"active_threshold": 5, "new_threshold": 3, "new_window_days": 30},
    )
)
register(
    Rule(
        rule_id="person_many_firms",
        version=1,
        title="One person behind many enterprises (一人多企)",
        aspect="registration",
        category="key_personnel",
        severity="orange",
        deduction=10,
        basis="Qianhai shell-company screening: shared legal representatives and officers",
        evaluate=person_many_firms,
        defaults={"legal_rep_threshold": 5, "officer_threshold": 10},
    )
)
