"""Complaints received (12315 and other channels)."""

from __future__ import annotations

from rules.catalogue import Hit, Params, Rule, RuleInput, register
from rules.indicators.windowed import recent


def complaint_frequency(data: RuleInput, p: Params) -> Hit | None:
    """`threshold` or more complaints within the last `window_days` days.

    >>> from datetime import date
    >>> from rules.state import EnterpriseState
    >>> from rules.counters import add
    >>> s = EnterpriseState("91440300708461136T", clock="2026-03-01T00:00:00+00:00")
    >>> for d in range(1, 6):
    ...     _ = add(s.counters.setdefault("complaints", {}), date(2026, 2, d), f"c{d}")
    >>> complaint_frequency(RuleInput(s), {"threshold": 5, "window_days": 90}).message
    '5 complaints within 90 days (since 2026-02-01)'
    """
    return recent(data, "complaints", p, "{count} complaints within {days} days (since {oldest})")


register(
    Rule(
        rule_id="complaint_frequency",
        version=1,
        title="Many complaints",
        aspect="complaints",
        category="complaints",
        severity="yellow",
        deduction=5,
        basis="SAMR Measures on complaints and reports (2019); Dezhou aspect 4 (投诉举报)",
        evaluate=complaint_frequency,
        defaults={"threshold": 8, "window_days": 90},
    )
)
