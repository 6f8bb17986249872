"""Rules, grading and the engine: a contract over every registered rule, and the
properties every rule must keep (order, duplicates)."""

from __future__ import annotations

import doctest
import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules.catalogue import ASPECTS, RuleInput
from rules.engine import process_event, recheck
from rules.grading import GRADES, GradingModel, grade
from rules.indicators import all_rules
from rules.ruleset import RuleSet, default_ruleset
from rules.state import EnterpriseState

USCC = "91440300708461136T"
T0 = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: r.rule_id)
def test_every_rule_keeps_the_contract(rule) -> None:
    assert rule.rule_id.isidentifier() and rule.version >= 1
    assert rule.severity in ("yellow", "orange", "red", None) and rule.basis
    assert rule.deduction >= 0 and rule.bonus >= 0
    if rule.positive:  # a credit indicator adds points and never warns or vetoes
        assert not (rule.deduction or rule.severity or rule.veto_grade)
    assert rule.category in ASPECTS[rule.aspect][1]
    json.dumps(dict(rule.defaults))  # thresholds are plain data a rules file can override
    empty = RuleInput(EnterpriseState(USCC))
    assert rule.evaluate(empty, rule.defaults) is None, "fires on an empty state"
    assert empty.rechecks == [], "asks for a timer on an empty state"
    examples = doctest.DocTestFinder().find(rule.evaluate)
    assert examples and examples[0].examples, "every rule carries a runnable example"


def test_rule_ids_are_unique_and_the_catalogue_covers_every_aspect() -> None:
    ids = [r.rule_id for r in all_rules()]
    assert len(ids) == len(set(ids))
    assert {r.aspect for r in all_rules()} == set(ASPECTS)


@given(st.integers(0, 100), st.integers(0, 100))
def test_grade_is_monotone_in_score(a: int, b: int) -> None:
    low, high = sorted((a, b))
    model = GradingModel()
    assert GRADES.index(model.grade_for_score(high)) <= GRADES.index(model.grade_for_score(low))


def test_a_veto_overrides_a_good_score() -> None:
    veto = next(a for a in default_ruleset().active() if a.rule.veto_grade == "D")
    assert grade([veto])[1] == "D"


# -- properties over mixed streams ---------------------------------------------------------


def _event(n: int, day: int, kind: str) -> dict:
    """Event number `n` on day `day` (from 2025-01-01) of a few kinds that reach the
    order-sensitive parts of the state: lists, changes, penalties, arrears, permits."""
    on = date(2025, 1, 1) + timedelta(days=day)
    payloads = {
        "penalty.decided": {"decision_no": f"D{n}", "procedure": "ordinary",
                            "decided_on": on.isoformat(), "amount": 1000.0},
        "penalty.revoked": {"decision_no": f"D{n - 1}"},
        "list.abnormal_added": {"reason": "unreachable_address"},
        "list.abnormal_removed": {"reason": "unreachable_address"},
        "registration.changed": {"field": "legal_rep", "before": None,
                                 "after": {"name": "张三", "id_no": "11010519491231002X"}},
        "tax.arrears": {"amount": 60000.0, "tax_type": "增值税", "period": f"P{n % 3}"},
        "tax.arrears_cleared": {"period": f"P{n % 3}"},
        "complaint.received": {"channel": "12315", "category": "商品质量"},
        "permit.granted": {"permit_no": f"X{n % 2}", "kind": "K",
                           "valid_until": (on + timedelta(days=40)).isoformat()},
    }  # fmt: skip
    return {
        "type": kind,
        "event_id": f"e{n}",
        "occurred_at": datetime(on.year, on.month, on.day, 2, tzinfo=UTC) + timedelta(seconds=n),
        "payload": payloads[kind],
    }


KINDS = ["penalty.decided", "penalty.revoked", "list.abnormal_added", "list.abnormal_removed",
         "registration.changed", "tax.arrears", "tax.arrears_cleared", "complaint.received",
         "permit.granted"]  # fmt: skip
mixed_streams = st.lists(st.tuples(st.integers(0, 700), st.sampled_from(KINDS)), max_size=14).map(
    lambda items: [_event(n, d, k) for n, (d, k) in enumerate(items)]
)


def replay(events: list[dict], ruleset: RuleSet | None = None) -> EnterpriseState:
    state = EnterpriseState(USCC, status="active")
    seen: set[str] = set()
    for e in events:
        if e["event_id"] in seen:  # what the store's guard does
            continue
        seen.add(e["event_id"])
        process_event(
            state,
            etype=e["type"],
            payload=e["payload"],
            event_id=e["event_id"],
            occurred_at=e["occurred_at"],
            now=T0,
            ruleset=ruleset,
        )
    return state


