"""The first rules: repeated penalties and the dishonest-debtor lists."""

from __future__ import annotations

from datetime import date

from rules.catalogue import Hit, Rule, RuleInput, register

PENALTY_WINDOW_DAYS = 365
PENALTY_THRESHOLD = 3


def penalty_frequency(data: RuleInput) -> Hit | None:
    """Three or more ordinary-procedure penalties decided within 365 days of each other.

    Revoked penalties do not count. Only decision dates matter, so the order in which
    the events arrive does not change the outcome.

    >>> from rules.state import EnterpriseState
    >>> s = EnterpriseState("91440300708461136T")
    >>> for n, day in enumerate(["2025-01-10", "2025-06-01", "2026-01-05"]):
    ...     s.penalties[f"P{n}"] = {"procedure": "ordinary", "decided_on": day,
    ...                             "event_id": f"e{n}", "revoked": False}
    >>> penalty_frequency(RuleInput(s)).evidence
    ('e0', 'e1', 'e2')
    >>> s.penalties["P1"]["revoked"] = True
    >>> penalty_frequency(RuleInput(s)) is None
    True
    """
    dated = sorted(
        (date.fromisoformat(p["decided_on"]), p["event_id"])
        for p in data.state.penalties.values()
        if p.get("procedure") == "ordinary" and not p.get("revoked") and p.get("decided_on")
    )
    best: list[tuple[date, str]] = []
    start = 0
    for end in range(len(dated)):
        while (dated[end][0] - dated[start][0]).days > PENALTY_WINDOW_DAYS:
            start += 1
        if end - start + 1 > len(best):
            best = dated[start : end + 1]
    if len(best) < PENALTY_THRESHOLD:
        return None
    return Hit(
        message=f"{len(best)} ordinary-procedure penalties within {PENALTY_WINDOW_DAYS} days "
        f"({best[0][0]} to {best[-1][0]})",
        evidence=tuple(event_id for _, event_id in best),
    )


def dishonest_enterprise(data: RuleInput) -> Hit | None:
    """The enterprise itself is on the courts' dishonest judgment-debtor list.

    >>> from rules.state import EnterpriseState
    >>> s = EnterpriseState("91440300708461136T")
    >>> dishonest_enterprise(RuleInput(s)) is None
    True
    >>> s.dishonest_cases["(2026)粤03执1号"] = {"listed_by": "c1", "removed_by": None}
    >>> dishonest_enterprise(RuleInput(s)).evidence
    ('c1',)
    """
    listed = sorted(
        (case_no, entry["listed_by"])
        for case_no, entry in data.state.dishonest_cases.items()
        if entry.get("listed_by") and not entry.get("removed_by")
    )
    if not listed:
        return None
    cases = ", ".join(case_no for case_no, _ in listed)
    return Hit(
        message=f"listed as a dishonest judgment debtor (case {cases})",
        evidence=tuple(event_id for _, event_id in listed if event_id),
    )


def dishonest_legal_rep(data: RuleInput) -> Hit | None:
    """The legal representative or an officer is a listed dishonest judgment debtor,
    whichever came first, the listing or the appointment.

    >>> from rules.state import EnterpriseState
    >>> from streams.identifiers import person_key
    >>> s = EnterpriseState("91440300708461136T")
    >>> s.profile["legal_rep"] = {"name": "张三", "id_no": "11010519491231002X"}
    >>> dishonest_legal_rep(RuleInput(s)) is None
    True
    >>> hit = dishonest_legal_rep(RuleInput(s, {person_key("11010519491231002X"): ["p1"]}))
    >>> hit.message, hit.evidence
    ('legal_rep is listed as a dishonest judgment debtor', ('p1',))
    """
    found: list[tuple[str, str]] = []
    for pkey, roles in data.state.key_people().items():
        for event_id in data.listed_people.get(pkey, ()):
            found.extend((role.split(":")[0], event_id) for role in roles)
    if not found:
        return None
    roles = sorted({role for role, _ in found})
    return Hit(
        message=f"{' and '.join(roles)} is listed as a dishonest judgment debtor",
        evidence=tuple(sorted({event_id for _, event_id in found})),
    )


register(
    Rule(
        rule_id="penalty_frequency",
        version=1,
        title="Repeated administrative penalties",
        severity="orange",
        deduction=15,
        basis="SAMR 2022 Opinions on credit-risk classification: administrative penalties",
        evaluate=penalty_frequency,
    )
)
register(
    Rule(
        rule_id="dishonest_enterprise",
        version=1,
        title="Enterprise listed as a dishonest judgment debtor",
        severity="red",
        deduction=40,
        basis="SPC Provisions on the list of dishonest judgment debtors (2017)",
        evaluate=dishonest_enterprise,
        veto_grade="D",
    )
)
register(
    Rule(
        rule_id="dishonest_legal_rep",
        version=1,
        title="Dishonest judgment debtor as legal representative or officer",
        severity="red",
        deduction=30,
        basis="Company Law 2023 Art. 178: a dishonest debtor may not serve",
        evaluate=dishonest_legal_rep,
    )
)
