"""The list of inspection plans from the summaries kept with them, through the real app
on a real Redis: each plan once over the pages, newest first; district scope; the
results entered counted as they are entered; a plan drawn before summaries were kept
listed all the same; the console's page of plans and its link to older ones."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from streams.settings import StoreSettings
from streams.store import Store
from tests import factories as f
from tests.integration.conftest import ADMIN_KEY, ApiClient, api_settings
from tests.integration.test_inspections import POOL, replay

pytestmark = pytest.mark.integration
NANSHAN, FUTIAN = "440305", "440304"


@pytest.fixture
async def debtors(store: Store) -> dict[str, list[str]]:
    """Two grade-D firms in Nanshan and two in Futian (listed dishonest debtors)."""
    firms: dict[str, list[str]] = {NANSHAN: [], FUTIAN: []}
    events: list[dict[str, Any]] = []
    for n in range(4):
        code, district = f.uscc(), (NANSHAN, FUTIAN)[n % 2]
        rep = f.unique_person("周某")
        events.append(f.registered(code, rep, name=f"第{n}号公司", district=district))
        events.append(f.dishonest_listed(code, f"(2026)粤03执{n}号"))
        firms[district].append(code)
    await replay(store, *events)
    return firms


def draw(api: ApiClient, name: str, key: str = ADMIN_KEY, **population: Any) -> Any:
    body = {"name": name, "inspectors": POOL, "seed": name, "population": population}
    reply = api.client.post("/inspections/plans", json=body, headers=ApiClient.auth(key))
    assert reply.status_code == 201, reply.text
    return reply.json()


def listed(api: ApiClient, key: str = ADMIN_KEY, limit: int = 3) -> list[dict[str, Any]]:
    """Every plan the key's account sees, page after page of `limit`."""
    found: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": limit}
    while True:
        reply = api.client.get("/inspections/plans", params=params, headers=ApiClient.auth(key))
        assert reply.status_code == 200, reply.text
        page = reply.json()
        assert len(page) <= limit
        found += page
        if len(page) < limit:
            return found
        params["before"] = page[-1]["plan_id"]


async def test_each_plan_is_listed_once_over_the_pages_newest_first(
    store: Store, api: ApiClient
) -> None:
    drawn = [draw(api, f"plan-{n}")["plan_id"] for n in range(8)]
    plans = listed(api)
    assert [p["plan_id"] for p in plans] == drawn[::-1]
    assert [p["drawn_at"] for p in plans] == sorted((p["drawn_at"] for p in plans), reverse=True)
    assert all(p["targets_count"] == 0 and p["results_entered"] == 0 for p in plans)
    assert [p["plan_id"] for p in listed(api, limit=8)] == drawn[::-1]  # one full page, then none
    # plans drawn at the same instant page as the index orders them, none lost
    instant = await store.redis.zscore(f"{store.inspection_plans}:by-time", drawn[0])
    await store.redis.zadd(f"{store.inspection_plans}:by-time", {p: instant for p in drawn})
    assert sorted(p["plan_id"] for p in listed(api, limit=3)) == sorted(drawn)
    unknown = api.client.get("/inspections/plans", params={"before": "P20260101-0000000000"})
    assert unknown.status_code == 404
    public = api.client.get("/public/inspections/plans", headers={"Authorization": ""})
    assert [p["plan_id"] for p in public.json()] == sorted(drawn, reverse=True)
    assert public.json()[0]["ratios"]["D"] == 1


async def test_a_scoped_account_pages_through_its_districts_plans_only(
    store: Store, api: ApiClient
) -> None:
    nanshan = api.account("department", district=NANSHAN)
    city = api.account("department", district="4403")
    everywhere = draw(api, "全市")["plan_id"]
    own = [draw(api, f"南山-{n}", nanshan)["plan_id"] for n in range(4)]
    futian = draw(api, "福田", districts=[FUTIAN])["plan_id"]
    both = draw(api, "南山福田", districts=[NANSHAN, FUTIAN])["plan_id"]
    assert [p["plan_id"] for p in listed(api, nanshan, limit=2)] == own[::-1]
    assert [p["plan_id"] for p in listed(api, city, limit=2)] == [both, futian, *own[::-1]]
    assert len(listed(api)) == 7 and everywhere in {p["plan_id"] for p in listed(api)}
    # another district's plan is no cursor for a scoped account: as if it were not there
    probe = {"before": futian}
    reply = api.client.get("/inspections/plans", params=probe, headers=ApiClient.auth(nanshan))
    assert reply.status_code == 404