def verdict(state: EnterpriseState) -> tuple:
    return state.grade, state.score, sorted(state.open_warnings), state.recheck_at


@settings(max_examples=300, deadline=None)
@given(mixed_streams, st.randoms(use_true_random=False))
def test_arrival_order_does_not_change_the_outcome(events, rnd) -> None:
    shuffled = list(events)
    rnd.shuffle(shuffled)
    assert verdict(replay(events)) == verdict(replay(shuffled))


@settings(deadline=None)
@given(mixed_streams)
def test_the_same_events_twice_equal_once(events) -> None:
    once, twice = replay(events), replay(events + events)
    assert once.to_json() == twice.to_json()


@settings(deadline=None)
@given(mixed_streams)
def test_counters_never_go_negative(events) -> None:
    for counter in replay(events).counters.values():
        assert all(n > 0 for n in counter["days"].values())


def _penalty(n: int, day: int, procedure: str) -> dict:
    event = _event(n, day, "penalty.decided")
    event["payload"]["procedure"] = procedure
    return event


@given(
    st.lists(st.tuples(st.integers(0, 900), st.sampled_from(["ordinary", "simple"])), max_size=8)
)
def test_penalty_frequency_matches_a_brute_force_count(items) -> None:
    events = [_penalty(n, d, proc) for n, (d, proc) in enumerate(items)]
    days = sorted(
        date.fromisoformat(e["payload"]["decided_on"])
        for e in events
        if e["payload"]["procedure"] == "ordinary"
    )
    expected = any(sum(1 for d in days if 0 <= (d - start).days <= 365) >= 3 for start in days)
    assert ("penalty_frequency" in replay(events).open_warnings) == expected


# -- the engine ---------------------------------------------------------------------------


def test_a_failing_rule_is_an_outcome_not_a_crash(monkeypatch) -> None:
    ruleset = default_ruleset()
    broken = [replace(a, rule=replace(a.rule, evaluate=lambda _d, _p: 1 / 0)) for a in
              ruleset.active()[:1]]  # fmt: skip
    monkeypatch.setattr(RuleSet, "active", lambda self: broken)
    out = process_event(
        EnterpriseState(USCC),
        etype="enterprise.deregistered",
        payload={},
        event_id="e1",
        occurred_at=T0,
        now=T0,
    )
    assert out.rule_errors == [(broken[0].rule.rule_id, "ZeroDivisionError: division by zero")]
    assert out.state.grade == "A"


def test_a_late_registration_does_not_overwrite_a_newer_change() -> None:
    state = EnterpriseState(USCC)
    later, earlier = T0, T0 - timedelta(days=30)
    process_event(
        state,
        etype="registration.changed",
        event_id="c1",
        occurred_at=later,
        now=later,
        payload={"field": "address", "before": "旧址", "after": "新址"},
    )
    process_event(
        state,
        etype="enterprise.registered",
        event_id="r1",
        occurred_at=earlier,
        now=later,
        payload={"name": "甲公司", "address": "旧址"},
    )
    assert state.profile == {"name": "甲公司", "address": "新址"}


def test_one_open_warning_per_rule_updated_with_new_evidence_then_closed() -> None:
    events = [_event(n, 5 * n, "complaint.received") for n in range(10)]
    state = replay(events[:8])
    first = state.open_warnings["complaint_frequency"]
    assert len(first["evidence"]) == 8
    state = replay(events)
    again = state.open_warnings["complaint_frequency"]
    assert again["warning_id"] == first["warning_id"] and len(again["evidence"]) == 10
    # 90 days after the last complaint the window is empty: a recheck closes it
    assert state.recheck_at is not None
    out = recheck(state, at=T0 + timedelta(days=400), now=T0)
    assert out.closed == ["complaint_frequency"]
    assert out.warnings[0]["status"] == "closed" and out.warnings[0]["closed_by"].startswith(
        "recheck:"
    )


def test_the_rule_set_in_force_sets_thresholds_severity_and_switches_rules_off() -> None:
    events = [_event(n, 10 * n, "complaint.received") for n in range(3)]
    strict = RuleSet("t1", {"complaint_frequency": {"threshold": 3, "severity": "red"}})
    state = replay(events, strict)
    warning = state.open_warnings["complaint_frequency"]
    assert (warning["severity"], warning["ruleset_version"]) == ("red", "t1")
    assert (
        state.ruleset_version == "t1" and "complaint_frequency" not in replay(events).open_warnings
    )
    off = RuleSet("t2", {"complaint_frequency": {"enabled": False}})
    out = recheck(state, at=events[-1]["occurred_at"], now=T0, ruleset=off)
    assert out.closed == ["complaint_frequency"]
