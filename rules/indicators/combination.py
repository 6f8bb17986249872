"""Combinations of other indicators: shell and zombie companies (空壳企业)."""

from __future__ import annotations

from rules.catalogue import Hit, Params, Rule, RuleInput, register


def shell_company(data: RuleInput, p: Params) -> Hit | None:
    """A structural sign (`structure`: by default an address cluster or one person
    behind many firms) together with a sign of no real business (`signals`: by default
    an all-zero annual report, unreachable, or the abnormal list), as Qianhai found its
    shell firms. Reads the verdicts of the rules evaluated before it.

    >>> from rules.state import EnterpriseState
    >>> s = EnterpriseState("91440300708461136T")
    >>> data = RuleInput(s, hits={"address_cluster": Hit("5 firms", ("r1",)),
    ...                           "zero_annual_report": Hit("zero", ("a1",))})
    >>> params = {"structure": ["address_cluster", "person_many_firms"],
    ...           "signals": ["zero_annual_report", "unreachable", "abnormal_list"]}
    >>> shell_company(data, params).message
    'shell-company pattern: address_cluster with zero_annual_report'
    """
    structure = [r for r in p["structure"] if r in data.hits]
    signals = [r for r in p["signals"] if r in data.hits]
    if not structure or not signals:
        return None
    evidence = sorted({e for r in structure + signals for e in data.hits[r].evidence if e})
    return Hit(
        f"shell-company pattern: {' and '.join(structure)} with {' and '.join(signals)}",
        tuple(evidence),
    )


register(
    Rule(
        rule_id="shell_company",
        version=1,
        title="Shell company pattern (空壳企业)",
        aspect="operation",
        category="combination",
        severity="red",
        deduction=25,
        basis="Qianhai practice: shell firms by shared address and officers plus no activity",
        evaluate=shell_company,
        defaults={
            "structure": ["address_cluster", "person_many_firms"],
            "signals": ["zero_annual_report", "unreachable", "abnormal_list"],
        },
    )
)
