"""One event through the rules: fold it into the state, evaluate every rule, and say
what changed (warnings raised or closed, the new score and grade). Pure: the caller
loads the inputs and commits the outcome."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from rules.catalogue import RULESET_VERSION, Hit, Rule, RuleInput, all_rules
from rules.grading import grade
from rules.state import EnterpriseState, apply_event

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    state: EnterpriseState
    warnings: list[dict[str, Any]] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    grade_change: dict[str, Any] | None = None
    #: (rule_id, error) for rules that raised; their previous status is kept
    rule_errors: list[tuple[str, str]] = field(default_factory=list)


def warning_id(uscc: str, rule_id: str, event_id: str) -> str:
    """Deterministic, so a replay raises the same warning under the same id."""
    return hashlib.sha1(f"{uscc}|{rule_id}|{event_id}".encode()).hexdigest()[:24]


def process_event(
    state: EnterpriseState,
    *,
    etype: str,
    payload: dict[str, Any],
    event_id: str,
    occurred_at: datetime,
    now: datetime,
    listed_people: Mapping[str, list[str]],
    rules: list[Rule] | None = None,
) -> Outcome:
    """Apply one event and re-evaluate the enterprise.

    >>> from datetime import datetime, timezone
    >>> t = datetime(2026, 3, 1, tzinfo=timezone.utc)
    >>> s = EnterpriseState("91440300708461136T")
    >>> out = process_event(s, etype="court.dishonest_listed", payload={"case_no": "C1"},
    ...     event_id="e1", occurred_at=t, now=t, listed_people={})
    >>> [(w["rule_id"], w["severity"]) for w in out.warnings], out.state.grade
    ([('dishonest_enterprise', 'red')], 'D')
    >>> out = process_event(s, etype="court.dishonest_removed", payload={"case_no": "C1"},
    ...     event_id="e2", occurred_at=t, now=t, listed_people={})
    >>> out.closed, out.grade_change["from_grade"], out.grade_change["to_grade"]
    (['dishonest_enterprise'], 'D', 'A')
    """
    rules = all_rules() if rules is None else rules
    occurred = occurred_at.isoformat()
    apply_event(state, etype, payload, event_id, _utc(occurred_at))
    outcome = Outcome(state)
    data = RuleInput(state, listed_people)
    firing: list[Rule] = []
    for rule in rules:
        try:
            hit = rule.evaluate(data)
        except Exception as exc:  # a broken rule is an outcome, not a crashed worker
            log.exception("rule %s failed on %s", rule.rule_id, event_id)
            outcome.rule_errors.append((rule.rule_id, f"{type(exc).__name__}: {exc}"))
            if rule.rule_id in state.open_warnings:
                firing.append(rule)
            continue
        if hit is None:
            if state.open_warnings.pop(rule.rule_id, None) is not None:
                outcome.closed.append(rule.rule_id)
            continue
        firing.append(rule)
        _raise_or_update(state, outcome, rule, hit, event_id, occurred, now)
    _regrade(state, outcome, firing, event_id, now)
    return outcome


def _raise_or_update(
    state: EnterpriseState,
    outcome: Outcome,
    rule: Rule,
    hit: Hit,
    event_id: str,
    occurred: str,
    now: datetime,
) -> None:
    open_warning = state.open_warnings.get(rule.rule_id)
    if open_warning is not None:
        open_warning["evidence"] = list(hit.evidence)
        open_warning["message"] = hit.message
        return
    warning = {
        "warning_id": warning_id(state.uscc, rule.rule_id, event_id),
        "uscc": state.uscc,
        "rule_id": rule.rule_id,
        "rule_version": rule.version,
        "ruleset_version": RULESET_VERSION,
        "severity": rule.severity,
        "message": hit.message,
        "evidence": list(hit.evidence),
        "raised_at": now.isoformat(),
        "occurred_at": occurred,
    }
    state.open_warnings[rule.rule_id] = warning
    outcome.warnings.append(warning)


def _regrade(
    state: EnterpriseState, outcome: Outcome, firing: list[Rule], event_id: str, now: datetime
) -> None:
    score, new_grade, contributions = grade(firing)
    old_grade, old_contributions = state.grade, state.contributions
    state.score, state.grade, state.contributions = score, new_grade, contributions
    if old_grade is None or old_grade == new_grade:
        return
    moved = sorted(set(old_contributions) | set(contributions))
    outcome.grade_change = {
        "uscc": state.uscc,
        "from_grade": old_grade,
        "to_grade": new_grade,
        "score": score,
        "reasons": [
            {
                "rule_id": rule_id,
                "before": old_contributions.get(rule_id, 0),
                "after": contributions.get(rule_id, 0),
            }
            for rule_id in moved
            if old_contributions.get(rule_id, 0) != contributions.get(rule_id, 0)
        ],
        "changed_at": now.isoformat(),
        "caused_by": event_id,
    }


def _utc(moment: datetime) -> str:
    """ISO text in UTC, so event times from different offsets compare as strings."""
    return moment.astimezone(UTC).isoformat()
