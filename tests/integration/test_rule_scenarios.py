"""Every registered rule through the real pipeline and Redis, replayed in event time: the
events that make it fire (its evidence: their ids), a near miss that never does, what
closes it (an event, or time passing), and the same events reversed and redelivered,
which must leave the same open warnings and grade. The related-party rules are in
test_related_scenarios.py, on the same shared test bodies."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest

from agents.pipeline import Pipeline
from agents.replay import Replayer
from rules.indicators import get_rule
from streams.settings import StoreSettings
from streams.store import Store
from tests import factories as f
from tests.factories import annual_report as report
from tests.factories import changed as change
from tests.factories import clock, complaints, ids, permit
from tests.factories import moved as move
from tests.factories import registered_on as reg
from tests.factories import unique_person as someone

pytestmark = pytest.mark.integration

Event = dict[str, Any]


# --- event builders -------------------------------------------------------------------
def ev(etype: str, code: str, day: str, source: str = "samr", **payload: Any) -> Event:
    return f.event(etype, code, payload, day=day, source=source)


def court(etype: str, code: str, day: str, case_no: str, **payload: Any) -> Event:
    return ev(etype, code, day, "court", case_no=f"({day[:4]})粤03执{case_no}号", **payload)


def abnormal(code: str, day: str, reason: str, removed: bool = False) -> Event:
    return ev(f"list.abnormal_{'removed' if removed else 'added'}", code, day, reason=reason)


def inspection(code: str, day: str, result: str) -> Event:
    return ev("inspection.completed", code, day, plan_id="2026-双随机-01", result=result)


def tax(etype: str, code: str, day: str, **payload: Any) -> Event:
    return ev(f"tax.{etype}", code, day, "tax", **payload)


def arrears(code: str, day: str, amount: float, period: str) -> Event:
    return tax("arrears", code, day, amount=amount, tax_type="增值税", period=period)


def rated(code: str, day: str, year: int, rating: str) -> Event:
    return tax("credit_rated", code, day, year=year, rating=rating)


# --- the scenarios --------------------------------------------------------------------
@dataclass
class Case:
    """`fires` (in order) give every firm of `evidence` the warning, citing those event
    ids; `closes`, after them, closes each one. No firm named in `near_miss` ever gets
    the warning (with the `allowed` addresses on the allow-list first)."""

    fires: list[Event]
    evidence: dict[str, list[str]]
    near_miss: list[Event]
    closes: list[Event]
    allowed: list[str] = field(default_factory=list)


Build = Callable[[], Case]
CASES: dict[str, Build] = {}  # "rule_id" or "rule_id/variant" -> a fresh scenario


def case(name: str, into: dict[str, Build] = CASES) -> Callable[[Build], Build]:
    def add(build: Build) -> Build:
        into[name] = build
        return build

    return add


@case("penalty_frequency")
def _penalties() -> Case:
    c, o = f.uscc(), f.uscc()
    three = [f.penalty(c, day) for day in ("2025-03-01", "2025-09-01", "2026-03-01")]
    revoked, simple = f.penalty(o, "2024-11-01"), f.penalty(o, "2024-10-01", procedure="simple")
    # a year and a day from the first to the last; a simple procedure; a decision revoked
    # (the revocation came first)
    early = [reg(o), f.penalty(o, "2024-03-01"), f.penalty(o, "2024-09-01")]
    cancel = ev("penalty.revoked", o, "2024-12-01", decision_no=revoked["payload"]["decision_no"])
    near = [*early, cancel, revoked, simple, f.penalty(o, "2025-03-02")]
    undo = ev("penalty.revoked", c, "2026-04-01", decision_no=three[1]["payload"]["decision_no"])
    return Case([reg(c), *three], {c: ids(*three)}, near, [undo])  # 365 days: within


@case("dishonest_enterprise")
def _dishonest() -> Case:
    c, o = f.uscc(), f.uscc()
    listed = court("court.dishonest_listed", c, "2026-03-01", "1")
    # sued and under enforcement but not listed; a listing whose removal came first
    sued = court("court.judgment", o, "2026-01-10", "2", court="深圳中院", role="defendant",
                 cause="买卖合同纠纷", amount=120000, judged_on="2026-01-10")  # fmt: skip
    enforced = court("court.enforcement", o, "2026-02-10", "3", amount=120000, status="filed")
    undone = [court(f"court.dishonest_{x}", o, "2026-03-01", "4") for x in ("removed", "listed")]
    undone[0]["occurred_at"] = "2026-05-01T10:00:00+08:00"
    removed = court("court.dishonest_removed", c, "2026-05-01", "1")  # the same case
    return Case([reg(c), listed], {c: ids(listed)}, [reg(o), sued, enforced, *undone], [removed])


@case("abnormal_list")
def _abnormal() -> Case:
    c, o = f.uscc(), f.uscc()
    second = abnormal(c, "2026-03-05", "disclosure_missing")
    # listed for two reasons, one removed: still listed
    one = abnormal(c, "2026-03-01", "annual_report_missing")
    fires = [reg(c), one, second, abnormal(c, "2026-04-01", "annual_report_missing", True)]
    # on the other list; a removal that came before its (older) listing
    serious = ev("list.serious_added", o, "2026-03-01", reason="虚假登记")
    undone = [abnormal(o, "2026-03-10", "falsified_disclosure", True),
              abnormal(o, "2026-03-01", "falsified_disclosure")]  # fmt: skip
    closes = [abnormal(c, "2026-05-01", "disclosure_missing", True)]
    return Case(fires, {c: ids(second)}, [reg(o), serious, *undone], closes)


@case("serious_violation_list")
def _serious() -> Case:
    c, o = f.uscc(), f.uscc()
    listed = ev("list.serious_added", c, "2026-03-01", reason="拒不履行行政处罚决定")
    # on the abnormal list only; removed at the very instant of the listing
    near = [reg(o), abnormal(o, "2026-03-01", "falsified_disclosure"),
            ev("list.serious_removed", o, "2026-03-01"),
            ev("list.serious_added", o, "2026-03-01", reason="虚假登记")]  # fmt: skip
    # repair is possible 6 months after the listing: 1 September, exactly
    repaired = ev("credit.repaired", c, "2026-09-01", target="serious", ref="深市监严〔2026〕1号",
                  approved_on="2026-09-01")  # fmt: skip
    return Case([reg(c), listed], {c: ids(listed)}, near, [repaired])


@case("unreachable")
def _unreachable() -> Case:
    c, o = f.uscc(), f.uscc()
    gone, registered = inspection(c, "2026-03-01", "unreachable"), reg(c)
    # a newer inspection reached it before an older "unreachable" one was reported
    seen = [inspection(o, "2026-03-10", "passed"), inspection(o, "2026-03-01", "unreachable")]
    near = [reg(o), *seen]
    return Case([registered, gone], {c: ids(gone)}, near, [move(registered, "2026-04-01")])


@case("zero_annual_report")
def _zero_report() -> Case:
    c, o = f.uscc(), f.uscc()
    zero = report(c, 2025, "2026-04-01")
    # one insured employee; an all-zero report for an older year, filed late
    near = [reg(o), report(o, 2025, "2026-04-01", insured_employees=1),
            report(o, 2024, "2026-04-02")]  # fmt: skip
    busy = report(c, 2026, "2027-04-01", employees=3, revenue=250000, insured_employees=3)
    return Case([reg(c), zero], {c: ids(zero)}, near, [busy])


@case("abnormal_age")
def _age() -> Case:
    c, o = f.uscc(), f.uscc()
    old = someone("赵老", born=date(1944, 1, 14))  # 76 on 2020-01-15
    registered = reg(c, legal_rep=old)
    # 75 and 18 on the day: neither too old nor too young
    young = {**someone("孙小", born=date(2002, 1, 15)), "role": "监事"}
    near = [reg(o, legal_rep=someone("钱老", born=date(1944, 1, 16)), officers=[young])]
    replaced = change(c, "2026-04-01", "legal_rep", old, someone())
    return Case([registered], {c: ids(registered)}, near, [replaced])


@case("frequent_changes")
def _changes() -> Case:
    c, o = f.uscc(), f.uscc()
    p, q = [someone() for _ in range(3)], [someone() for _ in range(4)]
    holders = [{"name": "某投资有限公司", "uscc": f.uscc(), "ratio": 1.0}]
    three = [change(c, "2026-01-10", "legal_rep", p[0], p[1]),
             change(c, "2026-03-01", "legal_rep", p[1], p[2]),
             change(c, "2026-05-20", "shareholders", None, holders)]  # fmt: skip
    # three in 181 days, and an address change, which does not count
    first = reg(o, legal_rep=q[0])
    near = [first, change(o, "2025-07-01", "legal_rep", q[0], q[1]), move(first, "2025-08-01"),
            change(o, "2025-10-01", "legal_rep", q[1], q[2]),
            change(o, "2025-12-28", "legal_rep", q[2], q[3])]  # fmt: skip
    # 2026-01-10 leaves the 180-day window on 2026-07-09
    return Case([reg(c, legal_rep=p[0]), *three], {c: ids(*three)}, near, [clock("2026-07-09")])


@case("permit_expiring")
def _expiring() -> Case:
    c, renewed, later = f.uscc(), f.uscc(), f.uscc()
    granted = permit(c, "2026-03-01", "JY1", "2026-07-01")
    fires = [reg(c), granted, clock("2026-06-01")]  # 30 days before expiry, by timer
    # renewed before the warning day; due on 2026-07-02, while time stops the day before
    near = [reg(renewed), permit(renewed, "2026-03-01", "JY2", "2026-07-01"),
            permit(renewed, "2026-05-15", "JY3", "2031-07-01"),
            reg(later), permit(later, "2026-03-01", "JY4", "2026-08-01"),
            clock("2026-07-01")]  # fmt: skip
    renewal = permit(c, "2026-06-10", "JY5", "2029-07-01")
    return Case(fires, {c: ids(granted)}, near, [renewal])


@case("permit_missing")
def _missing() -> Case:
    c, granted, loaded, free = f.uscc(), f.uscc(), f.uscc(), f.uscc()
    registered = reg(c, "2026-03-02", industry="F5212")
    fires = [registered, clock("2026-04-01")]  # 30 days after establishment, by timer
    # granted in time; known only long after establishment; no permit needed
    near = [reg(granted, "2026-03-02", industry="F5212"),
            permit(granted, "2026-03-20", "JY6", "2031-03-20"),
            reg(loaded, "2026-03-02", industry="F5212", established_on="2025-06-01"),
            reg(free, "2026-03-02"), clock("2026-04-02")]  # fmt: skip
    late = permit(c, "2026-04-10", "JY7", "2031-04-10")
    return Case(fires, {c: ids(registered)}, near, [late])


@case("tax_arrears")
def _arrears_amount() -> Case:
    c, o = f.uscc(), f.uscc()
    two = [arrears(c, "2026-02-15", 60000, "2026-01"), arrears(c, "2026-03-15", 40000, "2026-02")]
    # a cent short, and outstanding for 90 days, not more
    near = [reg(o), arrears(o, "2026-02-15", 60000, "2026-01"),
            arrears(o, "2026-03-15", 39999.99, "2026-02"), clock("2026-05-16")]  # fmt: skip
    paid = [tax("arrears_cleared", c, "2026-04-01", period=p) for p in ("2026-01", "2026-02")]
    return Case([reg(c), *two], {c: ids(*two)}, near, paid)  # 100,000 CNY in all


@case("tax_arrears/overdue")
def _arrears_overdue() -> Case:
    c, paid, recent = f.uscc(), f.uscc(), f.uscc()
    owed = arrears(c, "2026-02-15", 20000, "2026-01")
    fires = [reg(c), owed, clock("2026-05-17")]  # the 91st day, by timer
    # cleared on day 85; outstanding for 90 days at the last clock
    near = [reg(paid), arrears(paid, "2026-02-15", 20000, "2026-01"),
            tax("arrears_cleared", paid, "2026-05-10", period="2026-01"),
            reg(recent), arrears(recent, "2026-02-16", 20000, "2026-01"),
            clock("2026-05-17")]  # fmt: skip
    cleared = tax("arrears_cleared", c, "2026-05-20", period="2026-01")
    return Case(fires, {c: ids(owed)}, near, [cleared])


@case("tax_violation")
def _tax_violation() -> Case:
    c, o = f.uscc(), f.uscc()
    found = tax("violation", c, "2026-03-01", case_no="深税稽罚〔2026〕1号", amount=300000)
    # reported late, one day older than the 1095-day window
    old = tax("violation", o, "2023-03-02", case_no="深税稽罚〔2023〕9号", amount=300000)
    near = [reg(o), rated(o, "2026-03-01", 2025, "A"), old]
    return Case([reg(c), found], {c: ids(found)}, near, [clock("2029-02-28")])  # 1095 days on


@case("social_insurance_arrears")
def _social_insurance() -> Case:
    c, o = f.uscc(), f.uscc()

    def owed(code: str, day: str) -> Event:
        return ev("social_insurance.arrears", code, day, "hrss", amount=18000, period=day[:7])

    first = owed(c, "2026-03-01")
    # reported late, one day older than the 365-day window
    near = [reg(o), rated(o, "2026-03-01", 2025, "B"), owed(o, "2025-03-01")]
    return Case([reg(c), first], {c: ids(first)}, near, [clock("2027-03-01")])  # 365 days on


@case("tax_credit_low")
def _rating() -> Case:
    c, o = f.uscc(), f.uscc()
    low = rated(c, "2026-04-01", 2025, "D")
    # one grade better; a D for an older year, reported later
    near = [reg(o), rated(o, "2026-04-01", 2025, "C"), rated(o, "2026-04-02", 2024, "D")]
    return Case([reg(c), low], {c: ids(low)}, near, [rated(c, "2027-04-01", 2026, "B")])


@case("complaint_frequency")
def _complaints() -> Case:
    c, o = f.uscc(), f.uscc()
    n, window = (get_rule("complaint_frequency").defaults[k] for k in ("threshold", "window_days"))
    first, last = date(2026, 1, 5), date(2026, 3, 1)  # the threshold gets tuned: n from it
    days = [str(first + timedelta(days=k * (last - first).days // (n - 1))) for k in range(n)]
    fires = complaints(c, *days)
    # as many, but the first a day before the window of the last
    near = [reg(o), *complaints(o, str(last - timedelta(days=window)), *days[1:])]
    # the first leaves the window `window` days on
    return Case([reg(c), *fires], {c: ids(*fires)}, near, [clock(str(first + timedelta(window)))])


def decided(code: str, day: str, amount: float, *measures: str, violation: str = "虚假宣传"):
    body = f.penalty(code, day)
    body["payload"].update(amount=amount, measures=list(measures), violation=violation)
    return body


@case("penalty_record")
def _penalty_record() -> Case:
    c, o = f.uscc(), f.uscc()
    fine = decided(c, "2026-03-01", 50000, "fine")  # above the small fine: 3 years
    revoked = f.penalty(o, "2026-03-01")
    cancel = ev("penalty.revoked", o, "2026-03-05", decision_no=revoked["payload"]["decision_no"])
    near = [reg(o), f.penalty(o, "2026-02-01", procedure="simple"), cancel, revoked]
    return Case([reg(c), fine], {c: ids(fine)}, near, [clock("2029-03-01")])


@case("penalty_record/short")
def _penalty_record_short() -> Case:
    c, o = f.uscc(), f.uscc()
    small = decided(c, "2026-03-01", 30000, "fine", "criticism")  # 3 months
    # criticism only, 3 months and a day ago
    near = [reg(o), decided(o, "2025-11-30", 0, "criticism"), clock("2026-03-01")]
    return Case([reg(c), small], {c: ids(small)}, near, [clock("2026-06-01")])


@case("abnormal_overdue")
def _abnormal_overdue() -> Case:
    c, o = f.uscc(), f.uscc()
    listed = abnormal(c, "2026-03-01", "unreachable_address")
    # removed the day before its third anniversary
    near = [reg(o), abnormal(o, "2026-03-01", "disclosure_missing"),
            abnormal(o, "2029-02-28", "disclosure_missing", True), clock("2029-03-05")]  # fmt: skip
    fires = [reg(c), listed, clock("2029-03-01")]
    return Case(
        fires, {c: ids(listed)}, near, [abnormal(c, "2029-04-01", "unreachable_address", True)]
    )


@case("annual_report_missing")
def _annual_report_missing() -> Case:
    c, o, young = f.uscc(), f.uscc(), f.uscc()
    # first seen after the 2022 reports' deadline: judged from the 2023 reports on
    registered = reg(c, "2023-08-01", established_on="2019-05-20")
    fires = [registered, report(c, 2023, "2024-04-01", revenue=1e6), clock("2025-07-01")]
    # filed on 30 June itself, late in the day; established in 2025 (judged from 2026)
    last_day = report(o, 2024, "2025-06-30", revenue=1e6)
    last_day["occurred_at"] = "2025-06-30T23:30:00+08:00"
    near = [reg(o, "2023-08-01", established_on="2019-05-20"),
            report(o, 2023, "2024-04-01", revenue=1e6), last_day, reg(young, "2025-03-01"),
            clock("2025-07-02")]  # fmt: skip
    late = report(c, 2024, "2025-08-01", revenue=1e6)
    return Case(fires, {c: ids(registered)}, near, [late])


@case("commended")
def _commended() -> Case:
    c, o = f.uscc(), f.uscc()
    award = ev("commendation.awarded", c, "2026-03-01", title="守合同重信用企业", level="省级")
    old = ev("commendation.awarded", o, "2023-02-28", title="守合同重信用企业", level="市级")
    near = [reg(o), old, clock("2026-03-01")]  # 36 months over on 2026-02-28
    return Case([reg(c), award], {c: ids(award)}, near, [clock("2029-03-01")])


@case("tax_credit_a")
def _tax_credit_a() -> Case:
    c, o = f.uscc(), f.uscc()
    top = rated(c, "2026-04-01", 2025, "A")
    # an A for an older year, arriving after the newer B
    near = [reg(o), rated(o, "2026-04-01", 2025, "B"), rated(o, "2026-04-02", 2024, "A")]
    return Case([reg(c), top], {c: ids(top)}, near, [rated(c, "2027-04-01", 2026, "B")])


@case("inspection_passed")
def _inspection_passed() -> Case:
    c, o = f.uscc(), f.uscc()
    passed = inspection(c, "2026-03-01", "passed")
    # passed more than a year ago; passed, then found unreachable
    near = [reg(o), inspection(o, "2024-01-01", "passed"), inspection(o, "2025-06-01", "passed"),
            inspection(o, "2025-09-01", "unreachable"), clock("2026-03-01")]  # fmt: skip
    return Case(
        [reg(c), passed], {c: ids(passed)}, near, [inspection(c, "2026-05-01", "issues_found")]
    )


# --- the shared test bodies -----------------------------------------------------------
Verdicts = dict[str, tuple[dict[str, list[str]], str | None, int | None, list[str]]]


def rule_of(name: str) -> str:
    return name.split("/")[0]


def usccs(events: list[Event]) -> list[str]:
    return list(dict.fromkeys(e["uscc"] for e in events if "uscc" in e))


def replayer(store: Store, batch_size: int = 1) -> Replayer:
    return Replayer(Pipeline(store, "fanout"), batch_size=batch_size)


async def feed(replay: Replayer, events: list[Event]) -> None:
    stats = await replay.run(f.encode(e) for e in events)
    assert stats.dead_letters == 0, "a scenario event broke the contract"


async def records(store: Store, code: str, rule_id: str) -> list[dict[str, Any]]:
    """The enterprise's warning records of one rule, newest first."""
    return [r for r in await store.enterprise_warnings(code, 50) if r["rule_id"] == rule_id]


