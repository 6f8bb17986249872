"""An enterprise's profile through the real app on a real Redis, on records the real
pipeline wrote: its related parties (regulators only, in their district), its
inspections and results, its overrides, and each warning with its latest disposition."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from streams.settings import StoreSettings
from streams.store import Store
from tests import factories as f
from tests.integration.conftest import ADMIN_KEY, ApiClient, api_settings
from tests.integration.test_webhooks import replay

pytestmark = pytest.mark.integration


@pytest.fixture
def api(store_settings: StoreSettings) -> Iterator[ApiClient]:
    app = create_app(api_settings(webhooks_enabled=False), store_settings)
    with TestClient(app, headers=ApiClient.auth(ADMIN_KEY)) as client:
        yield ApiClient(client)


def signed_in(api: ApiClient, key: str) -> TestClient:
    """The app's client signed in to the console with `key` (no bearer header)."""
    client = api.client
    client.headers.pop("Authorization", None)
    client.cookies.clear()
    signed = client.post("/console/login", data={"key": key}, follow_redirects=False)
    assert signed.status_code == 303, signed.text
    return client


async def test_related_parties_inspections_overrides_and_dispositions_on_the_profile(
    store: Store, api: ApiClient
) -> None:
    rep, place = f.unique_person("李四"), f.address()
    firm, neighbour, sibling, far = f.uscc(), f.uscc(), f.uscc(), f.uscc()
    await replay(
        store,
        f.registered(firm, legal_rep=rep, address=place, name="甲公司"),
        f.registered(neighbour, address=place, name="乙公司"),
        f.registered(sibling, legal_rep=rep, name="丙公司"),
        f.registered(far, legal_rep=rep, name="丁公司", district="110105"),
        f.dishonest_listed(firm),
        f.event(
            "inspection.completed", firm,
            {"plan_id": "2026-双随机-07", "result": "issues_found", "findings": "台账缺失"},
            day="2026-03-03",
        ),
    )  # fmt: skip
    regulator = api.account("regulator", district="4403")
    found = api.client.get(f"/enterprises/{firm}/related", headers=api.auth(regulator))
    assert found.status_code == 200, found.text
    body = found.json()
    assert [e["uscc"] for e in body["at_address"]] == [neighbour]
    assert [(e["uscc"], e["roles"]) for e in body["legal_rep_firms"]] == [(sibling, ["legal_rep"])]
    assert body["elsewhere"] == 1  # the Beijing firm: counted, not shown
    everything = api.client.get(f"/enterprises/{firm}/related").json()  # the admin: no scope
    assert {e["uscc"] for e in everything["legal_rep_firms"]} == {sibling, far}
    department = api.account("department")
    assert (
        api.client.get(f"/enterprises/{firm}/related", headers=api.auth(department)).status_code
        == 403
    )
    inspections = api.client.get(f"/enterprises/{firm}").json()["inspections"]
    assert [(i["plan_id"], i["result"]) for i in inspections] == [
        ("2026-双随机-07", "issues_found")
    ]

    expires = (date.today() + timedelta(days=30)).isoformat()
    override = {"grade": "C", "reason": "现场核查后调整", "expires_on": expires}
    assert api.client.put(f"/enterprises/{firm}/override", json=override).status_code == 200
    [warning] = api.client.get(f"/enterprises/{firm}/warnings").json()
    disposed = api.client.put(
        f"/enterprises/{firm}/warnings/{warning['warning_id']}/disposition",
        json={"disposition": "referred", "department": "市法院", "note": "移交核查"},
    )
    assert disposed.status_code == 200

    console = signed_in(api, regulator)
    page = console.get(f"/console/enterprises/{firm}")
    assert page.status_code == 200, page.text
    html = page.text
    related = html.split('id="related"', 1)[1].split("</section>", 1)[0]
    assert "乙公司" in related and "丙公司" in related and "丁公司" not in related
    assert rep["id_no"] not in related and rep["name"] not in related
    assert "发现问题" in html.split('id="inspections"', 1)[1].split("</section>", 1)[0]
    overrides = html.split('id="overrides"', 1)[1].split("</section>", 1)[0]
    assert "现场核查后调整" in overrides
    row = html.split(f'data-warning="{warning["warning_id"]}"', 1)[1].split("</tr>", 1)[0]
    assert "移交其他部门" in row and "市法院" in row
    assert 'id="contributions-total"' in html

    console = signed_in(api, department)
    html = console.get(f"/console/enterprises/{firm}").text
    assert 'id="related"' not in html and "乙公司" not in html
