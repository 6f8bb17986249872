"""The overview, the map and the lists behind the console through the real app on a
real Redis, with firms written through the store's commit (as the worker writes
them): the figures come from the indexes, a department's key sees its district's
only, and the lists read the indexes in USCC order."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import api.console
from api.app import create_app
from api.indexed import IndexKey, walk
from streams.contract.identifiers import make_uscc
from streams.settings import StoreSettings
from streams.store import Commit, Store
from tests.integration.conftest import ADMIN_KEY, ApiClient, api_settings
from tests.unit.store.test_indexes import state, warning

pytestmark = pytest.mark.integration
GEOJSON = Path(api.console.__file__).parent / "static/vendor/shenzhen-districts-0.1.4.geojson"
NANSHAN, FUTIAN, CHAOYANG = "440305", "440304", "110105"


@pytest.fixture
def app(store_settings: StoreSettings, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("CREDITWATCH_CONSOLE_GEOJSON", str(GEOJSON))
    return create_app(api_settings(webhooks_enabled=False), store_settings)


@pytest.fixture
def admin(app: Any) -> Iterator[ApiClient]:
    with TestClient(app, headers=ApiClient.auth(ADMIN_KEY)) as client:
        yield ApiClient(client)


@pytest.fixture
def signed_in(admin: ApiClient) -> Any:
    """The app's one client (its Redis connections live on its loop), signed in to the
    console with a key in place of any earlier session."""

    def sign_in(key: str) -> TestClient:
        admin.client.cookies.clear()
        answer = admin.client.post("/console/login", data={"key": key}, follow_redirects=False)
        assert answer.status_code == 303, answer.text
        return admin.client

    return sign_in


def attr(html: str, element_id: str, name: str) -> Any:
    found = re.search(rf'id="{element_id}"[^>]*?data-{name}="([^"]*)"', html, re.S)
    assert found, (element_id, name)
    return json.loads(unescape(found.group(1)))


async def city(store: Store) -> dict[str, str]:
    """Firms in three districts: USCC -> district; a red warning on two of them."""
    firms = {}
    plan = [(NANSHAN, "A"), (NANSHAN, "C"), (NANSHAN, "D"), (FUTIAN, "B"), (CHAOYANG, "D")]
    for n, (district, grade) in enumerate(plan):
        u = f"91{district}MA000000{n}X"[:18]
        firms[u] = district
        warnings = []
        s = state(u, district=district, grade=grade, score=90 - 15 * n)
        if grade == "D":
            w = warning(u, "dishonest_enterprise")
            s.open_warnings = {"dishonest_enterprise": dict(w)}
            warnings = [w]
        journal: list[list[Any]] = [["2026-03-01T02:00:00+00:00", "t", f"e{n}", {}]]
        done = await store.commit([Commit(u, [f"e{n}"], s, warnings, journal=journal)], [])
        assert done == [True]
    return firms


async def test_the_overview_counts_from_the_indexes_within_scope(
    store: Store, app: Any, admin: ApiClient, signed_in: Any
) -> None:
    firms = await city(store)
    whole = signed_in(ADMIN_KEY).get("/console/")
    assert whole.status_code == 200
    assert attr(whole.text, "chart-grades", "values") == [1, 1, 1, 2]
    districts = attr(whole.text, "chart-districts", "keys")
    assert districts == [CHAOYANG, FUTIAN, NANSHAN]
    assert attr(whole.text, "chart-industries", "keys") == ["I"]
    opened = attr(whole.text, "chart-opened", "series")
    assert opened == [{"name": "dishonest_enterprise", "data": [2]}]
    assert 'href="/console/warnings?severity=red&amp;status=open">2<' in whole.text
    # the map: every feature with its code, coloured by its firms' grade
    regions = {r["code"]: r for r in attr(whole.text, "chart-map", "regions")}
    assert regions[NANSHAN]["label"] == "南山区" and regions[NANSHAN]["grade"] == "C"
    assert regions[NANSHAN]["href"] == f"/console/enterprises?district={NANSHAN}"
    assert regions[FUTIAN]["grade"] == "B" and regions["440303"]["grade"] is None
    assert f"not on the map: {CHAOYANG}" in whole.text  # Beijing: no boundary for it
    # a department of Shenzhen: its districts' figures only
    key = admin.account("department", district="4403")
    scoped = signed_in(key).get("/console/")
    assert attr(scoped.text, "chart-grades", "values") == [1, 1, 1, 1]
    assert attr(scoped.text, "chart-districts", "keys") == [FUTIAN, NANSHAN]
    assert CHAOYANG not in scoped.text
    assert attr(scoped.text, "chart-opened", "series")[0]["data"] == [1]
    boundaries = signed_in(key).get("/console/map/districts.geojson")
    assert boundaries.status_code == 200
    assert {f["properties"]["adcode"] for f in boundaries.json()["features"]} >= {NANSHAN}
    admin.client.cookies.clear()
    anonymous = admin.client.get("/console/map/districts.geojson", follow_redirects=False)
    assert anonymous.status_code == 303  # to the sign-in page
    public = signed_in(admin.account("public"))  # the API's lists are members' only
    assert public.get("/console/", follow_redirects=False).status_code == 403
    assert len(firms) == 5


async def test_lists_read_the_indexes_in_uscc_order(store: Store, admin: ApiClient) -> None:
    firms = await city(store)
    nanshan = sorted(u for u, d in firms.items() if d == NANSHAN)
    page = admin.client.get("/enterprises", params={"district": NANSHAN, "limit": 2}).json()
    assert [i["uscc"] for i in page["items"]] == nanshan[:2] and page["next_cursor"]
    rest = admin.client.get(
        "/enterprises", params={"district": NANSHAN, "limit": 2, "cursor": page["next_cursor"]}
    ).json()
    assert [i["uscc"] for i in rest["items"]] == nanshan[2:] and rest["next_cursor"] is None
    by_grade = admin.client.get("/enterprises", params={"grade": ["D"]}).json()["items"]
    assert sorted(i["uscc"] for i in by_grade) == sorted(
        u for u, d in firms.items() if d in (NANSHAN, CHAOYANG) and u[-2] in "24"
    )
    industry = admin.client.get("/enterprises", params={"industry": "I65", "district": "4403"})
    assert len(industry.json()["items"]) == 4
    assert admin.client.get("/enterprises", params={"industry": "F52"}).json()["items"] == []
    exported = admin.client.get("/enterprises/export.csv", params={"district": NANSHAN})
    rows = exported.text.lstrip("\ufeff").splitlines()[1:]
    assert [row.split(",")[0] for row in rows] == nanshan
    bad = admin.client.get("/enterprises", params={"district": NANSHAN, "cursor": "123"})
    assert bad.status_code == 422
    # blind spots: D and C firms never inspected, worst first (D, then the lowest score)
    spots = admin.client.get("/blind-spots", params={"grades": "C,D"}).json()
    assert spots["total"] == 3
    assert [s["grade"] for s in spots["items"]] == ["D", "D", "C"]
    assert spots["items"][0]["score"] <= spots["items"][1]["score"]
    key = admin.account("department", district="4403")
    scoped = admin.client.get("/blind-spots", headers=ApiClient.auth(key)).json()
    assert {s["district"] for s in scoped["items"]} == {NANSHAN}


async def test_a_scoped_callers_warning_pages_hold_its_district_only(
    store: Store, admin: ApiClient
) -> None:
    """Warning records of firms in two districts, interleaved: a department's pages
    carry its district's records only, each once, newest first, however they are cut."""
    codes = []
    for n in range(9):
        district = NANSHAN if n % 3 == 0 else CHAOYANG
        u = f"91{district}MA100000{n}X"[:18]
        codes.append((u, district))
        w = warning(u, "dishonest_enterprise")
        s = state(u, district=district, grade="D", open_warnings={"dishonest_enterprise": dict(w)})
        assert await store.commit([Commit(u, [f"w{n}"], s, [w])], []) == [True]
    key = ApiClient.auth(admin.account("department", district="4403"))
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = admin.client.get("/warnings", params=params, headers=key).json()
        seen += [w["uscc"] for w in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [u for u, d in reversed(codes) if d == NANSHAN]


async def test_overdue_warnings_come_in_due_order_without_the_disposed(
    store: Store, admin: ApiClient
) -> None:
    """Warnings of three severities in two districts, raised over two weeks: the
    overdue list walks them in due order (raised + 1, 3 or 7 days), leaves out those
    with a disposition and those not due yet, and a small page is the head of it."""
    days = {"red": 1, "orange": 3, "yellow": 7}
    now = datetime.now(UTC)
    expected = []
    for n in range(18):
        district = NANSHAN if n % 2 else FUTIAN
        severity = ("red", "orange", "yellow")[n % 3]
        raised = now - timedelta(days=n % 9, hours=n)
        u = make_uscc(random.Random(n), district)
        w = warning(u, "dishonest_enterprise", severity=severity, raised_at=raised.isoformat())
        s = state(u, district=district, grade="D", open_warnings={"dishonest_enterprise": dict(w)})
        assert await store.commit([Commit(u, [f"o{n}"], s, [w])], []) == [True]
        due = raised + timedelta(days=days[severity])
        if due <= now:
            expected.append((due, u, w["warning_id"]))
    expected.sort()
    # a disposition on the two most overdue: off the list
    for _, u, wid in expected[:2]:
        done = admin.client.put(
            f"/enterprises/{u}/warnings/{wid}/disposition",
            json={"disposition": "verified", "note": "核实"},
        )
        assert done.status_code == 200, done.text
    left = [u for _, u, _ in expected[2:]]
    assert len(left) >= 5
    found = admin.client.get("/warnings/overdue", params={"limit": 1000}).json()
    assert [w["uscc"] for w in found] == left
    head = admin.client.get("/warnings/overdue", params={"limit": 3}).json()
    assert [w["uscc"] for w in head] == left[:3]
    nanshan = admin.client.get("/warnings/overdue", params={"district": NANSHAN}).json()
    assert [w["uscc"] for w in nanshan] == [u for u in left if u[2:8] == NANSHAN]


async def test_the_walk_merges_indexes_in_order_reading_a_little_at_a_time(
    store: Store,
) -> None:
    """Three sorted sets with shifted scores, read two members at a time: the walk
    gives every member once, in the order of score plus shift."""
    rng = random.Random(5)
    keys, shifts, expected = [], [0.0, 100.0, -50.0], []
    for i, shift in enumerate(shifts):
        key = f"{store.prefix}:ix:open:44030{i}:red"
        scores = {f"m{i}-{n}": float(rng.randint(0, 300)) for n in range(9)}
        await store.redis.zadd(key, scores)
        keys.append(IndexKey(key, "open", f"44030{i}", ("red",)))
        expected += [(s + shift, m) for m, s in scores.items()]
    walked = [(w.at, w.member) async for w in walk(store, keys, ["+inf"] * 3, shifts, page=2)]
    assert sorted(walked) == sorted(expected)  # every member once
    assert [at for at, _ in walked] == sorted(at for at, _ in expected)  # in order
    assert len(walked) == 27


async def test_warnings_by_assignee_come_from_the_assignee_index(
    store: Store, admin: ApiClient, signed_in: Any
) -> None:
    """A warning assigned to an account is on its "assigned to me" list however many
    warnings came after it; reassigned to a unit, it leaves the list."""
    body = {"account_id": "inspector-7", "name": "检查员", "department": "samr"}
    assert admin.client.post("/admin/accounts", json={**body, "role": "regulator"}).is_success
    key = admin.client.post("/admin/accounts/inspector-7/keys").json()["key"]
    codes = []
    for n in range(60):
        u = make_uscc(random.Random(100 + n), NANSHAN)
        codes.append(u)
        w = warning(u, "dishonest_enterprise")
        s = state(u, grade="D", open_warnings={"dishonest_enterprise": dict(w)})
        assert await store.commit([Commit(u, [f"a{n}"], s, [w])], []) == [True]
    first, wid = codes[0], f"{codes[0]}-dishonest_enterprise"
    path = f"/enterprises/{first}/warnings/{wid}/assignment"
    assert admin.client.put(path, json={"account_id": "inspector-7"}).status_code == 200
    assert await store.assigned_warnings(account_id="inspector-7") == [(first, wid)]
    form = {"mine": "1", "rule_id": "", "severity": "", "status": ""}  # as the form sends it
    page = signed_in(key).get("/console/warnings", params=form)
    assert page.status_code == 200 and first in page.text
    assert codes[-1] not in page.text  # the newest, not assigned to it
    assert admin.client.put(path, json={"unit": "南山区粤海街道网格2"}).status_code == 200
    assert await store.assigned_warnings(account_id="inspector-7") == []
    assert await store.assigned_warnings(unit="南山区粤海街道网格2") == [(first, wid)]
    assert first not in signed_in(key).get("/console/warnings", params={"mine": "1"}).text


async def test_warnings_assigned_to_me_are_paged_past_the_first_page(
    store: Store, admin: ApiClient, signed_in: Any
) -> None:
    """Sixty warnings assigned to one account: the API's list and the console's "assigned
    to me" give the 50 newest assignments, then the other ten from the cursor (in the
    console, the "more" row's htmx request appends them in its place), none twice."""
    body = {"account_id": "inspector-8", "name": "检查员", "department": "samr"}
    assert admin.client.post("/admin/accounts", json={**body, "role": "regulator"}).is_success
    key = admin.client.post("/admin/accounts/inspector-8/keys").json()["key"]
    wids = []
    for n in range(60):
        u = make_uscc(random.Random(300 + n), NANSHAN)
        w = warning(u, "dishonest_enterprise")
        s = state(u, grade="D", open_warnings={"dishonest_enterprise": dict(w)})
        assert await store.commit([Commit(u, [f"p{n}"], s, [w])], []) == [True]
        wids.append(w["warning_id"])
        path = f"/enterprises/{u}/warnings/{w['warning_id']}/assignment"
        assert admin.client.put(path, json={"account_id": "inspector-8"}).status_code == 200

    first = admin.client.get("/warnings/assigned", params={"account_id": "inspector-8"}).json()
    assert len(first["items"]) == 50 and first["next_cursor"]
    params = {"account_id": "inspector-8", "cursor": first["next_cursor"]}
    rest = admin.client.get("/warnings/assigned", params=params).json()
    assert len(rest["items"]) == 10 and rest["next_cursor"] is None
    listed = [w["warning_id"] for w in first["items"] + rest["items"]]
    assert sorted(listed) == sorted(wids)

    client = signed_in(key)
    page = client.get("/console/warnings", params={"mine": "1"})
    assert page.status_code == 200, page.text
    shown = re.findall(r'<tr class="sev-row-\w+" data-warning="([^"]+)"', page.text)
    assert len(shown) == 50 and len(set(shown)) == 50
    more = re.search(r'<tr class="more">.*?hx-get="([^"]+)" hx-target="closest tr"', page.text)
    assert more is not None, page.text
    url = unescape(more.group(1))
    assert "mine=1" in url and "cursor=" in url
    part = client.get(url, headers={"HX-Request": "true"})
    assert part.status_code == 200, part.text
    assert "<html" not in part.text and 'class="more"' not in part.text
    assert 'class="empty"' not in part.text
    after = re.findall(r'data-warning="([^"]+)"', part.text)
    assert len(after) == 10 and sorted(shown + after) == sorted(wids)
    bad = client.get("/console/warnings", params={"mine": "1", "cursor": "x"})
    assert bad.status_code == 422