async def check_fires_then_closes(store: Store, name: str, build: Build) -> None:
    """A warning rule: its warning with the evidence, then closed. A scoring-only or
    credit indicator (no severity): its contribution to the score, then gone."""
    rule, scenario = get_rule(rule_of(name)), build()
    replay = replayer(store)
    await feed(replay, scenario.fires)
    for code, evidence in scenario.evidence.items():
        state = await store.get_enterprise(code)
        assert state is not None and state.contributions.get(rule.rule_id) == (
            rule.bonus - rule.deduction
        ), f"{code} does not count {rule.rule_id}"
        if rule.severity is None:
            assert rule.rule_id not in state.open_warnings
            continue
        assert rule.rule_id in state.open_warnings, f"{code} not warned"
        warning = state.open_warnings[rule.rule_id]
        assert warning["severity"] == rule.severity
        assert sorted(warning["evidence"]) == sorted(evidence)
        raised = [(r["warning_id"], r["status"]) for r in await records(store, code, rule.rule_id)]
        assert raised == [(warning["warning_id"], "open")]
    await feed(replay, scenario.closes)
    for code in scenario.evidence:
        state = await store.get_enterprise(code)
        assert state is not None and rule.rule_id not in state.open_warnings, f"{code} still warned"
        assert rule.rule_id not in state.contributions
        statuses = [r["status"] for r in await records(store, code, rule.rule_id)]
        assert statuses == ([] if rule.severity is None else ["closed", "open"])


