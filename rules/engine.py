"""One event (or one timer) through the rules: fold it into the state, evaluate every
rule in force, and say what changed (warnings raised or closed, the new score and
grade, when to look again). Pure: the caller loads the inputs and commits the outcome.

Clocks are exact in event time: before an event is applied, every recheck the rules
asked for before its time is evaluated first (`catch_up`), so a penalty stops counting
on its expiry day in the grade's history even when the timer has not fired yet.
Every evaluation leaves a snapshot (rules/timeline.py) for history and as-of lookups.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, cast

from rules import dispositions, entered_results, repair, timeline
from rules.calendar import day_start
from rules.catalogue import NOTHING_RELATED, Hit, Related, RuleInput
from rules.folding import advance_clock, apply_event
from rules.grading import GRADES, grade
from rules.learning.learner import Learner
from rules.records import GradeChange, Snapshot, WarningRecord
from rules.ruleset import ActiveRule, RuleSet, default_ruleset
from rules.state import EnterpriseState

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    state: EnterpriseState
    #: warning records to publish: newly raised ones (status open) and closed ones
    warnings: list[WarningRecord] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    grade_changes: list[GradeChange] = field(default_factory=list)
    #: (rule_id, error) for rules that raised; their previous status is kept
    rule_errors: list[tuple[str, str]] = field(default_factory=list)
    #: one per evaluation, in time order (rules/timeline.py)
    snapshots: list[Snapshot] = field(default_factory=list)
    #: for the trainer: labels resolved, and the features of the samples taken
    labels: list[dict[str, Any]] = field(default_factory=list)
    observed: list[dict[str, float]] = field(default_factory=list)

    def merge(self, other: Outcome) -> None:
        self.warnings += other.warnings
        self.closed += other.closed
        self.grade_changes += other.grade_changes
        self.rule_errors += other.rule_errors
        self.snapshots += other.snapshots
        self.labels += other.labels
        self.observed += other.observed


def warning_id(uscc: str, rule_id: str, cause: str) -> str:
    """Deterministic, so a replay raises the same warning under the same id."""
    return hashlib.sha1(f"{uscc}|{rule_id}|{cause}".encode()).hexdigest()[:24]


def process_event(
    state: EnterpriseState,
    *,
    etype: str,
    payload: dict[str, Any],
    event_id: str,
    occurred_at: datetime,
    now: datetime,
    related: Related | Callable[[EnterpriseState], Related] = NOTHING_RELATED,
    ruleset: RuleSet | None = None,
    learner: Learner | None = None,
) -> Outcome:
    """Apply one event and re-evaluate the enterprise. `related` may be a function of
    the state after the event (its links may have just changed). With a `learner`, the
    models score the enterprise before the rules read it, and a sample is kept after.

    >>> from datetime import datetime, timezone
    >>> t = datetime(2026, 3, 1, tzinfo=timezone.utc)
    >>> s = EnterpriseState("91440300708461136T")
    >>> out = process_event(s, etype="court.dishonest_listed", payload={"case_no": "C1"},
    ...     event_id="e1", occurred_at=t, now=t)
    >>> [(w["rule_id"], w["severity"], w["status"]) for w in out.warnings], out.state.grade
    ([('dishonest_enterprise', 'red', 'open')], 'D')
    >>> out = process_event(s, etype="court.dishonest_removed", payload={"case_no": "C1"},
    ...     event_id="e2", occurred_at=t, now=t)
    >>> out.closed, out.warnings[0]["status"], out.grade_changes[0]["to_grade"]
    (['dishonest_enterprise'], 'closed', 'A')
    """
    at = _utc(occurred_at)
    ruleset = ruleset or default_ruleset()
    outcome = catch_up(state, at, now=now, related=related, ruleset=ruleset, learner=learner)
    apply_event(state, etype, payload, event_id, at)
    context = _resolve(related, state)
    if learner is not None:
        learner.on_event(state, etype, payload, event_id, at, context)
    evaluated = _evaluate(state, event_id, occurred_at.isoformat(), now, context, ruleset, learner)
    outcome.merge(evaluated)
    if learner is not None:
        # its label is released at its horizon's end by the day's sweep of labels
        # (Learner.sweep), or by an evaluation after it: no timer of the enterprise's
        outcome.observed.append(learner.keep_sample(state, at, ruleset.model))
    return outcome


def catch_up(
    state: EnterpriseState,
    until: str,
    *,
    now: datetime,
    related: Related | Callable[[EnterpriseState], Related] = NOTHING_RELATED,
    ruleset: RuleSet | None = None,
    learner: Learner | None = None,
) -> Outcome:
    """Evaluate the rechecks the rules asked for before `until` (UTC ISO), in order."""
    outcome = Outcome(state)
    while state.recheck_at is not None and state.recheck_at < until and state.clock:
        at = state.recheck_at
        outcome.merge(_look_again(state, at, at, now, related, ruleset, learner))
    return outcome


def recheck(
    state: EnterpriseState,
    *,
    at: datetime,
    now: datetime,
    related: Related | Callable[[EnterpriseState], Related] = NOTHING_RELATED,
    ruleset: RuleSet | None = None,
    learner: Learner | None = None,
) -> Outcome:
    """Re-evaluate without an event: a timer came due, or a related party changed.
    The rules' clock moves to `at` (never back).

    >>> from datetime import datetime, timezone
    >>> s = EnterpriseState("91440300708461136T", status="active",
    ...                     clock="2026-05-01T00:00:00+00:00")
    >>> _ = apply_event(s, "permit.granted", {"permit_no": "P1", "kind": "K",
    ...                 "valid_until": "2026-06-10"}, "g1", "2026-04-01T02:00:00+00:00")
    >>> t = datetime(2026, 5, 1, tzinfo=timezone.utc)
    >>> recheck(s, at=t, now=t).state.recheck_at     # 11 May, 00:00 in Beijing
    '2026-05-10T16:00:00+00:00'
    >>> t = datetime(2026, 5, 10, 16, tzinfo=timezone.utc)
    >>> [w["rule_id"] for w in recheck(s, at=t, now=t).warnings]
    ['permit_expiring']
    """
    outcome = catch_up(state, _utc(at), now=now, related=related, ruleset=ruleset, learner=learner)
    outcome.merge(_look_again(state, _utc(at), at.isoformat(), now, related, ruleset, learner))
    return outcome


def _look_again(
    state: EnterpriseState,
    at: str,
    occurred: str,
    now: datetime,
    related: Related | Callable[[EnterpriseState], Related],
    ruleset: RuleSet | None,
    learner: Learner | None,
) -> Outcome:
    """Move the clock to `at` (UTC ISO; never back) and evaluate with no event."""
    advance_clock(state, at)
    if learner is not None:
        learner.on_recheck(state)
    context = _resolve(related, state)
    # a look at the moment a warning was judged is that disposition's doing, at the
    # moment a result was entered that result's
    judged = dispositions.made_at(state.dispositions, at)
    entered = None if judged else entered_results.made_at(state.entered_results, at)
    if judged:
        cause = f"disposition:{judged}"
    elif entered:
        cause = entered_results.evidence_id(entered)
    else:
        cause = f"recheck:{at}"
    return _evaluate(state, cause, occurred, now, context, ruleset, learner)


def _resolve(
    related: Related | Callable[[EnterpriseState], Related], state: EnterpriseState
) -> Related:
    return related(state) if callable(related) else related


def _evaluate(
    state: EnterpriseState,
    cause: str,
    occurred: str,
    now: datetime,
    related: Related,
    ruleset: RuleSet | None,
    learner: Learner | None = None,
) -> Outcome:
    ruleset = ruleset or default_ruleset()
    state.ruleset_version = ruleset.version
    outcome = Outcome(state)
    repair.judge(state)
    data = RuleInput(state, related)
    if learner is not None:
        outcome.labels += learner.expire(state)
    firing: list[ActiveRule] = []
    strengths: dict[str, float] = {}
    warning: set[str] = set()
    #: rule_id -> the disposition that took its hit out of the warnings
    quieted: dict[str, str] = {}
    for active in ruleset.active():
        rule_id = active.rule.rule_id
        try:
            hit = active.rule.evaluate(data, active.params)
        except Exception as exc:  # a broken rule is an outcome, not a crashed worker
            log.exception("rule %s failed on %s", rule_id, cause)
            outcome.rule_errors.append((rule_id, f"{type(exc).__name__}: {exc}"))
            if rule_id in state.open_warnings:
                firing.append(active)
                warning.add(rule_id)
            continue
        if hit is not None:
            judged = dispositions.ruling(
                state.dispositions, rule_id, hit.evidence, hit.message, state.clock
            )
            if judged == "false_alarm":  # judged not there: no score, no warning
                quieted[rule_id] = judged
                continue
            data.hits[rule_id] = hit
            firing.append(active)
            if hit.strength != 1.0:
                strengths[rule_id] = hit.strength
            if judged in dispositions.QUIETING:  # rectified: it scores, warns no more
                quieted[rule_id] = judged
                continue
            # scoring-only and credit indicators never warn; a quiet hit only scores
            if active.severity is not None and hit.warns:
                warning.add(rule_id)
                _raise_or_update(state, outcome, active, hit, cause, occurred, now, ruleset.version)
    # what no longer warns closes: its condition cleared, or its rule was switched off
    for rule_id in [r for r in state.open_warnings if r not in warning]:
        closed = state.open_warnings.pop(rule_id)
        outcome.closed.append(rule_id)
        record = {**closed, "status": "closed", "closed_at": now.isoformat(), "closed_by": cause}
        if rule_id in quieted:
            record["disposition"] = quieted[rule_id]
        outcome.warnings.append(cast(WarningRecord, record))
    overridden = _override_in_force(data)
    today = data.today
    later = [day_start(day) for day in data.rechecks if today is None or day > today]
    # a related party linked later is looked at from its instant, as its own recheck of
    # this firm does then: the same evaluation whichever comes first
    later += [at for at in related.later if not state.clock or at > state.clock]
    # a disposition recorded later than this clock is looked at from its instant
    later += dispositions.pending(state.dispositions, state.clock)
    later += entered_results.pending(state.entered_results, state.clock)  # the same
    state.recheck_at = min(later) if later else None
    _regrade(state, outcome, firing, strengths, cause, now, ruleset, overridden)
    outcome.snapshots.append(timeline.snapshot(state, cause))
    return outcome


def _override_in_force(data: RuleInput) -> str | None:
    """The regulator's grade, while it holds: from the moment it was set to the end of
    its last day (`expires_on`); the engine looks again the day after."""
    state, override = data.state, data.state.override
    if not override or not state.clock or data.today is None:
        return None
    if datetime.fromisoformat(override["set_at"]) > datetime.fromisoformat(state.clock):
        return None  # set later than this enterprise's clock: from its next evaluation
    expires = date.fromisoformat(override["expires_on"])
    if data.today > expires:
        return None
    data.recheck(date.fromordinal(expires.toordinal() + 1))
    grade = override["grade"]
    return grade if grade in GRADES else None


def _raise_or_update(
    state: EnterpriseState,
    outcome: Outcome,
    active: ActiveRule,
    hit: Hit,
    cause: str,
    occurred: str,
    now: datetime,
    ruleset_version: str,
) -> None:
    open_warning = state.open_warnings.get(active.rule.rule_id)
    if open_warning is not None:  # one open warning per rule: new evidence updates it
        open_warning["evidence"] = list(hit.evidence)
        open_warning["message"] = hit.message
        open_warning["updated_at"] = now.isoformat()
        if hit.details is not None:
            open_warning["details"] = dict(hit.details)
        return
    warning: WarningRecord = {
        "warning_id": warning_id(state.uscc, active.rule.rule_id, cause),
        "uscc": state.uscc,
        "rule_id": active.rule.rule_id,
        "rule_version": active.rule.version,
        "ruleset_version": ruleset_version,
        "severity": active.severity,
        "message": hit.message,
        "evidence": list(hit.evidence),
        "raised_at": now.isoformat(),
        "occurred_at": occurred,
        "status": "open",
    }
    if hit.details is not None:
        warning["details"] = dict(hit.details)
    # the state keeps it as the plain dict it is (the state's internals are untyped)
    state.open_warnings[active.rule.rule_id] = cast(dict[str, Any], warning)
    outcome.warnings.append(warning)


def _regrade(
    state: EnterpriseState,
    outcome: Outcome,
    firing: list[ActiveRule],
    strengths: dict[str, float],
    cause: str,
    now: datetime,
    ruleset: RuleSet,
    overridden: str | None,
) -> None:
    score, new_grade, contributions = grade(firing, ruleset.model, strengths)
    computed = new_grade
    new_grade = overridden or computed
    old_grade, old_contributions = state.grade, state.contributions
    old_override = state.overridden
    state.score, state.grade, state.contributions = score, new_grade, contributions
    state.computed_grade, state.overridden = computed, overridden
    if old_grade is None or old_grade == new_grade:
        return
    change: GradeChange = {
        "uscc": state.uscc,
        "from_grade": old_grade,
        "to_grade": new_grade,
        "score": score,
        "reasons": timeline.reasons(old_contributions, contributions),
        "changed_at": now.isoformat(),
        "caused_by": cause,
    }
    if overridden or old_override:
        change["override"] = {"from": old_override, "to": overridden}
    outcome.grade_changes.append(change)


def _utc(moment: datetime) -> str:
    """ISO text in UTC, so event times from different offsets compare as strings."""
    return moment.astimezone(UTC).isoformat()
