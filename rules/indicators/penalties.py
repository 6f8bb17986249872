"""Administrative penalties, counted while they are public (rules/clocks.py)."""

from __future__ import annotations

from datetime import date

from rules.calendar import add_months
from rules.catalogue import Hit, Params, Rule, RuleInput, register
from rules.clocks import PENALTY_MONTHS, penalty_expiry
from rules.repair import lifted_penalty


def _counting(data: RuleInput, small_fine: float | None) -> list[tuple[date, date, str, str]]:
    """(decided, expires, decision_no, event_id) of the penalties that count today:
    ordinary procedure, decided by today, not yet expired, revoked or repaired. Asks
    for a recheck on the day the next one starts or stops counting. Reads the
    penalties that may count (`state.penalty_days`, in day order) from the newest back,
    and stops at the first whose longest publicity is over: every older one is too."""
    today, state = data.today, data.state
    if today is None:
        return []
    found = []
    for decided_on, decision_no in reversed(state.penalty_days):
        decided = date.fromisoformat(decided_on)
        if add_months(decided, PENALTY_MONTHS) <= today:
            break
        if lifted_penalty(state, decision_no):
            continue
        penalty = state.penalties[decision_no]
        expires = penalty_expiry(decided, penalty, small_fine)
        if today < decided:
            data.recheck(decided)
        elif today < expires:
            data.recheck(expires)
            found.append((decided, expires, decision_no, penalty["event_id"]))
    found.sort()
    return found


def penalty_record(data: RuleInput, p: Params) -> Hit | None:
    """At least one administrative penalty in its publicity period: ordinary procedure,
    3 years from its decision, or 3 months for circulated criticism and/or a fine of at
    most `small_fine`. It scores without warning (a penalty is news when decided; the
    grade carries it for as long as it is public).

    >>> from rules.folding import apply_event
    >>> from rules.state import EnterpriseState
    >>> s = EnterpriseState("91440300708461136T", clock="2029-02-28T10:00:00+00:00")
    >>> _ = apply_event(s, "penalty.decided", {"decision_no": "P1", "procedure": "ordinary",
    ...     "decided_on": "2026-03-01", "measures": ["fine"], "amount": 50000.0}, "e1",
    ...     "2026-03-01T02:00:00+00:00")
    >>> data = RuleInput(s)
    >>> penalty_record(data, {"small_fine": 30000.0}).message, data.rechecks
    ('1 penalty in its publicity period: P1 (until 2029-02-28)', [datetime.date(2029, 3, 1)])
    >>> s.clock = "2029-02-28T16:00:00+00:00"   # 1 March 2029, 00:00 in Beijing
    >>> penalty_record(RuleInput(s), {"small_fine": 30000.0}) is None
    True
    """
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
    """`threshold` or more ordinary-procedure penalties decided within `window_days` of
    each other, each within 3 years of its decision (a repeat offender's small fines
    count too), not revoked or repaired. Only decision dates matter, so the order in
    which the events arrive does not change the outcome.

    >>> from rules.folding import apply_event
    >>> from rules.state import EnterpriseState
    >>> s = EnterpriseState("91440300708461136T")
    >>> for n, day in enumerate(["2025-01-10", "2025-06-01", "2026-01-05"]):
    ...     _ = apply_event(s, "penalty.decided", {"decision_no": f"P{n}", "procedure":
    ...         "ordinary", "decided_on": day, "measures": ["fine"], "amount": 1e5}, f"e{n}",
    ...         f"{day}T02:00:00+00:00")
    >>> s.clock = "2026-02-01T00:00:00+00:00"
    >>> params = {"threshold": 3, "window_days": 365}
    >>> penalty_frequency(RuleInput(s), params).evidence
    ('e0', 'e1', 'e2')
    >>> _ = apply_event(s, "penalty.revoked", {"decision_no": "P1"}, "r1", s.clock)
    >>> penalty_frequency(RuleInput(s), params) is None
    True
    """
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


_BASIS = "SAMR 2022 Opinions on credit-risk classification; SAMR Order 45 (2021) on publicity"
#: the small fine of SAMR Order 45 art. 14 is set by each province; one value per rule set
SMALL_FINE = 30000.0
register(
    Rule(
        rule_id="penalty_frequency",
        version=3,
        title="Repeated administrative penalties",
        aspect="penalties_lists",
        category="penalties",
        severity="orange",
        deduction=15,
        basis=_BASIS,
        evaluate=penalty_frequency,
        defaults={"threshold": 3, "window_days": 365},
    )
)
register(
    Rule(
        rule_id="penalty_record",
        version=1,
        title="Administrative penalty in its publicity period",
        aspect="penalties_lists",
        category="penalties",
        severity=None,
        deduction=10,
        basis=_BASIS,
        evaluate=penalty_record,
        defaults={"small_fine": SMALL_FINE},
    )
)