async def check_near_miss(store: Store, name: str, build: Build) -> None:
    """Never warned, and not counting in the end."""
    scenario = build()
    for address in scenario.allowed:
        await store.allow_address(address)
    await feed(replayer(store), scenario.near_miss)
    rule_id = rule_of(name)
    for code in usccs(scenario.near_miss):
        state = await store.get_enterprise(code)
        assert state is not None and rule_id not in state.contributions, f"{code} counts it"
        assert await records(store, code, rule_id) == [], f"{code} warned"


async def verdicts(settings: StoreSettings, events: list[Event], batch_size: int) -> Verdicts:
    """Each enterprise's open warnings (rule -> evidence), grade and score after a replay
    into a store of its own."""
    store = Store.from_settings(settings)
    try:
        await feed(replayer(store, batch_size), events)
        found: Verdicts = {}
        for code in usccs(events):
            state = await store.get_enterprise(code)
            assert state is not None
            opened = {r: sorted(w["evidence"]) for r, w in state.open_warnings.items()}
            found[code] = (opened, state.grade, state.score, sorted(state.contributions))
        return found
    finally:
        await store.close()


def messy(events: list[Event]) -> list[Event]:
    """Reversed, every other event twice in a row, and the first one again at the end."""
    out: list[Event] = []
    for n, event in enumerate(reversed(events)):
        out += [event, event] if n % 2 == 0 else [event]
    return [*out, events[0]]


