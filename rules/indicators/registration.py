"""Key personnel and registration changes."""

from __future__ import annotations

from rules.catalogue import Hit, Params, Rule, RuleInput, register
from rules.indicators.windowed import recent


def abnormal_age(data: RuleInput, p: Params) -> Hit | None:
    """The legal representative or an officer is younger than `min_age` or older than
    `max_age` on the date of the event that made them so (主要人员年龄异常); the age
    comes from the ID number's birth date, worked out once when the event is folded
    (`EnterpriseState.key_ages`).

    >>> from rules.folding import apply_event
    >>> from rules.state import EnterpriseState
    >>> s = EnterpriseState("91440300708461136T")
    >>> _ = apply_event(s, "enterprise.registered", {"legal_rep": {"name": "张三",
    ...     "id_no": "11010519491231002X"}}, "e1", "2026-03-01T02:00:00+00:00")
    >>> abnormal_age(RuleInput(s), {"min_age": 18, "max_age": 75}).message
    'legal_rep aged 76 on 2026-03-01'
    >>> abnormal_age(RuleInput(s), {"min_age": 18, "max_age": 80}) is None
    True
    """
    low, high = p["min_age"], p["max_age"]
    found = [a for a in data.state.key_ages if a["age"] < low or a["age"] > high]
    if not found:
        return None
    return Hit(
        message="; ".join(f"{a['role']} aged {a['age']} on {a['day']}" for a in found),
        evidence=tuple(sorted({a["event_id"] for a in found if a["event_id"]})),
    )


def frequent_changes(data: RuleInput, p: Params) -> Hit | None:
    """`threshold` or more changes of legal representative or shareholders within the
    last `window_days` (频繁变更), counted in event time; the warning closes when the
    window has moved past them.

    >>> from rules.state import EnterpriseState
    >>> from datetime import date
    >>> from rules.counters import add
    >>> s = EnterpriseState("91440300708461136T", clock="2026-06-01T00:00:00+00:00")
    >>> c = s.counters.setdefault("changes", {})
    >>> for n, day in enumerate([date(2026, 1, 10), date(2026, 3, 1), date(2026, 5, 20)]):
    ...     _ = add(c, day, f"c{n}")
    >>> data = RuleInput(s)
    >>> frequent_changes(data, {"threshold": 3, "window_days": 180}).evidence
    ('c0', 'c1', 'c2')
    >>> data.rechecks     # when 2026-01-10 leaves the window
    [datetime.date(2026, 7, 9)]
    """
    message = (
        "{count} changes of legal representative or shareholders within {days} days "
        "(since {oldest})"
    )
    return recent(data, "changes", p, message)


register(
    Rule(
        rule_id="abnormal_age",
        version=1,
        title="Key personnel of abnormal age",
        aspect="registration",
        category="key_personnel",
        severity="yellow",
        deduction=5,
        basis="Civil Code art. 18 (full capacity at 18); Qianhai practice (主要人员年龄异常)",
        evaluate=abnormal_age,
        defaults={"min_age": 18, "max_age": 75},
    )
)
register(
    Rule(
        rule_id="frequent_changes",
        version=1,
        title="Frequent changes of legal representative or shareholders",
        aspect="operation",
        category="changes",
        severity="yellow",
        deduction=8,
        basis="SAMR 2022 Opinions: registration changes as a risk indicator (频繁变更)",
        evaluate=frequent_changes,
        defaults={"threshold": 3, "window_days": 180},
    )
)
