"""Permits: expiring ones, and the post-registration permit that never came (双告知)."""

from __future__ import annotations

from datetime import date, timedelta

from rules.calendar import local_day
from rules.catalogue import Hit, Params, Rule, RuleInput, register

#: GB/T 4754 classes whose business needs a permit after registration (food, drugs,
#: telecoms, construction, transport, discharge); override per region in the rules file
PERMIT_INDUSTRIES = [
    "I6450", "F5212", "F5213", "H6210", "H6220", "E4710", "C3982", "G5431", "F5123", "F5251",
]  # fmt: skip


def permit_expiring(data: RuleInput, p: Params) -> Hit | None:
    """A kind of permit the firm holds expires within `days_before` days (许可证临期),
    or has expired, with no renewal: for each kind, the latest expiry among its permits
    not revoked counts (a renewal is a new grant of the same kind), as folding keeps it
    (`state.permit_expiries`). It fires on the day itself, by timer, not only when
    another event for the firm arrives.

    >>> from rules.folding import apply_event
    >>> from rules.state import EnterpriseState
    >>> s = EnterpriseState("91440300708461136T", status="active")
    >>> _ = apply_event(s, "permit.granted", {"permit_no": "JY1", "kind": "食品经营许可证",
    ...                 "valid_until": "2026-07-01"}, "g1", "2025-07-01T02:00:00+00:00")
    >>> s.clock = "2026-05-01T00:00:00+00:00"
    >>> data = RuleInput(s)
    >>> permit_expiring(data, {"days_before": 30}) is None, data.rechecks
    (True, [datetime.date(2026, 6, 1)])
    >>> s.clock = "2026-06-01T00:00:00+00:00"
    >>> permit_expiring(RuleInput(s), {"days_before": 30}).message
    '食品经营许可证 expires on 2026-07-01'
    """
    today = data.today
    if today is None or data.state.status != "active":
        return None
    found = []
    for kind, (valid_until, event_id) in sorted(data.state.permit_expiries.items()):
        until = date.fromisoformat(valid_until)
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
    """Registered in an industry that needs a permit after registration and no
    `permit.granted` within `grace_days` of establishment (双告知). Only firms watched
    since they were established are judged (registered within `grace_days` of their
    `established_on`): for firms loaded later, earlier permits are unknown. A permit
    granted late clears it.

    >>> from rules.folding import apply_event
    >>> from rules.state import EnterpriseState
    >>> s = EnterpriseState("91440300708461136T", status="active",
    ...                     registered_at="2026-03-02T01:00:00+00:00",
    ...                     clock="2026-03-20T00:00:00+00:00")
    >>> s.profile = {"industry": "F5212", "established_on": "2026-03-02"}
    >>> s.field_events["industry"] = "r1"
    >>> params = {"industries": ["F5212"], "grace_days": 30}
    >>> data = RuleInput(s)
    >>> permit_missing(data, params) is None, data.rechecks
    (True, [datetime.date(2026, 4, 1)])
    >>> s.clock = "2026-04-01T00:00:00+00:00"
    >>> permit_missing(RuleInput(s), params).message
    'industry F5212 needs a permit; none granted by 2026-04-01'
    >>> _ = apply_event(s, "permit.granted", {"permit_no": "X1", "kind": "K",
    ...                 "valid_until": None}, "g1", "2026-04-02T02:00:00+00:00")
    >>> permit_missing(RuleInput(s), params) is None
    True
    """
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
    if state.permit_held:  # a permit granted and not revoked (rules/aggregates.py)
        return None
    if today < due:
        data.recheck(due)
        return None
    return Hit(
        message=f"industry {profile['industry']} needs a permit; none granted by {due}",
        evidence=(state.field_events.get("industry", ""),),
    )


register(
    Rule(
        rule_id="permit_expiring",
        version=1,
        title="Permit close to expiry",
        aspect="registration",
        category="permits",
        severity="yellow",
        deduction=3,
        basis="Administrative Licensing Law art. 50 (renewal 30 days before expiry)",
        evaluate=permit_expiring,
        defaults={"days_before": 30},
    )
)
register(
    Rule(
        rule_id="permit_missing",
        version=1,
        title="No post-registration permit (双告知)",
        aspect="registration",
        category="permits",
        severity="orange",
        deduction=10,
        basis="State Council Guo Fa [2015] 62 and SAMR 双告知 practice: permit after registration",
        evaluate=permit_missing,
        defaults={"industries": PERMIT_INDUSTRIES, "grace_days": 30},
    )
)