async def check_order_and_duplicates(
    settings: StoreSettings, name: str, build: Build, closing: bool
) -> None:
    scenario = build()
    events = scenario.fires + (scenario.closes if closing else [])
    in_order = await verdicts(settings, events, batch_size=1)
    elsewhere = settings.model_copy(update={"key_prefix": f"{settings.key_prefix}-messy"})
    assert await verdicts(elsewhere, messy(events), batch_size=3) == in_order
    # scoring-only and credit indicators count in the score without a warning
    warned = {code for code, (_, _, _, counted) in in_order.items() if rule_of(name) in counted}
    assert warned == (set() if closing else set(scenario.evidence))


# --- the tests ------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(CASES))
async def test_fires_with_its_evidence_then_closes(store: Store, name: str) -> None:
    await check_fires_then_closes(store, name, CASES[name])


@pytest.mark.parametrize("name", sorted(CASES))
async def test_near_miss_never_fires(store: Store, name: str) -> None:
    await check_near_miss(store, name, CASES[name])


@pytest.mark.parametrize("closing", [False, True], ids=["open", "closed"])
@pytest.mark.parametrize("name", sorted(CASES))
async def test_reversed_and_redelivered_give_the_same_verdicts(
    store_settings: StoreSettings, name: str, closing: bool
) -> None:
    await check_order_and_duplicates(store_settings, name, CASES[name], closing)
