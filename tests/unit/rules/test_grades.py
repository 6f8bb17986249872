"""The grade: score model, statutory clocks, credit repair, overrides and the timeline
(pure: the engine alone; the pipeline and the API are in tests/integration)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules.calendar import add_months, day_start, local_day
from rules.engine import process_event, recheck
from rules.rebuild import replay
from rules.ruleset import RuleSet, RulesFileError
from rules.state import EnterpriseState
from rules.timeline import compact

USCC = "91440300708461136T"


def at(day: date, hour: int = 10) -> str:
    """`hour` o'clock on `day` in Beijing, as UTC ISO."""
    return (datetime.fromisoformat(day_start(day)) + timedelta(hours=hour)).isoformat()


def entry(day: date, etype: str, event_id: str, **payload: Any) -> list[Any]:
    return [at(day), etype, event_id, payload]


def penalty(day: date, n: int, amount: float = 50000, measures=("fine",), **extra) -> list[Any]:
    body = {
        "decision_no": f"P{n}",
        "procedure": "ordinary",
        "decided_on": day.isoformat(),
        "amount": amount,
        "measures": list(measures),
        "violation": "虚假宣传",
        **extra,
    }
    return [at(day), "penalty.decided", f"pen-{n}", body]


def feed(journal: list[list[Any]], ruleset: RuleSet | None = None) -> EnterpriseState:
    """Apply the entries in the order given (arrival order), as the worker would."""
    state = EnterpriseState(USCC)
    for when, etype, event_id, payload in journal:
        moment = datetime.fromisoformat(when)
        process_event(
            state,
            etype=etype,
            payload=payload,
            event_id=event_id,
            occurred_at=moment,
            now=moment,
            ruleset=ruleset,
        )
    return state


def look(state: EnterpriseState, day: date) -> EnterpriseState:
    """The state re-evaluated at the start of `day` (Beijing)."""
    moment = datetime.fromisoformat(day_start(day))
    recheck(state, at=moment, now=moment)
    return state


# --- the score model -------------------------------------------------------------------
def test_credit_indicators_add_points_and_vetoes_floor_the_grade() -> None:
    day = date(2026, 3, 1)
    journal = [
        entry(day, "tax.credit_rated", "r1", year=2025, rating="A"),
        entry(day, "commendation.awarded", "c1", title="守合同重信用", level="省级"),
        penalty(day, 1),
        penalty(day + timedelta(1), 2),
        penalty(day + timedelta(2), 3),
    ]
    state = feed(journal)
    # 100 - 15 (frequency) - 10 (record) + 5 + 5 = 85
    assert (state.score, state.grade) == (85, "B")
    assert state.open_warnings.keys() == {"penalty_frequency"}  # credit indicators never warn
    feed_more = feed(
        [*journal, entry(day, "list.abnormal_added", "a1", reason="disclosure_missing")]
    )
    assert (feed_more.score, feed_more.grade) == (75, "C")  # 75 is a B, but the list vetoes it


def test_the_grading_model_is_configured_and_versioned_with_the_rules() -> None:
    strict = RuleSet("strict-1", grading={"thresholds": {"A": 95, "B": 85, "C": 70}})
    state = feed([penalty(date(2026, 3, 1), 1)], strict)
    assert (state.score, state.grade, state.ruleset_version) == (90, "B", "strict-1")
    assert RuleSet.from_json(strict.to_json()).model == strict.model
    with pytest.raises(RulesFileError, match="fall strictly"):
        RuleSet("x", grading={"thresholds": {"A": 70, "B": 80}})
    with pytest.raises(RulesFileError, match="not a setting"):
        RuleSet("x", grading={"baseline": 100, "bonus": 1})
    with pytest.raises(RulesFileError, match="only credit indicators"):
        RuleSet("x", {"penalty_record": {"bonus": 3}})
    quiet = RuleSet("x", {"penalty_record": {"severity": "yellow"}})
    assert feed([penalty(date(2026, 3, 1), 1)], quiet).open_warnings.keys() == {"penalty_record"}


# --- statutory clocks ------------------------------------------------------------------
PENALTIES = st.tuples(
    st.dates(date(2020, 1, 1), date(2030, 12, 31)),
    st.sampled_from(
        [
            ("fine",),
            ("criticism",),
            ("fine", "criticism"),
            ("warning", "fine"),
            ("fine", "confiscation"),
            ("licence_revoked",),
        ]
    ),
    st.sampled_from([0, 5000, 30000, 30000.01, 200000]),
)


