"""The synthetic city's statutory clocks, checked on the raw events: annual reports due
by 30 June (and the planted annual_report_missing), and the multi-year credit
histories of NOISY firms (penalty publicity, revocation, credit repair, abnormal
listings). The shared helpers are in test_simulate.py."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

import pytest

from streams.contract.events import decode
from streams.contract.rejections import Rejected
from streams.simulation import City, generate_city, to_bytes
from streams.simulation.statutory import add_months
from tests.unit.simulation.test_simulate import (
    BIG,
    START,
    Event,
    bigger_city,
    day,
    reference,
    valid,
)

LONG = {"seed": 7, "enterprises": 300, "events": 6_000, "start": START, "days": 1_100,
        "invalid_rate": 0.01}  # fmt: skip
FOOD_DRUG = ("食品", "药品", "特种设备")


@cache
def long_city() -> tuple[City, tuple[Any, ...]]:
    made = generate_city(**LONG)  # type: ignore[arg-type]
    return made, tuple(made.events())


def by_firm(events: list[Event]) -> dict[str, list[Event]]:
    found: dict[str, list[Event]] = defaultdict(list)
    for e in events:
        if "uscc" in e:
            found[e["uscc"]].append(e)
    return found


def reports_of(evs: list[Event]) -> list[Event]:
    return [e for e in evs if e["type"] == "annual_report.filed"]


def reports_check(made: City, events: list[Event], end: date, start: date = START) -> list[Event]:
    """Every judged firm files each year whose deadline is in the period, in time;
    returns the first report in time of every (firm, year) checked."""
    truth, firms, checked = made.truth, by_firm(events), []
    for year in range(start.year - 1, end.year):
        deadline = date(year + 1, 6, 30)
        if not start <= deadline < end:
            continue
        for uscc, evs in firms.items():
            reg = evs[0]
            assert reg["type"] == "enterprise.registered"
            on = day(reg)
            gone = [day(e) for e in evs if e["type"] == "enterprise.deregistered"]
            founded = date.fromisoformat(reg["payload"]["established_on"]).year
            if on > deadline or founded > year or (gone and gone[0] <= deadline):
                continue
            filed = [e for e in evs if e["type"] == "annual_report.filed"
                     and e["payload"]["year"] == year]  # fmt: skip
            in_time = [e for e in filed if day(e) <= deadline]
            if uscc in truth["annual_report_missing"] and not in_time:
                continue  # planted (for this year): nothing in time, maybe a late one
            assert in_time, (uscc, year)
            first = in_time[0]
            checked.append(first)
            earliest = max(date(year + 1, 1, 1), min(on + timedelta(days=1), deadline))
            assert earliest <= day(first) <= deadline, (uscc, year)
            assert first["occurred_at"] > reg["occurred_at"]
    return checked


def test_reports_are_filed_by_30_june_for_every_judged_firm() -> None:
    made, items = bigger_city()
    events = valid(items)
    end = START + timedelta(days=BIG["days"])
    assert len(reports_check(made, events, end)) > 600
    truth, firms = made.truth, by_firm(events)
    hits, decoys = truth["annual_report_missing"], truth.negatives["annual_report_missing"]
    assert len(hits) >= 2 and len(decoys) >= 3 and not hits & decoys
    deadline = date(2026, 6, 30)
    for uscc in hits:  # never filed 2025 in time (the only year due in this city)
        assert not [e for e in firms[uscc] if e["type"] == "annual_report.filed"
                    and e["payload"]["year"] == 2025 and day(e) <= deadline]  # fmt: skip
    late = [e for u in hits for e in firms[u] if e["type"] == "annual_report.filed"]
    assert late and all(day(e) > deadline for e in late)  # filed late: fires, then closes
    kinds = defaultdict(list)
    for uscc in decoys:
        evs = firms[uscc]
        founded = date.fromisoformat(evs[0]["payload"]["established_on"])
        filed = [e for e in reports_of(evs) if e["payload"]["year"] == 2025]
        if founded.year > 2025:  # a new firm, established after the year
            kinds["new"].append(uscc)
            assert date(2026, 1, 1) <= day(evs[0]) <= deadline and not filed
        elif any(e["type"] == "enterprise.deregistered" for e in evs):
            kinds["gone"].append(uscc)
            (gone,) = (e for e in evs if e["type"] == "enterprise.deregistered")
            assert day(gone) <= deadline and not filed
        else:  # on the last day, late in the Beijing day (in UTC still 30 June)
            kinds["on_time"].append(uscc)
            (report,) = filed
            assert report["occurred_at"][:10] == "2026-06-30"
            assert report["occurred_at"][11:16] >= "17:30"
            assert datetime.fromisoformat(report["occurred_at"]).utctimetuple().tm_mday == 30
    assert sorted(kinds) == ["gone", "new", "on_time"]


def test_each_firm_files_once_per_year_due() -> None:
    made, items = bigger_city()
    count: dict[tuple[str, int], int] = defaultdict(int)
    for e in valid(items):
        if e["type"] == "annual_report.filed":
            count[(e["uscc"], e["payload"]["year"])] += 1
    planted = made.truth["zero_annual_report"] | made.truth.negatives["zero_annual_report"]
    # twice only where a planted report after the deadline amends the one filed in time
    assert all(n == 1 or u in planted for (u, _), n in count.items())


def test_long_city_exercises_the_statutory_clocks() -> None:
    made, items = long_city()
    events = valid(items)
    assert len(events) == LONG["events"] and len(items) == made.total
    end = START + timedelta(days=LONG["days"])
    assert len(reports_check(made, events, end)) > 500  # deadlines 2026, 2027 and 2028
    truth = made.truth
    rejected = [out for i in items for out in decode(to_bytes(i)) if isinstance(out, Rejected)]
    assert len(rejected) == made.n_invalid == 60

    found = reference(events, truth.allowed_addresses)
    for pattern, planted in truth.patterns.items():
        assert planted and found[pattern] == planted | truth.noise.get(pattern, set()), pattern

    penalties: dict[str, dict[str, Any]] = {}  # decision_no -> payload + uscc
    mixes: set[str] = set()
    revoked = eligible = premature = 0
    history = set()
    for e in events:
        p, uscc = e["payload"], e.get("uscc")
        if e["type"] == "penalty.decided":
            penalties[p["decision_no"]] = {**p, "uscc": uscc}
            if p["procedure"] == "ordinary":
                mixes.add(_mix(p))
        elif e["type"] == "penalty.revoked":
            assert penalties[p["decision_no"]]["uscc"] == uscc
            revoked += 1
            history.add(uscc)
        elif e["type"] == "credit.repaired":
            history.add(uscc)
            assert p["approved_on"] == e["occurred_at"][:10]
            if p["target"] != "penalty":
                assert p["target"] == "abnormal"
                continue
            penalty = penalties[p["ref"]]
            assert penalty["uscc"] == uscc and penalty["procedure"] == "ordinary"
            longer = any(word in penalty["violation"] for word in FOOD_DRUG)
            due = add_months(date.fromisoformat(penalty["decided_on"]), 12 if longer else 6)
            approved = date.fromisoformat(p["approved_on"])
            if approved >= due:
                eligible += 1
            else:
                assert (due - approved).days <= 5
                premature += 1
        elif e["type"].startswith("list.abnormal") and uscc in truth.noise["abnormal_list"]:
            history.add(uscc)
            assert p["reason"] == "disclosure_missing"
    assert mixes >= {"criticism", "small_fine", "criticism_fine", "large_fine", "food_drug"}
    assert revoked and eligible and premature
    assert any(e["type"] == "list.abnormal_removed" for e in events)
    assert truth.noise["abnormal_overdue"] and truth.noise["abnormal_overdue"] <= history
    # only NOISY firms: not clean, not planted, no decoy
    planted = set().union(*truth.patterns.values(), *truth.negatives.values())
    assert history and not history & (truth.clean | planted)
    credit = ("penalty.decided", "penalty.revoked", "credit.repaired", "list.abnormal_added",
              "list.abnormal_removed")  # fmt: skip
    made_by_histories = [e for e in events if e.get("uscc") in history and e["type"] in credit]
    assert len(made_by_histories) < 0.05 * len(events)


def _mix(p: dict[str, Any]) -> str:
    measures, amount = set(p["measures"]), float(p["amount"])
    if any(word in p["violation"] for word in FOOD_DRUG):
        return "food_drug"
    if measures == {"criticism"}:
        return "criticism"
    if measures == {"fine"} and amount <= 30_000:
        return "small_fine"
    if measures == {"criticism", "fine"} and amount <= 30_000:
        return "criticism_fine"
    return "large_fine"


def test_long_city_is_reproducible() -> None:
    made, items = long_city()
    again = generate_city(**LONG)  # type: ignore[arg-type]
    assert again.truth == made.truth
    assert [to_bytes(i) for i in again.events()] == [to_bytes(i) for i in items]


def test_a_period_starting_on_the_deadline_files_that_day() -> None:
    start = date(2026, 6, 30)
    made = generate_city(seed=4, enterprises=100, events=1_000, start=start, days=20)
    reports = reports_check(made, valid(made.events()), start + timedelta(days=20), start)
    assert len(reports) > 50 and all(day(e) == start for e in reports)


def test_years_due_outside_the_period_keep_background_reports() -> None:
    made = generate_city(seed=1, enterprises=100, events=600, start=START, days=90)
    assert not made._plan.reports
    reports = [e for e in valid(made.events()) if e["type"] == "annual_report.filed"]
    assert reports and {e["payload"]["year"] for e in reports} == {2025}
    assert len({e["uscc"] for e in reports}) < 100


def test_the_budget_must_hold_the_reports_due() -> None:
    args: dict[str, Any] = {"seed": 2, "enterprises": 100, "start": START, "days": 200}
    with pytest.raises(ValueError, match="annual reports due") as info:
        generate_city(events=150, **args)
    needed = int(re.search(r"at least (\d+)", str(info.value)).group(1))  # type: ignore[union-attr]
    reports = re.search(r"(\d+) annual reports due", str(info.value))
    assert reports and 50 < int(reports.group(1)) <= 100 < needed
    with pytest.raises(ValueError, match=f"at least {needed} "):
        generate_city(events=needed - 1, **args)
    made = generate_city(events=needed, **args)
    assert len(valid(made.events())) == needed


def test_planted_ordinary_penalties_count_three_years() -> None:
    """A fine of 30,000 or less alone is published 3 months only: penalty_frequency's
    planted penalties are never such, so 3 within 300 days all count at once."""
    for made, items in (bigger_city(), long_city()):
        planted = made.truth["penalty_frequency"] | made.truth.negatives["penalty_frequency"]
        seen = 0
        for e in valid(items):
            if e["type"] == "penalty.decided" and e["uscc"] in planted:
                p = e["payload"]
                if p["procedure"] == "ordinary":
                    seen += 1
                    assert not (p["measures"] == ["fine"] and p["amount"] <= 30_000), p
        assert seen >= 6
