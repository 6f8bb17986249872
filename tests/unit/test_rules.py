"""Rules, grading and the engine: a contract over every rule, and properties."""

from __future__ import annotations

import doctest
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules.catalogue import RuleInput, all_rules
from rules.engine import process_event
from rules.grading import GRADES, grade, grade_for_score
from rules.state import EnterpriseState

USCC = "91440300708461136T"
T0 = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: r.rule_id)
def test_every_rule_keeps_the_contract(rule) -> None:
    assert rule.rule_id.isidentifier() and rule.version >= 1
    assert rule.severity in ("yellow", "orange", "red") and rule.deduction >= 0 and rule.basis
    assert rule.evaluate(RuleInput(EnterpriseState(USCC))) is None, "fires on an empty state"
    examples = doctest.DocTestFinder().find(rule.evaluate)
    assert examples and examples[0].examples, "every rule carries a runnable example"


def test_rule_ids_are_unique() -> None:
    ids = [r.rule_id for r in all_rules()]
    assert len(ids) == len(set(ids))


@given(st.integers(0, 100), st.integers(0, 100))
def test_grade_is_monotone_in_score(a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert GRADES.index(grade_for_score(high)) <= GRADES.index(grade_for_score(low))


def test_a_veto_overrides_a_good_score() -> None:
    veto = next(r for r in all_rules() if r.veto_grade == "D")
    assert grade([veto])[1] == "D"


def _penalty(n: int, day: date, procedure: str) -> dict:
    return {
        "type": "penalty.decided",
        "event_id": f"p{n}",
        "payload": {
            "decision_no": f"D{n}",
            "procedure": procedure,
            "decided_on": day.isoformat(),
            "amount": 1000.0,
        },
    }


penalty_streams = st.lists(
    st.tuples(st.integers(0, 900), st.sampled_from(["ordinary", "simple"])),
    min_size=0,
    max_size=8,
).map(
    lambda items: [
        _penalty(n, date(2024, 1, 1) + timedelta(days=d), proc) for n, (d, proc) in enumerate(items)
    ]
)


def replay(events: list[dict]) -> EnterpriseState:
    state = EnterpriseState(USCC)
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
            occurred_at=T0,
            now=T0,
            listed_people={},
        )
    return state


@settings(max_examples=200)
@given(penalty_streams, st.randoms(use_true_random=False))
def test_arrival_order_does_not_change_the_outcome(events, rnd) -> None:
    shuffled = list(events)
    rnd.shuffle(shuffled)
    a, b = replay(events), replay(shuffled)
    assert (a.grade, a.score, set(a.open_warnings)) == (b.grade, b.score, set(b.open_warnings))


@given(penalty_streams)
def test_penalty_frequency_matches_a_brute_force_count(events) -> None:
    days = sorted(
        date.fromisoformat(e["payload"]["decided_on"])
        for e in events
        if e["payload"]["procedure"] == "ordinary"
    )
    expected = any(sum(1 for d in days if 0 <= (d - start).days <= 365) >= 3 for start in days)
    assert ("penalty_frequency" in replay(events).open_warnings) == expected


@given(penalty_streams)
def test_the_same_events_twice_equal_once(events) -> None:
    once, twice = replay(events), replay(events + events)
    assert once.to_json() == twice.to_json()


def test_a_failing_rule_is_an_outcome_not_a_crash() -> None:
    from dataclasses import replace

    broken = replace(all_rules()[0], evaluate=lambda _data: 1 / 0)
    out = process_event(
        EnterpriseState(USCC),
        etype="enterprise.deregistered",
        payload={},
        event_id="e1",
        occurred_at=T0,
        now=T0,
        listed_people={},
        rules=[broken],
    )
    assert out.rule_errors == [(broken.rule_id, "ZeroDivisionError: division by zero")]
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
        listed_people={},
        payload={"field": "address", "before": "旧址", "after": "新址"},
    )
    process_event(
        state,
        etype="enterprise.registered",
        event_id="r1",
        occurred_at=earlier,
        now=later,
        listed_people={},
        payload={"name": "甲公司", "address": "旧址"},
    )
    assert state.profile == {"name": "甲公司", "address": "新址"}
