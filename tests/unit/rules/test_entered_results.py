"""Inspection results entered by regulators fed into the rules (rules/entered_results.py
through the engine): an entered result moves the indicators and the grade as the
`inspection.completed` event would, from its instant; a later entry replaces it; the
inspection system's event for the same plan, if later, takes its place; and a replay
of the journal with the entered results gives what the live evaluation gave."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rules.engine import process_event, recheck
from rules.rebuild import replay
from rules.state import EnterpriseState
from tests import factories as f

USCC = "91440300708461136T"
T0 = datetime(2026, 3, 1, 2, tzinfo=UTC)  # registered, penalised
T1 = datetime(2026, 3, 5, 2, tzinfo=UTC)  # the result (entered, or its event)
T2 = datetime(2026, 3, 9, 2, tzinfo=UTC)  # a later entry or event
PENALTY = f.penalty(USCC, "2026-03-01")["payload"]


def journal() -> list[list[Any]]:
    """What the firm's events were: registered and penalised at T0."""
    return [
        [T0.isoformat(), "enterprise.registered", "r1", f.registered(USCC)["payload"]],
        [T0.isoformat(), "penalty.decided", "p1", PENALTY],
    ]


def firm() -> EnterpriseState:
    state = EnterpriseState(USCC)
    for at, etype, eid, payload in journal():
        process_event(
            state,
            etype=etype,
            payload=payload,
            event_id=eid,
            occurred_at=datetime.fromisoformat(at),
            now=T0,
        )
    return state


def inspected(state: EnterpriseState, result: str, when: datetime, eid: str = "i1") -> None:
    payload = {"plan_id": "P1", "result": result, "findings": []}
    process_event(
        state,
        etype="inspection.completed",
        payload=payload,
        event_id=eid,
        occurred_at=when,
        now=when,
    )


def entered(state: EnterpriseState, result: str, when: datetime) -> None:
    """As the worker meets an entered result: loaded with the state, then nudged."""
    state.entered_results = {"P1": {"result": result, "at": when.isoformat()}}
    recheck(state, at=when, now=when)


def standing(state: EnterpriseState) -> tuple[Any, ...]:
    return state.grade, state.score, sorted(state.contributions), sorted(state.open_warnings)


def test_an_entered_result_counts_as_its_event_would() -> None:
    for result, rule in (("unreachable", "unreachable"), ("passed", "inspection_passed")):
        by_event, by_entry = firm(), firm()
        assert rule not in by_entry.contributions
        inspected(by_event, result, T1)
        entered(by_entry, result, T1)
        assert rule in by_entry.contributions and standing(by_entry) == standing(by_event)
        assert by_entry.inspections == {}  # the events' record is left as it was
    by_entry = firm()
    entered(by_entry, "issues_found", T1)  # neither passed nor unreachable: scores nothing
    assert standing(by_entry) == standing(firm())


def test_it_counts_from_its_instant_and_a_later_entry_replaces_it() -> None:
    state = firm()
    state.entered_results = {"P1": {"result": "unreachable", "at": T1.isoformat()}}
    recheck(state, at=T0, now=T0)  # before it was entered: not yet
    assert "unreachable" not in state.open_warnings
    assert state.recheck_at == T1.isoformat()  # the engine looks again at its instant
    recheck(state, at=T1, now=T1)
    assert "unreachable" in state.open_warnings
    assert state.open_warnings["unreachable"]["evidence"] == ["entered:P1"]
    entered(state, "passed", T2)  # corrected: the firm was reached after all
    assert "unreachable" not in state.open_warnings
    assert "inspection_passed" in state.contributions


def test_the_inspection_systems_later_event_takes_its_place() -> None:
    state = firm()
    entered(state, "unreachable", T1)
    inspected(state, "passed", T2)
    assert "unreachable" not in state.open_warnings and "inspection_passed" in state.contributions
    # an event earlier than the entry does not: the entry is the later word on the plan
    other = firm()
    inspected(other, "passed", T0)
    entered(other, "unreachable", T1)
    assert "unreachable" in other.open_warnings


def test_a_replay_with_the_entered_results_gives_the_live_result() -> None:
    live = firm()
    entered(live, "unreachable", T1)
    live_history = journal()
    later = [T2.isoformat(), "penalty.decided", "p2", f.penalty(USCC, "2026-03-09")["payload"]]
    process_event(
        live,
        etype="penalty.decided",
        payload=later[3],
        event_id="p2",
        occurred_at=T2,
        now=T2,
    )
    rebuilt, snaps = replay(USCC, [*live_history, later], entered=live.entered_results)
    assert standing(rebuilt) == standing(live)
    assert (
        rebuilt.open_warnings["unreachable"]["warning_id"]
        == (live.open_warnings["unreachable"]["warning_id"])
    )
    assert [s["cause"] for s in snaps if s["cause"].startswith("entered:")] == ["entered:P1"]
