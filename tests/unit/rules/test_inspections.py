"""The inspection draw (双随机、一公开) and blind spots, pure: quotas, exemptions, the
conflict rule, joint inspections and reproducibility."""

from __future__ import annotations

import math
from datetime import date
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules.inspections import (
    DEFAULT_RATIOS,
    GRADES,
    Filters,
    Inspector,
    Params,
    blind_spot,
    digest,
    draw,
    member,
    narrow,
    quota,
    reassess,
    snapshot,
    visible,
    worst_first,
)

DAY = date(2026, 6, 30)
DISTRICTS = ("440303", "440304", "440305", "440306")
EXEMPT = ("high_tech_grace", "inclusive_supervision")

entries = st.fixed_dictionaries(
    {
        "grade": st.sampled_from(GRADES),
        "district": st.sampled_from(DISTRICTS),
        "tags": st.lists(st.sampled_from((*EXEMPT, "food", "high_tech")), max_size=2),
        "registered_on": st.dates(date(2025, 1, 1), date(2026, 6, 30)).map(date.isoformat),
        "status": st.sampled_from(("active", "active", "deregistered")),
    }
)
populations = st.dictionaries(st.from_regex(r"9144[0-9]{14}", fullmatch=True), entries, max_size=80)
inspectors = st.lists(
    st.builds(
        Inspector,
        inspector_id=st.from_regex(r"ZF[0-9]{3}", fullmatch=True),
        name=st.just("执法员"),
        department=st.sampled_from(("samr", "tax", "customs")),
        district=st.one_of(st.none(), st.sampled_from(DISTRICTS)),
    ),
    min_size=1,
    max_size=8,
    unique_by=lambda i: i.inspector_id,
)
ratios = st.fixed_dictionaries({g: st.floats(0, 1) for g in GRADES})


def pool(*spec: tuple[str, str, str | None]) -> tuple[Inspector, ...]:
    return tuple(Inspector(i, f"name-{i}", dept, d) for i, dept, d in spec)


def population(
    found: dict[str, dict[str, Any]], params: Params, filters: Filters | None = None
) -> list[dict[str, Any]]:
    return snapshot(found.items(), filters or Filters(), params, DAY)


@settings(max_examples=150, deadline=None)
@given(populations, ratios, inspectors, st.integers(0, 400), st.text(min_size=1, max_size=8))
def test_quotas_exemptions_and_conflicts_hold_for_any_population(
    found: dict[str, dict[str, Any]],
    shares: dict[str, float],
    staff: list[Inspector],
    grace: int,
    seed: str,
) -> None:
    params = Params(shares, EXEMPT, grace, tuple(staff), 2, "own_district")
    pop = population(found, params)
    plan = draw(pop, params, seed)
    drawn = {t["uscc"]: t for t in plan["targets"]}
    by_id = {i.inspector_id: i for i in staff}
    for g in GRADES:
        of_grade = [m for m in pop if m["grade"] == g]
        eligible = [m for m in of_grade if not m["exempt"]]
        counts = plan["counts"][g]
        assert counts["population"] == len(of_grade) and counts["eligible"] == len(eligible)
        exact = Fraction(str(shares[g])) * len(eligible)  # the decimal ratio, no float creep
        assert counts["drawn"] == min(len(eligible), math.ceil(exact))
        assert sum(1 for t in drawn.values() if t["grade"] == g) == counts["drawn"]
    for m in pop:
        assert m["uscc"] in found and found[m["uscc"]]["status"] == "active"
        if m["grade"] == "D":
            assert m["exempt"] is None  # never exempt, whatever its tags or age
        if m["exempt"]:
            assert m["uscc"] not in drawn
    for t in drawn.values():
        assigned = [by_id[i] for i in t["inspectors"]]
        assert all(i.district != t["district"] for i in assigned), "conflict of interest"
        assert len(set(t["inspectors"])) == len(assigned) <= 2
        free = [i for i in staff if i.district != t["district"]]
        assert len(assigned) == min(2, len(free))
        if len({i.department for i in free}) >= 2 and len(assigned) == 2:
            assert assigned[0].department != assigned[1].department, "not a joint inspection"
        assert (t["uscc"] in plan["unassigned"]) == (not free)
    assert draw(pop, params, seed) == plan  # reproducible
    assert draw(list(reversed(pop)), params, seed) == plan  # input order does not matter


def test_ceil_counts_per_grade_with_the_default_ratios() -> None:
    found = {f"U{i:03}": {"grade": GRADES[i % 4], "district": "440305", "status": "active"}
             for i in range(200)}  # fmt: skip
    params = Params(inspectors=pool(("i1", "samr", None)))
    counts = draw(population(found, params), params, "seed")["counts"]
    assert {g: c["drawn"] for g, c in counts.items()} == {"A": 1, "B": 3, "C": 10, "D": 50}
    assert [quota(r, 50) for r in DEFAULT_RATIOS.values()] == [1, 3, 10, 50]
    assert quota(0.07, 100) == 7 and quota(0.1, 30) == 3  # no float creep past the ceiling