@settings(max_examples=150, deadline=None)
@given(PENALTIES, st.randoms(use_true_random=False), st.integers(0, 3))
def test_a_penalty_stops_counting_exactly_at_its_expiry_whatever_the_order(
    given_penalty: tuple[date, tuple[str, ...], float], rnd: random.Random, noise: int
) -> None:
    decided, measures, amount = given_penalty
    short = set(measures) <= {"criticism", "fine"} and ("fine" not in measures or amount <= 30000)
    expiry = add_months(decided, 3 if short else 36)
    journal = [penalty(decided, 1, amount, measures)]
    # unrelated events before and after, in any order of arrival
    journal += [
        entry(
            decided + timedelta(days=rnd.randint(-400, 1200)),
            "complaint.received",
            f"c{n}",
            channel="12315",
            category="价格收费",
        )
        for n in range(noise)
    ]
    rnd.shuffle(journal)
    state = feed(journal)
    last_day = date.fromordinal(expiry.toordinal() - 1)
    if state.clock is None or local_day(state.clock) <= last_day:
        assert "penalty_record" in look(state, last_day).contributions
    assert "penalty_record" not in look(state, expiry).contributions
    # revoked: at once
    revoked = feed([*journal, entry(decided, "penalty.revoked", "rv", decision_no="P1")])
    assert "penalty_record" not in revoked.contributions


def test_an_abnormal_listing_is_due_for_transfer_three_years_on_to_the_day() -> None:
    state = feed(
        [entry(date(2026, 3, 1), "list.abnormal_added", "a1", reason="disclosure_missing")]
    )
    assert state.recheck_at == day_start(date(2029, 3, 1))
    assert "abnormal_overdue" not in look(state, date(2029, 2, 28)).open_warnings
    warning = look(state, date(2029, 3, 1)).open_warnings["abnormal_overdue"]
    assert (warning["severity"], warning["evidence"]) == ("red", ["a1"])


# --- credit repair ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("violation", "decided", "day_before", "day_of"),
    [
        ("虚假宣传", date(2026, 3, 1), date(2026, 8, 31), date(2026, 9, 1)),
        ("销售不符合食品安全标准的食品", date(2026, 3, 1), date(2027, 2, 28), date(2027, 3, 1)),
        ("未按规定检验特种设备", date(2026, 8, 31), date(2027, 8, 30), date(2027, 8, 31)),
        ("虚假宣传", date(2026, 8, 31), date(2027, 2, 27), date(2027, 2, 28)),  # month end
    ],
)
def test_repair_is_eligible_from_the_day_the_period_is_up(
    violation: str, decided: date, day_before: date, day_of: date
) -> None:
    fined = penalty(decided, 1, violation=violation)
    for approved, status in ((day_before, "rejected"), (day_of, "accepted")):
        repair = entry(
            approved,
            "credit.repaired",
            f"r-{approved}",
            target="penalty",
            ref="P1",
            approved_on=approved.isoformat(),
        )
        for journal in ([fined, repair], [repair, fined]):  # the repair may come first
            state = feed(journal)
            judged = state.repairs["penalty:P1"]
            assert judged["status"] == status, (approved, judged)
            assert ("penalty_record" in state.contributions) == (status == "rejected")
            if status == "rejected":
                assert str(day_of) in judged["reason"]


def test_a_repair_lifts_at_once_and_one_before_its_target_waits_for_it() -> None:
    listed = entry(date(2026, 1, 10), "court.dishonest_listed", "d1", case_no="C1")
    repair = entry(
        date(2026, 7, 10),
        "credit.repaired",
        "r1",
        target="dishonest",
        ref="C1",
        approved_on="2026-07-10",
    )
    state = feed([listed])
    assert state.grade == "D"
    state = feed([listed, repair])
    assert (state.grade, state.repairs["dishonest:C1"]["status"]) == ("A", "accepted")
    early = feed([repair])
    assert early.repairs["dishonest:C1"]["status"] == "pending"


# --- overrides -------------------------------------------------------------------------
def override(grade: str, set_on: date, last_day: str) -> dict[str, Any]:
    return {"grade": grade, "reason": "核查中", "set_at": at(set_on), "expires_on": last_day,
            "set_by": "admin", "override_id": "o1"}  # fmt: skip


