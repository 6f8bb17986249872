"""Court records: the dishonest judgment-debtor lists."""

from __future__ import annotations

from rules.catalogue import Hit, Params, Rule, RuleInput, register
from rules.repair import lifted_case


def dishonest_enterprise(data: RuleInput, _p: Params) -> Hit | None:
    """The enterprise itself is on the courts' dishonest judgment-debtor list.

    Reads the cases in force (`state.open_cases`, kept in order by folding).

    >>> from rules.folding import apply_event
    >>> from rules.state import EnterpriseState
    >>> s = EnterpriseState("91440300708461136T")
    >>> dishonest_enterprise(RuleInput(s), {}) is None
    True
    >>> _ = apply_event(s, "court.dishonest_listed", {"case_no": "(2026)粤03执1号"}, "c1",
    ...                 "2026-03-01T02:00:00+00:00")
    >>> dishonest_enterprise(RuleInput(s), {}).evidence
    ('c1',)
    """
    state = data.state
    records = state.dishonest_cases
    listed = [
        (case_no, records[case_no]["listed_by"])
        for case_no in state.open_cases
        if not lifted_case(state, case_no)
    ]
    if not listed:
        return None
    cases = ", ".join(case_no for case_no, _ in listed)
    return Hit(
        message=f"listed as a dishonest judgment debtor (case {cases})",
        evidence=tuple(event_id for _, event_id in listed if event_id),
    )


def dishonest_legal_rep(data: RuleInput, _p: Params) -> Hit | None:
    """The legal representative or an officer is a listed dishonest judgment debtor,
    whichever came first, the listing or the appointment (a listed shareholder alone
    does not fire).

    >>> from rules.state import EnterpriseState
    >>> from rules.catalogue import Related
    >>> from streams.contract.identifiers import person_key
    >>> from rules.folding import apply_event
    >>> s = EnterpriseState("91440300708461136T")
    >>> _ = apply_event(s, "enterprise.registered", {"legal_rep": {"name": "张三",
    ...     "id_no": "11010519491231002X"}}, "r1", "2026-03-01T02:00:00+00:00")
    >>> dishonest_legal_rep(RuleInput(s), {}) is None
    True
    >>> hit = dishonest_legal_rep(
    ...     RuleInput(s, Related(listed_people={person_key("11010519491231002X"): ["p1"]})), {})
    >>> hit.message, hit.evidence
    ('legal_rep is listed as a dishonest judgment debtor', ('p1',))
    """
    found: list[tuple[str, str]] = []
    for pkey, roles in data.state.people.items():
        for event_id in data.related.listed_people.get(pkey, ()):
            found.extend((role.split(":")[0], event_id) for role in roles if role != "shareholder")
    if not found:
        return None
    roles = sorted({role for role, _ in found})
    return Hit(
        message=f"{' and '.join(roles)} is listed as a dishonest judgment debtor",
        evidence=tuple(sorted({event_id for _, event_id in found})),
    )


register(
    Rule(
        rule_id="dishonest_enterprise",
        version=1,
        title="Enterprise listed as a dishonest judgment debtor",
        aspect="penalties_lists",
        category="judicial",
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
        aspect="registration",
        category="key_personnel",
        severity="red",
        deduction=30,
        basis="Company Law 2023 Art. 178: a dishonest debtor may not serve",
        evaluate=dishonest_legal_rep,
    )
)