def test_exempt_tags_and_grace_apply_to_a_to_c_but_never_to_d() -> None:
    params = Params(exempt_tags=EXEMPT, grace_days=30)
    old, new = "2020-01-15", "2026-06-10"
    reasons = {
        (g, tags, on): member("U", {"grade": g, "tags": list(tags), "registered_on": on},
                              params, DAY)["exempt"]
        for g in GRADES for tags in ((), ("inclusive_supervision",)) for on in (old, new)
    }  # fmt: skip
    for (g, tags, on), reason in reasons.items():
        if g == "D":
            assert reason is None
        elif tags:
            assert reason == "tag:inclusive_supervision"
        else:
            assert reason == (f"grace:{new}" if on == new else None)
    edge = member("U", {"grade": "C", "registered_on": "2026-05-31"}, params, DAY)
    assert edge["exempt"] == "grace:2026-05-31"  # 30 days before the draw day: still in
    assert member("U", {"grade": "C", "registered_on": "2026-05-30"}, params, DAY)["exempt"] is None


def test_same_seed_same_plan_different_seed_different_plan() -> None:
    found = {f"U{i:04}": {"grade": "C", "district": DISTRICTS[i % 4], "status": "active"}
             for i in range(500)}  # fmt: skip
    staff = pool(
        *((f"i{n}", ("samr", "tax", "customs")[n % 3], DISTRICTS[n % 4]) for n in range(9))
    )
    params = Params(inspectors=staff)
    pop = population(found, params)
    first, again = draw(pop, params, "2026Q2"), draw(pop, params, "2026Q2")
    other = draw(pop, params, "2026Q3")
    assert first == again and first["counts"]["C"]["drawn"] == 100
    assert {t["uscc"] for t in first["targets"]} != {t["uscc"] for t in other["targets"]}
    assert first["population_digest"] == other["population_digest"] == digest(pop)


def test_inspectors_come_from_different_departments_where_possible() -> None:
    found = {
        f"U{i:02}": {"grade": "D", "district": "440305", "status": "active"} for i in range(30)
    }
    staff = pool(("a1", "samr", None), ("a2", "samr", None), ("a3", "samr", None),
                 ("t1", "tax", None))  # fmt: skip
    params = Params(inspectors=staff, inspectors_per_target=2)
    plan = draw(population(found, params), params, "s")
    assert all(len(t["inspectors"]) == 2 and "t1" in t["inspectors"] for t in plan["targets"])
    three = Params(inspectors=staff, inspectors_per_target=3)  # only two departments
    plan = draw(population(found, three), three, "s")
    assert all(len(t["inspectors"]) == 3 and "t1" in t["inspectors"] for t in plan["targets"])


def test_targets_nobody_may_visit_are_reported_not_failed() -> None:
    found = {"U1": {"grade": "D", "district": "440305", "status": "active"},
             "U2": {"grade": "D", "district": "440304", "status": "active"}}  # fmt: skip
    staff = pool(("i1", "samr", "440305"), ("i2", "tax", "440305"))
    params = Params(inspectors=staff)
    plan = draw(population(found, params), params, "s")
    assert plan["unassigned"] == ["U1"]
    assert [t["inspectors"] for t in plan["targets"]] == [[], ["i1", "i2"]]
    anyone = Params(inspectors=staff, conflict="none")
    assert draw(population(found, anyone), anyone, "s")["unassigned"] == []


def test_population_filters_and_a_recorded_snapshot_reassesses_the_same() -> None:
    found = {
        "U1": {"grade": "C", "district": "440305", "industry": "F52", "status": "active"},
        "U2": {"grade": "C", "district": "440304", "industry": "F52", "status": "active"},
        "U3": {"grade": "B", "district": "440305", "industry": "C13", "status": "active"},
        "U4": {"grade": None, "district": "440305", "status": "active"},  # ungraded
    }
    params = Params(exempt_tags=EXEMPT, grace_days=10)
    pop = population(found, params, Filters(districts=("440305",), industries=("F",)))
    assert [m["uscc"] for m in pop] == ["U1"]
    assert [m["uscc"] for m in population(found, params)] == ["U1", "U2", "U3"]
    assert reassess(pop, params, DAY) == pop


def test_ratios_outside_0_to_1_are_refused() -> None:
    with pytest.raises(ValueError):
        Params(ratios={"A": 1.5})
    with pytest.raises(ValueError):
        Params(conflict="friends")


def test_scope_narrows_the_draw_and_limits_who_sees_a_plan() -> None:
    assert narrow(["44"], "4403") == ["4403"] and narrow(["4401"], "4403") is None
    assert visible(["440305"], "4403") and not visible(["4401", "440305"], "4403")
    assert not visible([], "4403") and visible([], None)


def test_blind_spots_need_no_inspection_and_no_penalty_in_the_window() -> None:
    since = date(2025, 6, 30)
    base = {"status": "active", "grade": "C", "last_inspected": None, "last_penalized": None}
    assert blind_spot(base, ("C", "D"), since) == "never inspected; never penalised"
    assert blind_spot({**base, "last_inspected": "2025-07-01"}, ("C", "D"), since) is None
    assert blind_spot({**base, "last_penalized": "2025-07-01"}, ("C", "D"), since) is None
    assert blind_spot({**base, "last_inspected": "2025-06-30"}, ("C", "D"), since)
    assert blind_spot({**base, "grade": "B"}, ("C", "D"), since) is None
    assert blind_spot({**base, "status": "deregistered"}, ("C", "D"), since) is None
    ranked = sorted(
        [{"uscc": "1", "grade": "C", "score": 61}, {"uscc": "2", "grade": "D", "score": 50},
         {"uscc": "3", "grade": "C", "score": 60}, {"uscc": "4", "grade": "D", "score": 20}],
        key=worst_first,
    )  # fmt: skip
    assert [r["uscc"] for r in ranked] == ["4", "2", "3", "1"]
