"""A warning's disposition fed back into the grade (rules/dispositions.py through the
engine): a false alarm stops counting until new evidence, a rectified warning closes
but its records still score, a verified one is kept; from the disposition's instant
only, whatever order the dispositions come in, and a replay of the journal with them
gives what the live evaluation gave."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from rules.dispositions import Judgement
from rules.engine import process_event, recheck
from rules.rebuild import replay
from rules.state import EnterpriseState

USCC = "91440300708461136T"
T0 = datetime(2026, 3, 1, 2, tzinfo=UTC)  # the listing
T1 = datetime(2026, 3, 5, 2, tzinfo=UTC)  # the disposition
T2 = datetime(2026, 3, 9, 2, tzinfo=UTC)  # a later event


def listed(state: EnterpriseState, case_no: str, event_id: str, when: datetime) -> Any:
    return process_event(
        state,
        etype="court.dishonest_listed",
        payload={"case_no": case_no},
        event_id=event_id,
        occurred_at=when,
        now=when,
    )


def judged(state: EnterpriseState, disposition: str, when: datetime = T1) -> Judgement:
    """The open dishonest_enterprise warning judged at `when`, as the API records it."""
    warning = state.open_warnings["dishonest_enterprise"]
    return Judgement(
        warning_id=warning["warning_id"],
        rule_id="dishonest_enterprise",
        disposition=disposition,  # type: ignore[typeddict-item]
        evidence=list(warning["evidence"]),
        message=warning["message"],
        at=when.isoformat(),
    )


def listed_firm() -> EnterpriseState:
    state = EnterpriseState(USCC)
    listed(state, "C1", "e1", T0)
    assert (state.grade, list(state.open_warnings)) == ("D", ["dishonest_enterprise"])
    return state


def test_a_false_alarm_stops_counting_from_its_instant_until_new_evidence() -> None:
    state = listed_firm()
    judgement = judged(state, "false_alarm")
    state.dispositions = {judgement["warning_id"]: judgement}
    # the engine's next look (here an event before the disposition) asks for its instant
    out = process_event(
        state, etype="complaint.received", payload={"channel": "12315", "category": "x"},
        event_id="c1", occurred_at=T0, now=T0,
    )  # fmt: skip
    assert state.grade == "D" and out.closed == []
    assert state.recheck_at == T1.isoformat()
    out = recheck(state, at=T1, now=T1)
    assert state.grade == "A" and state.contributions == {} and state.open_warnings == {}
    [closed] = out.warnings
    assert (closed["status"], closed["disposition"]) == ("closed", "false_alarm")
    assert closed["closed_by"] == f"disposition:{judgement['warning_id']}"
    assert out.grade_changes[0]["caused_by"] == f"disposition:{judgement['warning_id']}"
    # the same evidence again, later: still not counted
    recheck(state, at=T2, now=T2)
    assert state.grade == "A"
    # a new listing is new evidence: it counts and warns again, as a new warning
    out = listed(state, "C2", "e2", T2)
    assert state.grade == "D" and state.contributions == {"dishonest_enterprise": -40}
    [raised] = out.warnings
    assert raised["status"] == "open" and raised["warning_id"] != judgement["warning_id"]
    assert raised["evidence"] == ["e1", "e2"]


def test_a_rectified_warning_closes_but_its_record_still_scores() -> None:
    state = listed_firm()
    judgement = judged(state, "rectified")
    state.dispositions = {judgement["warning_id"]: judgement}
    out = recheck(state, at=T1, now=T1)
    assert state.open_warnings == {} and out.warnings[0]["disposition"] == "rectified"
    # the court's listing stands until its removal: the grade does not move
    assert (state.grade, state.contributions) == ("D", {"dishonest_enterprise": -40})
    assert out.grade_changes == []
    out = listed(state, "C2", "e2", T2)
    assert [w["status"] for w in out.warnings] == ["open"]


def test_verified_and_referred_keep_the_warning_and_its_points() -> None:
    for disposition in ("verified", "referred"):
        state = listed_firm()
        judgement = judged(state, disposition)
        state.dispositions = {judgement["warning_id"]: judgement}
        out = recheck(state, at=T1, now=T1)
        assert out.warnings == [] and out.grade_changes == []
        assert state.grade == "D" and "dishonest_enterprise" in state.open_warnings


def test_the_latest_disposition_decides_a_correction() -> None:
    state = listed_firm()
    wrong = judged(state, "false_alarm")
    state.dispositions = {wrong["warning_id"]: wrong}
    recheck(state, at=T1, now=T1)
    assert state.grade == "A"
    # corrected: the warning was real after all (the store keeps each warning's latest)
    corrected = {**wrong, "disposition": "verified", "at": T2.isoformat()}
    state.dispositions = {wrong["warning_id"]: corrected}  # type: ignore[dict-item]
    out = recheck(state, at=T2, now=T2)
    assert state.grade == "D" and [w["status"] for w in out.warnings] == ["open"]


def test_an_earlier_judgement_does_not_cover_a_warning_with_more_evidence() -> None:
    state = listed_firm()
    first = judged(state, "false_alarm")
    listed(state, "C2", "e2", T0)  # before the judgement, in event time
    state.dispositions = {first["warning_id"]: {**first, "evidence": ["e1"]}}  # type: ignore[dict-item]
    recheck(state, at=T1, now=T1)
    assert state.grade == "D"  # e2 was not in the warning judged


def _live(dispositions: dict[str, Judgement]) -> EnterpriseState:
    state = EnterpriseState(USCC, dispositions=dict(dispositions))
    listed(state, "C1", "e1", T0)
    recheck(state, at=T1, now=T1)  # the nudge
    listed(state, "C2", "e2", T2)
    return state


def _judgements() -> dict[str, Judgement]:
    state = listed_firm()
    one = judged(state, "false_alarm")
    # a second, older judgement of the same warning's rule (a verified one, overtaken)
    older = {**judged(state, "verified", T0), "warning_id": "older"}
    return {one["warning_id"]: one, "older": older}  # type: ignore[dict-item]


@settings(max_examples=20, deadline=None)
@given(st.permutations(sorted(_judgements())))
def test_the_same_dispositions_in_any_order_and_a_replay_give_the_same_result(
    order: list[str],
) -> None:
    every = _judgements()
    ordered = {wid: every[wid] for wid in order}
    live = _live(ordered)
    journal = [
        [T0.isoformat(), "court.dishonest_listed", "e1", {"case_no": "C1"}],
        [T2.isoformat(), "court.dishonest_listed", "e2", {"case_no": "C2"}],
    ]
    rebuilt, snaps = replay(USCC, journal, dispositions=ordered)
    assert (live.grade, live.score, live.open_warnings) == (
        rebuilt.grade, rebuilt.score, rebuilt.open_warnings,
    )  # fmt: skip
    # the replay met the disposition at its instant: D, then A at T1, then D again
    assert [(s["at"], s["grade"]) for s in snaps] == [
        (T0.isoformat(), "D"),
        (T1.isoformat(), "A"),
        (T2.isoformat(), "D"),
    ]
