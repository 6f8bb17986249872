"""The incremental rules against their oracle: the implementations that rescanned the
state at every evaluation (tests/oracle/rules_before.py).

Hypothesis draws streams of events for a few firms that share people and addresses
(so the related-party rules see each other's links), then delivers them late,
duplicated and reordered. Each stream goes through the engine twice, once with the
catalogue's rules and once with the oracle's in their place, with the related-party
indexes kept in memory as a batch keeps them; every outcome (warnings with their
evidence, grade changes, timeline snapshots) and every final state must be the same.

`CREDITWATCH_ORACLE_EXAMPLES` sets the number of streams (default 40, about 5 s; 300 is the
documented longer run).
"""

from __future__ import annotations

import dataclasses
import os
import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from rules import counters
from rules.calendar import add_months
from rules.catalogue import RuleInput
from rules.engine import Outcome, process_event
from rules.folding import apply_event
from rules.indicators import get_rule
from rules.related import RelatedData, view
from rules.ruleset import RuleSet
from rules.state import EnterpriseState, key_people_of
from streams.contract.identifiers import make_id_number, make_uscc, person_key
from tests.oracle.rules_before import ORACLE, in_window

ORACLE_RULES = {"commended": get_rule("commended").evaluate}
EXAMPLES = int(os.environ.get("CREDITWATCH_ORACLE_EXAMPLES", "40"))

_rng = random.Random(21)
FIRMS = [make_uscc(_rng) for _ in range(3)]
#: born so that some are too young or too old on some days of the stream
PEOPLE = [
    make_id_number(_rng, born)
    for born in (date(1950, 6, 1), date(1980, 1, 1), date(2008, 9, 30), date(1951, 3, 3))
]
ADDRESSES = ["深圳市南山区科技园路1号", "深圳市 南山区科技园路１号", "广州市天河区体育西路2号"]
START = date(2025, 6, 1)

#: thresholds low enough for three firms to reach them
RULESET = RuleSet(
    "oracle",
    overrides={
        "person_many_firms": {"legal_rep_threshold": 2, "officer_threshold": 2},
        "address_cluster": {"active_threshold": 3, "new_threshold": 2, "new_window_days": 5},
        "complaint_frequency": {"threshold": 2, "window_days": 30},
        "frequent_changes": {"threshold": 2, "window_days": 60},
        "tax_violation": {"threshold": 2, "window_days": 90},
        "social_insurance_arrears": {"threshold": 1, "window_days": 40},
        "penalty_frequency": {"threshold": 2, "window_days": 365},
        "penalty_record": {"small_fine": 2000.0},
        "commended": {"months": 4},
        "permit_expiring": {"days_before": 60},
        "permit_missing": {"industries": ["5211"], "grace_days": 10},
        "tax_arrears": {"min_amount": 150.0, "max_days": 30},
    },
)


def oracle_ruleset(ruleset: RuleSet) -> RuleSet:
    """The same rule set with each rule of `ORACLE` evaluated by its old function."""
    twin = dataclasses.replace(ruleset)
    twin.__dict__["_active"] = [  # the cached list the engine reads
        dataclasses.replace(
            a,
            rule=dataclasses.replace(a.rule, evaluate=ORACLE.get(a.rule.rule_id, a.rule.evaluate)),
        )
        for a in ruleset.active()
    ]
    return twin


def _person(n: int, role: str | None = None) -> dict[str, str]:
    entry = {"name": f"人{n}", "id_no": PEOPLE[n]}
    return entry | ({"role": role} if role else {})