def test_an_override_holds_through_its_last_day_and_expires_by_itself() -> None:
    state = feed([penalty(date(2026, 3, 1), 1)])
    assert state.grade == "A"
    state.override = override("D", set_on=date(2026, 3, 2), last_day="2026-03-31")
    out = recheck(state, at=datetime.fromisoformat(at(date(2026, 3, 2))), now=datetime.now(UTC))
    assert (state.grade, state.computed_grade, state.overridden) == ("D", "A", "D")
    assert out.grade_changes[0]["override"] == {"from": None, "to": "D"}
    assert state.recheck_at == day_start(date(2026, 4, 1))
    assert look(state, date(2026, 3, 31)).grade == "D"
    assert look(state, date(2026, 4, 1)).grade == "A"


def test_an_override_set_after_the_clock_waits_for_its_moment() -> None:
    state = feed([penalty(date(2026, 3, 1), 1)])
    state.override = override("C", set_on=date(2026, 5, 1), last_day="2026-06-30")
    assert look(state, date(2026, 4, 1)).grade == "A"
    assert look(state, date(2026, 5, 2)).grade == "C"


# --- the timeline ----------------------------------------------------------------------
KINDS = ["penalty", "revoke", "repair", "abnormal", "unlist", "commend", "rating", "inspect"]


def random_journal(rnd: random.Random, n: int) -> list[list[Any]]:
    start, out = date(2024, 1, 1), []
    for i in range(n):
        day = start + timedelta(days=rnd.randint(0, 1400))
        kind = rnd.choice(KINDS)
        ref = f"P{rnd.randint(0, 2)}"
        if kind == "penalty":
            out.append(
                penalty(
                    day,
                    int(ref[1:]),
                    rnd.choice([5000, 80000]),
                    rnd.choice([("fine",), ("criticism",)]),
                )
            )
            out[-1][2] = f"e{i}"
        elif kind == "revoke":
            out.append(entry(day, "penalty.revoked", f"e{i}", decision_no=ref))
        elif kind == "repair":
            target = rnd.choice(["penalty", "abnormal"])
            out.append(
                entry(
                    day,
                    "credit.repaired",
                    f"e{i}",
                    target=target,
                    ref=ref,
                    approved_on=day.isoformat(),
                )
            )
        elif kind in ("abnormal", "unlist"):
            etype = "list.abnormal_added" if kind == "abnormal" else "list.abnormal_removed"
            out.append(entry(day, etype, f"e{i}", reason="disclosure_missing"))
        elif kind == "commend":
            out.append(entry(day, "commendation.awarded", f"e{i}", title="t", level="市级"))
        elif kind == "rating":
            out.append(
                entry(
                    day, "tax.credit_rated", f"e{i}", year=day.year - 1, rating=rnd.choice("ABMCD")
                )
            )
        else:
            out.append(
                entry(
                    day,
                    "inspection.completed",
                    f"e{i}",
                    plan_id="p",
                    result=rnd.choice(["passed", "issues_found"]),
                )
            )
    return out


def as_of(snapshots: list[dict[str, Any]], bound: str) -> dict[str, Any] | None:
    """What the store answers: the last snapshot kept (one per instant) before `bound`."""
    before = [s for s in compact(snapshots) if s["at"] < bound]
    return before[-1] if before else None


@settings(max_examples=60, deadline=None)
@given(st.randoms(use_true_random=False), st.integers(1, 14))
def test_the_timeline_answers_as_of_like_a_replay_cut_at_that_date(
    rnd: random.Random, n: int
) -> None:
    journal = random_journal(rnd, n)
    # every timer fired: the timeline as the worker leaves it once the clocks have run
    _, snapshots = replay(USCC, journal, until="2031-01-01T00:00:00+00:00")
    for _ in range(6):
        day = date(2024, 1, 1) + timedelta(days=rnd.randint(-10, 1500))
        bound = day_start(day + timedelta(days=1))  # the end of `day`
        found = as_of(snapshots, bound)
        last = (datetime.fromisoformat(bound) - timedelta(microseconds=1)).isoformat()
        cut, _ = replay(USCC, journal, until=last)
        if found is None:
            assert cut.clock is None
            continue
        want = (cut.grade, cut.score, dict(sorted(cut.contributions.items())))
        assert (found["grade"], found["score"], found["indicators"]) == want, day