async def test_the_results_entered_follow_each_first_entry(
    store: Store, api: ApiClient, debtors: dict[str, list[str]]
) -> None:
    plan = draw(api, "南山", districts=[NANSHAN])
    assert {t["uscc"] for t in plan["targets"]} == set(debtors[NANSHAN])
    first, second = debtors[NANSHAN]

    def enter(code: str, result: str) -> None:
        path = f"/inspections/plans/{plan['plan_id']}/targets/{code}/result"
        reply = api.client.put(path, json={"result": result, "findings": []})
        assert reply.status_code == 200, reply.text

    [row] = listed(api)
    assert (row["targets_count"], row["results_entered"]) == (2, 0)
    enter(first, "passed")
    assert listed(api)[0]["results_entered"] == 1
    enter(first, "issues_found")  # a later entry replaces the first: still one target
    assert listed(api)[0]["results_entered"] == 1
    enter(second, "passed")
    assert listed(api)[0]["results_entered"] == 2


async def test_a_plan_drawn_before_summaries_were_kept_is_listed_and_summarised_once(
    store: Store, api: ApiClient, debtors: dict[str, list[str]]
) -> None:
    nanshan = api.account("department", district=NANSHAN)
    old = draw(api, "旧计划", districts=[NANSHAN])
    new = draw(api, "新计划")
    plans = store.inspection_plans
    # as an older version stored it: the plan and its index by time, nothing else
    await store.redis.hdel(f"{plans}:summaries", old["plan_id"])
    await store.redis.hdel(f"{plans}:results-entered", old["plan_id"])
    await store.redis.delete(*[f"{plans}:by-scope:{NANSHAN[:n]}" for n in range(1, 7)])
    path = f"/inspections/plans/{old['plan_id']}/targets/{debtors[NANSHAN][0]}/result"
    assert api.client.put(path, json={"result": "passed", "findings": []}).status_code == 200
    assert not await store.redis.hexists(f"{plans}:results-entered", old["plan_id"])

    mine = listed(api, nanshan)
    assert [p["plan_id"] for p in mine] == [old["plan_id"]]
    assert (mine[0]["targets_count"], mine[0]["results_entered"]) == (2, 1)
    assert [p["plan_id"] for p in listed(api)] == [new["plan_id"], old["plan_id"]]
    assert await store.redis.hexists(f"{plans}:summaries", old["plan_id"])
    path = f"/inspections/plans/{old['plan_id']}/targets/{debtors[NANSHAN][1]}/result"
    assert api.client.put(path, json={"result": "passed", "findings": []}).status_code == 200
    assert listed(api, nanshan)[0]["results_entered"] == 2  # counted on from there


async def test_the_console_lists_a_page_of_plans_and_links_the_older_ones(
    store: Store, api: ApiClient, store_settings: StoreSettings
) -> None:
    drawn = [draw(api, f"plan-{n}")["plan_id"] for n in range(52)]
    app = create_app(api_settings(webhooks_enabled=False), store_settings)
    with TestClient(app, headers=ApiClient.auth(ADMIN_KEY)) as console:
        signed = console.post("/console/login", data={"key": ADMIN_KEY}, follow_redirects=False)
        assert signed.status_code == 303, signed.text
        shown: list[str] = []
        url: str | None = "/console/inspections"
        while url:
            page = console.get(url)
            assert page.status_code == 200, page.text
            shown += re.findall(r'<a href="/console/inspections/plans/([\w-]+)">', page.text)
            more = re.search(r'href="(/console/inspections\?before=[\w-]+)"', page.text)
            url = more.group(1) if more else None
    assert shown == drawn[::-1]