def _payload(kind: str, n: int, day: date, pick: list[int]) -> tuple[str, dict[str, Any]]:
    a, b, c = pick
    if kind == "registered":
        return "enterprise.registered", {
            "name": f"公司{n}", "legal_rep": _person(a), "address": ADDRESSES[b % 3],
            "established_on": (day - timedelta(days=c * 2)).isoformat(),
            "officers": [_person(b % 4, "director")] if c % 2 else [],
            "shareholders": [_person(c % 4)], "industry": "5211", "district": "440305",
        }  # fmt: skip
    if kind == "changed":
        field, after = [
            ("legal_rep", _person(a)),
            ("address", ADDRESSES[b % 2 * 2]),
            ("officers", [_person(b % 4, "manager"), _person(c % 4, "director")]),
            ("shareholders", [_person(c % 4)]),
        ][c % 4]
        return "registration.changed", {"field": field, "before": None, "after": after}
    simple: dict[str, tuple[str, dict[str, Any]]] = {
        "deregistered": ("enterprise.deregistered", {"reason": "dissolved"}),
        "complaint": ("complaint.received", {"channel": "12315", "category": "商品质量"}),
        "tax_violation": ("tax.violation", {"case_no": f"V{n}", "amount": 1.0}),
        "si_arrears": ("social_insurance.arrears", {"amount": 10.0, "period": f"P{n}"}),
        # a few decision numbers, so a later decision or a revocation meets an earlier one;
        # decided some days before it is reported, or after (a decision dated ahead)
        "penalty": ("penalty.decided", {
            "decision_no": f"D{a}", "procedure": ["ordinary", "ordinary", "simple"][b % 3],
            "decided_on": (day - timedelta(days=c * 40 - 20)).isoformat(),
            "measures": ["fine"], "amount": [1000.0, 5000.0][c % 2]}),
        "penalty_revoked": ("penalty.revoked", {"decision_no": f"D{a}"}),
        "listed": ("person.dishonest_listed", {"case_no": f"C{n}", "person": _person(a)}),
        "case_listed": ("court.dishonest_listed", {"case_no": f"K{a}"}),
        "case_removed": ("court.dishonest_removed", {"case_no": f"K{a}"}),
        "commended": ("commendation.awarded", {"title": f"T{a}", "level": "city"}),
        "permit": ("permit.granted", {
            "permit_no": f"X{a}", "kind": f"kind{b % 2}",
            # a few expiry days, so two permits of a kind may expire on one day
            "valid_until": None if c == 3 else (START + timedelta(days=c * 150 + 60)).isoformat()}),
        "permit_revoked": ("permit.revoked", {"permit_no": f"X{a}"}),
        "arrears": ("tax.arrears", {"period": f"P{a}", "amount": [50.0, 0.1, 120.0, 7.3][b]}),
        "arrears_cleared": ("tax.arrears_cleared", {"period": f"P{a}"}),
        "repaired": ("credit.repaired", {
            "target": ["penalty", "dishonest"][b % 2], "ref": f"{'DK'[b % 2]}{a}",
            "approved_on": (day + timedelta(days=c * 100)).isoformat()}),
    }  # fmt: skip
    return simple[kind]


KINDS = ["registered", "changed", "deregistered", "complaint", "tax_violation", "si_arrears",
         "penalty", "listed", "penalty_revoked", "case_listed", "case_removed", "commended",
         "permit", "permit_revoked", "arrears", "arrears_cleared", "repaired"]  # fmt: skip
WEIGHTED = st.sampled_from(
    ["registered", "changed", "penalty", "repaired", "permit"] * 2 + ["complaint"] + KINDS
)

_picks = st.lists(st.integers(0, 3), min_size=3, max_size=3)
#: every firm registers early (so the related-party rules have firms to count), then
#: a mix, with days drawn close together (bursts) or spread over more than a year
raw_events = st.tuples(
    st.tuples(
        *(
            st.tuples(st.just(f), st.integers(0, 20), st.just("registered"), _picks)
            for f in range(len(FIRMS))
        )
    ),
    st.lists(
        st.tuples(
            st.integers(0, len(FIRMS) - 1),
            st.one_of(st.integers(0, 20), st.integers(0, 420)),
            WEIGHTED,
            _picks,
        ),
        max_size=32,
    ),
).map(lambda parts: list(parts[0]) + parts[1])


