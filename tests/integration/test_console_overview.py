"""The overview, the map and the lists behind the console through the real app on a
real Redis, with firms written through the store's commit (as the worker writes
them): the figures come from the indexes, a department's key sees its district's
only, and the lists read the indexes in USCC order."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import api.console
from api.app import create_app
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
