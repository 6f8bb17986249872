"""Administrative penalties."""

from __future__ import annotations

from datetime import date

from rules.catalogue import Hit, Params, Rule, RuleInput, register


def penalty_frequency(data: RuleInput, p: Params) -> Hit | None:
    """`threshold` or more ordinary-procedure penalties decided within `window_days` of
    each other. Revoked or repaired penalties do not count. Only decision dates matter,
    so the order in which the events arrive does not change the outcome.

    >>> from rules.state import EnterpriseState
    >>> s = EnterpriseState("91440300708461136T")
    >>> for n, day in enumerate(["2025-01-10", "2025-06-01", "2026-01-05"]):
    ...     s.penalties[f"P{n}"] = {"procedure": "ordinary", "decided_on": day,
    ...                             "event_id": f"e{n}", "revoked": False}
    >>> params = {"threshold": 3, "window_days": 365}
    >>> penalty_frequency(RuleInput(s), params).evidence
    ('e0', 'e1', 'e2')
    >>> s.penalties["P1"]["revoked"] = True
    >>> penalty_frequency(RuleInput(s), params) is None
    True
    """
    window = p["window_days"]
    dated = sorted(
        (date.fromisoformat(x["decided_on"]), x["event_id"])
        for x in data.state.penalties.values()
        if x.get("procedure") == "ordinary"
        and x.get("decided_on")
        and not x.get("revoked")
        and not x.get("repaired_by")
    )
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


register(
    Rule(
        rule_id="penalty_frequency",
        version=2,
        title="Repeated administrative penalties",
        aspect="penalties_lists",
        category="penalties",
        severity="orange",
        deduction=15,
        basis="SAMR 2022 Opinions on credit-risk classification: administrative penalties",
        evaluate=penalty_frequency,
        defaults={"threshold": 3, "window_days": 365},
    )
)