def build(raw: list[tuple[int, int, str, list[int]]]) -> list[dict[str, Any]]:
    events = []
    for n, (firm, day_no, kind, pick) in enumerate(raw):
        day = START + timedelta(days=day_no)
        etype, payload = _payload(kind, n, day, pick)
        at = datetime(day.year, day.month, day.day, 2, tzinfo=UTC) + timedelta(seconds=n)
        events.append({"uscc": FIRMS[firm], "type": etype, "event_id": f"e{n}",
                       "occurred_at": at, "payload": payload})  # fmt: skip
    return events


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A stream in event-time order, and the same stream as delivered: some events
    moved later (late), some sent twice, then locally reordered."""
    events = sorted(build(draw(raw_events)), key=lambda e: e["occurred_at"])
    delivered = list(events)
    for _ in range(draw(st.integers(0, 4))):
        i = draw(st.integers(0, len(delivered) - 1))
        late = delivered.pop(i)
        delivered.insert(draw(st.integers(i, len(delivered))), late)
    for _ in range(draw(st.integers(0, 3))):
        delivered.insert(
            draw(st.integers(0, len(delivered))), delivered[draw(st.integers(0, len(events) - 1))]
        )
    if draw(st.booleans()):
        delivered = draw(st.permutations(delivered))
    return events, delivered


def run(events: list[dict[str, Any]], ruleset: RuleSet) -> tuple[list[Outcome], dict[str, bytes]]:
    """The events one by one through the engine, states in a dict and the related-party
    indexes in memory; an event id seen before has no effect (the store's guard)."""
    states: dict[str, EnterpriseState] = {}
    data = RelatedData()
    outcomes: list[Outcome] = []
    seen: set[str] = set()
    for e in events:
        if e["event_id"] in seen:
            continue
        seen.add(e["event_id"])
        if e["type"] == "person.dishonest_listed":
            entry = f"{e['event_id']}|{e['occurred_at'].isoformat()}"
            data.listings.setdefault(person_key(e["payload"]["person"]["id_no"]), []).append(entry)
            continue
        state = states.setdefault(e["uscc"], EnterpriseState(e["uscc"]))
        outcome = process_event(
            state, etype=e["type"], payload=e["payload"], event_id=e["event_id"],
            occurred_at=e["occurred_at"], now=e["occurred_at"],
            related=lambda s: view(s, data), ruleset=ruleset,
        )  # fmt: skip
        outcomes.append(outcome)
        # the derived fields the rules read say what the records say
        assert state.people == key_people_of(state.profile)
        derived = EnterpriseState.from_json(state.to_json())
        derived.derive()
        assert derived.to_json() == state.to_json()
    return outcomes, {uscc: s.to_json() for uscc, s in sorted(states.items())}


def seen_by_rules(outcome: Outcome) -> tuple[Any, ...]:
    return (
        [(w["rule_id"], w["status"], w["evidence"], w["message"]) for w in outcome.warnings],
        outcome.grade_changes,
        outcome.snapshots,
        outcome.rule_errors,
    )


def assert_same(events: list[dict[str, Any]]) -> None:
    new, new_states = run(events, RULESET)
    old, old_states = run(events, oracle_ruleset(RULESET))
    assert [seen_by_rules(o) for o in new] == [seen_by_rules(o) for o in old]
    assert new_states == old_states


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(deliveries())
def test_incremental_rules_agree_with_the_oracle(streams) -> None:
    in_order, delivered = streams
    note(f"delivered: {[(e['event_id'], e['type'], e['uscc'][-4:]) for e in delivered]}")
    assert_same(in_order)
    assert_same(delivered)


def test_the_oracle_covers_rules_of_the_catalogue() -> None:
    ids = {a.rule.rule_id for a in RULESET.active()}
    assert set(ORACLE) <= ids


@settings(max_examples=EXAMPLES * 5, deadline=None)
@given(
    st.lists(st.integers(0, 1500), max_size=40),
    st.integers(0, 1600),
    st.integers(1, 400),
    st.randoms(use_true_random=False),
)
def test_window_reads_agree_with_the_oracle(days, until, window, rnd) -> None:
    """Day buckets kept in order, whatever the arrival order, read from the newest back."""
    events = [(START + timedelta(days=d), f"e{n}") for n, d in enumerate(days)]
    shuffled = list(events)
    rnd.shuffle(shuffled)
    ordered, late = {}, {}
    for day, event_id in events:
        counters.add(ordered, day, event_id)
    for day, event_id in shuffled:
        counters.add(late, day, event_id)
    assert list(late.get("days", {}).items()) == list(ordered.get("days", {}).items())
    assert list(late.get("days", {})) == sorted(late.get("days", {}))
    end = START + timedelta(days=until)
    assert counters.in_window(late, end, window) == in_window(late, end, window)
    count = in_window(late, end, window)[0]
    assert counters.in_window(late, end, window, at_least=3)[0] == count


#: streams the random ones seldom reach: a repair that lifts a penalty and a listing,
#: two permits of a kind expiring on one day, a revoked renewal, arrears cleared
FIXED = [
    [(0, 0, "registered", [0, 0, 0]), (0, 5, "penalty", [1, 0, 0]),
     (0, 40, "penalty", [2, 0, 1]), (0, 200, "repaired", [1, 0, 3]),
     (0, 10, "case_listed", [2, 0, 0]), (0, 300, "repaired", [2, 1, 2]),
     (0, 12, "commended", [0, 0, 0]), (0, 90, "commended", [1, 0, 0])],
    [(1, 0, "registered", [0, 1, 1]), (1, 10, "permit", [0, 0, 1]),
     (1, 11, "permit", [1, 0, 1]), (1, 30, "permit", [2, 0, 2]),
     (1, 31, "permit_revoked", [2, 0, 0]), (1, 200, "permit", [3, 1, 3]),
     (1, 20, "arrears", [0, 2, 0]), (1, 25, "arrears", [1, 0, 0]),
     (1, 50, "arrears_cleared", [1, 0, 0]), (1, 15, "penalty_revoked", [3, 0, 0]),
     (1, 16, "penalty", [3, 0, 0])],
]  # fmt: skip


@pytest.mark.parametrize("raw", FIXED)
@pytest.mark.parametrize("order", [0, 1, 2])
def test_repairs_and_ties_agree_with_the_oracle(raw, order) -> None:
    events = sorted(build(raw), key=lambda e: e["occurred_at"])
    if order:
        random.Random(order).shuffle(events)
    assert_same(events)


@settings(max_examples=EXAMPLES * 5, deadline=None)
@given(
    st.lists(
        st.one_of(st.integers(0, 1500), st.integers(-4, 4).map(lambda d: -(d + 5))), max_size=12
    ),
    st.integers(0, 1600),
    st.integers(1, 40),
    st.randoms(use_true_random=False),
)
def test_commendations_read_from_the_newest_agree_with_the_oracle(days, until, months, rnd):
    """Month ends included: the first award day still in force is found once. Negative
    draws put an award a few days either side of the day `months` before today."""
    state = EnterpriseState(FIRMS[0])
    today = START + timedelta(days=until)
    cutoff = add_months(today, -months)
    order = list(enumerate(days))
    rnd.shuffle(order)
    for n, day in order:
        on = START + timedelta(days=day) if day >= 0 else cutoff + timedelta(days=-day - 5)
        at = datetime(on.year, on.month, on.day, 2, tzinfo=UTC).isoformat()
        apply_event(state, "commendation.awarded", {"title": f"T{n % 3}"}, f"c{n}", at)
    state.clock = max(
        datetime(today.year, today.month, today.day, 2, tzinfo=UTC).isoformat(), state.clock or ""
    )
    new, old = RuleInput(state), RuleInput(state)
    assert ORACLE_RULES["commended"](new, {"months": months}) == ORACLE["commended"](
        old, {"months": months}
    )
    assert min(new.rechecks, default=None) == min(old.rechecks, default=None)
