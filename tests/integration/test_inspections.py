"""Inspection plans (双随机、一公开) and blind spots through the real pipeline, Redis and
app: a city of 40 firms made by real events, a draw by a department account, its
verification, the public view, results fed back by `inspection.completed` events, and
district scope."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest

from agents.pipeline import Pipeline
from agents.replay import Replayer
from rules.calendar import CHINA
from rules.ruleset import RuleSet
from streams.store import Store
from tests import factories as f
from tests.integration.conftest import ApiClient

pytestmark = pytest.mark.integration
NO_REPORTS = RuleSet("test-no-reports", {"annual_report_missing": {"enabled": False}})
NANSHAN, FUTIAN = "440305", "440304"
ANONYMOUS = {"Authorization": ""}
POOL = [
    {"inspector_id": "ZF-001", "name": "张执法", "department": "samr", "district": NANSHAN},
    {"inspector_id": "ZF-002", "name": "李执法", "department": "tax", "district": NANSHAN},
    {"inspector_id": "ZF-003", "name": "王执法", "department": "samr", "district": FUTIAN},
    {"inspector_id": "ZF-004", "name": "赵执法", "department": "tax", "district": FUTIAN},
    {"inspector_id": "ZF-005", "name": "钱执法", "department": "customs", "district": "440306"},
]


async def replay(store: Store, *events: dict[str, Any]) -> None:
    stats = await Replayer(Pipeline(store, "fanout", NO_REPORTS), batch_size=50).run(
        f.encode(e) for e in events
    )
    assert stats.dead_letters == 0


@pytest.fixture
async def city(store: Store) -> dict[str, Any]:
    """40 firms, half in Nanshan and half in Futian: 10 D (listed dishonest debtors, one
    tagged for inclusive supervision), 10 C (a dishonest legal representative, two of
    them under inclusive supervision), 6 B (three penalties each) and 14 A."""
    events: list[dict[str, Any]] = []
    firms: dict[str, list[str]] = {g: [] for g in "ABCD"}
    ids: list[str] = []
    for n in range(40):
        code, district = f.uscc(), (NANSHAN, FUTIAN)[n % 2]
        grade = "D" if n < 10 else "C" if n < 20 else "B" if n < 26 else "A"
        tags = ["inclusive_supervision"] if n in (0, 10, 11) else []
        rep = f.unique_person("周某")
        ids.append(rep["id_no"])
        extra = {"name": f"深圳市第{n}号贸易有限公司", "district": district, "tags": tags}
        events.append(f.registered(code, rep, **extra))
        if grade == "D":
            events.append(f.dishonest_listed(code, f"(2026)粤03执{n}号"))
        elif grade == "C":
            events.append(f.person_listed(rep, f"(2026)粤03执{n}号"))
        elif grade == "B":
            events += [f.penalty(code, d) for d in ("2026-01-05", "2026-02-05", "2026-03-05")]
        firms[grade].append(code)
    await replay(store, *events)
    graded = await store.directory_entries([c for g in firms.values() for c in g])
    assert {g: sorted(c for c in graded if graded[c]["grade"] == g) for g in "ABCD"} == {
        g: sorted(c) for g, c in firms.items()
    }
    return {"firms": firms, "ids": ids, "exempt": {firms["C"][0], firms["C"][1]}}


def draw(api: ApiClient, key: str, **body: Any) -> Any:
    reply = api.client.post(
        "/inspections/plans",
        json={"name": "2026年第四季度双随机抽查", "inspectors": POOL, **body},
        headers=ApiClient.auth(key),
    )
    assert reply.status_code == 201, reply.text
    return reply.json()


def inspected(code: str, plan_id: str, result: str, day: str = "2026-10-15") -> dict[str, Any]:
    payload = {"plan_id": plan_id, "result": result, "findings": ["台账不全"]}
    return f.event("inspection.completed", code, payload, day=day, source="samr")


async def test_a_department_draws_verifies_publishes_and_sees_results_come_back(
    store: Store, api: ApiClient, city: dict[str, Any]
) -> None:
    firms, key = city["firms"], api.account("department", department="tax")
    plan = draw(api, key, seed="2026Q4")
    counts = {g: plan["counts"][g] for g in "ABCD"}
    assert counts == {
        "A": {"population": 14, "exempt": 0, "eligible": 14, "drawn": 1},  # ceil(0.28)
        "B": {"population": 6, "exempt": 0, "eligible": 6, "drawn": 1},  # ceil(0.3)
        "C": {"population": 10, "exempt": 2, "eligible": 8, "drawn": 2},  # ceil(1.6)
        "D": {"population": 10, "exempt": 0, "eligible": 10, "drawn": 10},  # all
    }
    targets = {t["uscc"]: t for t in plan["targets"]}
    assert set(firms["D"]) <= set(targets) and not city["exempt"] & set(targets)
    assert plan["drawn_by"].startswith("department-") and plan["seed"] == "2026Q4"
    assert plan["unassigned"] == [] and plan["progress"]["pending"] == 14
    by_id = {i["inspector_id"]: i for i in POOL}
    for t in plan["targets"]:
        people = [by_id[i["inspector_id"]] for i in t["inspectors"]]
        assert len(people) == 2 and all(p["district"] != t["district"] for p in people)
        assert people[0]["department"] != people[1]["department"]  # a joint inspection

    verified = api.client.get(f"/inspections/plans/{plan['plan_id']}/verify").json()
    assert verified["matches"] and verified["targets_match"] and verified["digest_matches"]
    again = draw(api, key, seed="2026Q4")  # same population, parameters and seed
    assert again["targets"] == plan["targets"] and again["plan_id"] != plan["plan_id"]
    assert again["population_digest"] == plan["population_digest"]
    audit = api.client.get("/inspections/audit").json()
    assert [a["plan_id"] for a in audit] == [again["plan_id"], plan["plan_id"]]
    assert audit[1]["population_digest"] == plan["population_digest"]
    assert audit[1]["seed"] == "2026Q4" and audit[1]["by"] == plan["drawn_by"]
    assert api.client.get("/inspections/audit", headers=ApiClient.auth(key)).status_code == 403

    pid = plan["plan_id"]
    d1, d2, d3 = firms["D"][:3]
    await replay(
        store,
        inspected(d1, pid, "passed"),
        inspected(d2, pid, "issues_found"),
        inspected(d3, pid, "unreachable"),
    )
    read = api.client.get(f"/inspections/plans/{pid}", headers=ApiClient.auth(key)).json()
    assert read["progress"] == {"pending": 11, "passed": 1, "issues_found": 1, "unreachable": 1}
    assert {t["uscc"]: t["result"] for t in read["targets"]}[d2] == "issues_found"
    listed = api.client.get("/inspections/plans", headers=ApiClient.auth(key)).json()
    assert [p["plan_id"] for p in listed] == [again["plan_id"], pid]

    public = api.client.get(f"/public/inspections/plans/{pid}", headers=ANONYMOUS)
    assert public.status_code == 200, public.text
    body = public.json()
    assert body["progress"]["passed"] == 1 and body["ratios"]["D"] == 1.0
    assert {t["uscc"]: t["result"] for t in body["targets"]}[d3] == "unreachable"
    assert all(set(t) == {"uscc", "name", "result"} for t in body["targets"])
    for secret in [*(i[k] for i in POOL for k in ("name", "inspector_id")), *city["ids"]]:
        assert secret not in public.text, secret
    summaries = api.client.get("/public/inspections/plans", headers=ANONYMOUS).json()
    assert [s["plan_id"] for s in summaries] == [again["plan_id"], pid]
    assert summaries[0]["targets"] is None and "ZF-" not in str(summaries)
    assert api.client.get("/inspections/plans", headers=ANONYMOUS).status_code == 401


async def test_blind_spots_list_unwatched_low_grades_worst_first_and_drop_the_inspected(
    store: Store, api: ApiClient, city: dict[str, Any]
) -> None:
    firms, key = city["firms"], api.account("department")
    params = {"as_of": "2026-11-01", "limit": 100}

    def spots(**extra: Any) -> Any:
        reply = api.client.get(
            "/blind-spots", params={**params, **extra}, headers=ApiClient.auth(key)
        )
        assert reply.status_code == 200, reply.text
        return reply.json()

    found = spots()
    assert found["total"] == 20 and found["since"] == "2025-11-01"
    assert [i["grade"] for i in found["items"]] == ["D"] * 10 + ["C"] * 10
    scores = [i["score"] for i in found["items"][:10]]
    assert scores == sorted(scores)
    assert found["items"][0]["reason"] == "never inspected; never penalised"
    assert {i["uscc"] for i in spots(grades="B")["items"]} == set()  # penalised this year
    assert spots(grades="B", months=1)["total"] == 6  # not within the last month

    await replay(store, inspected(firms["D"][0], "ad-hoc", "passed", day="2026-09-01"))
    after = spots()
    assert after["total"] == 19 and firms["D"][0] not in {i["uscc"] for i in after["items"]}
    assert spots(months=1)["total"] == 20  # the inspection is older than a month
    assert spots(limit=3)["total"] == 19 and len(spots(limit=3)["items"]) == 3
    bad = api.client.get("/blind-spots", params={"grades": "E"}, headers=ApiClient.auth(key))
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_request"


async def test_a_district_scoped_account_draws_and_sees_its_district_only(
    store: Store, api: ApiClient, city: dict[str, Any]
) -> None:
    firms = city["firms"]
    nanshan = api.account("department", district=NANSHAN)
    citywide = draw(api, api.account("regulator"), seed="city")
    own = draw(api, nanshan, seed="nanshan", ratios={"A": 0, "B": 0, "C": 0})
    assert own["districts"] == [NANSHAN]
    assert own["counts"]["D"]["drawn"] == 5 and own["counts"]["C"]["drawn"] == 0
    assert {t["district"] for t in own["targets"]} == {NANSHAN}
    assert set(firms["D"][0::2]) == {t["uscc"] for t in own["targets"]}

    mine = api.client.get("/inspections/plans", headers=ApiClient.auth(nanshan)).json()
    assert [p["plan_id"] for p in mine] == [own["plan_id"]]
    hidden = f"/inspections/plans/{citywide['plan_id']}"
    assert api.client.get(hidden, headers=ApiClient.auth(nanshan)).status_code == 404
    assert api.client.get(hidden).status_code == 200  # the admin sees every plan
    outside = api.client.post(
        "/inspections/plans",
        json={"name": "x", "inspectors": POOL, "population": {"districts": [FUTIAN]}},
        headers=ApiClient.auth(nanshan),
    )
    assert outside.status_code == 403

    spots = api.client.get(
        "/blind-spots", params={"as_of": "2026-11-01"}, headers=ApiClient.auth(nanshan)
    ).json()
    assert spots["total"] == 10 and {i["district"] for i in spots["items"]} == {NANSHAN}


async def test_unvisitable_targets_are_reported_and_an_empty_pool_is_refused(
    store: Store, api: ApiClient, city: dict[str, Any]
) -> None:
    locals_only = [i for i in POOL if i["district"] == NANSHAN]
    plan = draw(api, api.account("department"), inspectors=locals_only, seed="s",
                population={"districts": [NANSHAN], "grades": ["D"]})  # fmt: skip
    assert len(plan["targets"]) == 5 and sorted(plan["unassigned"]) == sorted(
        t["uscc"] for t in plan["targets"]
    )
    assert all(t["inspectors"] == [] for t in plan["targets"])
    empty = api.client.post("/inspections/plans", json={"name": "x", "inspectors": []})
    assert empty.status_code == 422 and empty.json()["error"]["code"] == "empty_pool"
    bad = api.client.post("/inspections/plans", json={"name": "x", "inspectors": POOL,
                                                      "ratios": {"C": 1.5}})  # fmt: skip
    assert bad.status_code == 422
    none = api.client.get("/inspections/plans/P20260101-0000000000")
    assert none.status_code == 404


async def test_a_plan_altered_after_the_draw_fails_verification(
    store: Store, api: ApiClient, city: dict[str, Any]
) -> None:
    plan = draw(api, api.account("department"), seed="honest")
    stored = await store.get_plan(plan["plan_id"])
    assert stored is not None
    swapped = next(c for c in city["firms"]["A"] if c not in {t["uscc"] for t in plan["targets"]})
    stored["targets"][-1]["uscc"] = swapped  # someone picks a friendlier target by hand
    await store.redis.hset(store.inspection_plans, plan["plan_id"], json.dumps(stored))
    verified = api.client.get(f"/inspections/plans/{plan['plan_id']}/verify").json()
    assert not verified["matches"] and not verified["targets_match"]
    assert verified["digest_matches"] and verified["counts_match"]


def test_blind_spots_refuse_dates_outside_the_calendar(api: ApiClient) -> None:
    for bad in ("2026-13-01", "0", "0001-01-01"):
        reply = api.client.get("/blind-spots", params={"as_of": bad})
        assert reply.status_code == 422, (bad, reply.text)


async def test_counts_are_previewed_before_the_draw_and_results_are_entered(
    store: Store, api: ApiClient, city: dict[str, Any]
) -> None:
    key = ApiClient.auth(api.account("department", department="tax"))
    body = {"name": "预览", "ratios": {"A": 0.5, "C": 0.1}, "population": {"districts": [NANSHAN]}}
    preview = api.client.post("/inspections/plans/preview", json=body, headers=key)
    assert preview.status_code == 200, preview.text
    counts = preview.json()["counts"]
    assert preview.json()["population_size"] == 20  # Nanshan's half of the city
    assert counts["A"] == {"population": 7, "exempt": 0, "eligible": 7, "drawn": 4}  # ceil(3.5)
    assert counts["D"]["drawn"] == 5 and counts["C"]["drawn"] == 1
    assert api.client.get("/inspections/plans", headers=key).json() == []  # nothing recorded
    plan = draw(api, key["Authorization"].split()[1], seed="preview", **body)
    assert {g: plan["counts"][g] for g in "ABCD"} == counts  # the draw counts as previewed

    target = plan["targets"][0]["uscc"]
    path = f"/inspections/plans/{plan['plan_id']}/targets/{target}/result"
    entered = api.client.put(
        path, json={"result": "issues_found", "findings": ["台账不全"]}, headers=key
    )
    assert entered.status_code == 200, entered.text
    assert entered.json()["result"] == "issues_found"
    assert entered.json()["result_by"].startswith("department-")
    read = api.client.get(f"/inspections/plans/{plan['plan_id']}", headers=key).json()
    assert read["progress"]["issues_found"] == 1
    assert {t["uscc"]: t["findings"] for t in read["targets"]}[target] == ["台账不全"]
    public = api.client.get(f"/public/inspections/plans/{plan['plan_id']}", headers=ANONYMOUS)
    assert {t["uscc"]: t["result"] for t in public.json()["targets"]}[target] == "issues_found"
    assert "台账不全" not in public.text  # findings are not published
    audit = api.client.get("/inspections/audit").json()
    assert audit[0]["action"] == "result" and audit[0]["uscc"] == target

    # a later inspection.completed event from the inspection system takes its place
    await replay(store, inspected(target, plan["plan_id"], "passed", day="2099-01-01"))
    read = api.client.get(f"/inspections/plans/{plan['plan_id']}", headers=key).json()
    assert {t["uscc"]: t["result"] for t in read["targets"]}[target] == "passed"

    drawn = {t["uscc"] for t in plan["targets"]}
    outsider = next(c for g in "ABCD" for c in city["firms"][g] if c not in drawn)
    missing = f"/inspections/plans/{plan['plan_id']}/targets/{outsider}/result"
    assert api.client.put(missing, json={"result": "passed"}, headers=key).status_code == 404
    bad = api.client.put(path, json={"result": "excellent"}, headers=key)
    assert bad.status_code == 422


async def test_an_entered_result_moves_the_grade_as_its_event_would_and_counts_once(
    store: Store, api: ApiClient, city: dict[str, Any]
) -> None:
    key = api.account("department", department="samr")
    plan = draw(api, key, seed="entered", ratios={"B": 1.0})
    pid, auth = plan["plan_id"], ApiClient.auth(key)
    b1, b2, b3, b4 = city["firms"]["B"][:4]  # alike: three penalties each, grade B
    assert {b1, b2, b3, b4} <= {t["uscc"] for t in plan["targets"]}
    worker = Replayer(Pipeline(store, "fanout", NO_REPORTS), batch_size=50)
    today = datetime.now(CHINA).date()

    def enter(code: str, result: str) -> None:
        path = f"/inspections/plans/{pid}/targets/{code}/result"
        reply = api.client.put(path, json={"result": result}, headers=auth)
        assert reply.status_code == 200, reply.text

    def standing(code: str) -> tuple[Any, ...]:
        firm = api.client.get(f"/enterprises/{code}").json()
        return firm["grade"], firm["score"], sorted(w["rule_id"] for w in firm["warnings"])

    def changes(code: str) -> list[tuple[str, str, str]]:
        history = api.client.get(f"/enterprises/{code}/history").json()
        return [
            (e["from_grade"], e["to_grade"], e["caused_by"])
            for e in history
            if e["kind"] == "grade_change"
        ]

    before, earlier = standing(b1), changes(b1)  # graded by its penalties
    assert before[0] == "B" and standing(b2) == before
    enter(b1, "unreachable")  # as entered; its twin by the inspection system's event
    assert standing(b1) == before  # nothing until the worker takes the nudge
    await worker.fire_timers()
    await replay(store, inspected(b2, pid, "unreachable", day=today.isoformat()))
    assert standing(b1) == standing(b2) == ("C", before[1] - 10, [*before[2], "unreachable"])
    assert changes(b1) == [("B", "C", f"entered:{pid}"), *earlier]
    [shown] = api.client.get(f"/enterprises/{b1}").json()["inspections"]
    assert (shown["plan_id"], shown["result"], shown["event_id"]) == (pid, "unreachable", None)
    warnings = api.client.get(f"/enterprises/{b1}/warnings").json()

    enter(b1, "unreachable")  # the same result again: counted once
    await worker.fire_timers()
    assert standing(b1) == ("C", before[1] - 10, [*before[2], "unreachable"])
    assert changes(b1) == [("B", "C", f"entered:{pid}"), *earlier]
    assert api.client.get(f"/enterprises/{b1}/warnings").json() == warnings

    enter(b3, "passed")
    await replay(store, inspected(b4, pid, "passed", day=today.isoformat()))
    await worker.fire_timers()
    assert standing(b3) == standing(b4) == ("B", before[1] + 3, before[2])

    enter(b1, "passed")  # a later entry replaces the earlier one: reached after all
    await worker.fire_timers()
    assert standing(b1) == standing(b3)
    # the inspection system's event for the plan, later than the entry, takes its place
    tomorrow = (today + timedelta(days=1)).isoformat()
    await replay(store, inspected(b1, pid, "unreachable", day=tomorrow))
    assert standing(b1) == standing(b2)
    read = api.client.get(f"/inspections/plans/{pid}", headers=auth).json()
    results = {t["uscc"]: (t["result"], t["result_by"]) for t in read["targets"]}
    assert results[b1] == ("unreachable", None) and results[b3][0] == "passed"
