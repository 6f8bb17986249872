"""The overview in chromium, on firms the real worker graded from events produced to
Kafka: its charts are drawn, the map colours the districts from the deployer's
GeoJSON and a click on a district opens that district's list; nothing is fetched
from another origin."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import api.console
from tests import factories as f
from tests.browser.conftest import Stack, eventually
from tests.worker_and_api import worker_and_api

pytestmark = pytest.mark.integration
GEOJSON = Path(api.console.__file__).parent / "static/vendor/shenzhen-districts-0.1.4.geojson"
NANSHAN, FUTIAN = "440305", "440304"


@pytest.fixture(scope="module")
def stack(
    kafka_broker: str, redis_server: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """The stack with the Shenzhen districts' boundaries named for the map."""
    logs = tmp_path_factory.mktemp("overview")
    extra = {"CREDITWATCH_CONSOLE_GEOJSON": str(GEOJSON)}
    with worker_and_api(kafka_broker, redis_server, logs, "overview", extra) as rig:
        yield Stack(rig.base, rig.admin_key, rig.api, rig.settings)


def firm(stack: Stack, district: str) -> str:
    code = f.uscc()
    stack.produce(f.registered(code, district=district), f.dishonest_listed(code))
    assert eventually(lambda: stack.api.get(f"/enterprises/{code}/warnings").json()), code
    return code


def test_the_overview_draws_its_charts_and_the_map_opens_a_district(
    stack: Stack, new_page: Any
) -> None:
    mine, other = firm(stack, NANSHAN), firm(stack, FUTIAN)
    page = new_page(stack.admin_key)
    page.goto("/console/")
    for chart in ("chart-grades", "chart-districts", "chart-industries", "chart-opened"):
        page.locator(f"#{chart}[data-points] canvas").wait_for()
    assert int(page.locator("#chart-districts").get_attribute("data-points") or 0) >= 2
    districts = json.loads(page.locator("#chart-districts").get_attribute("data-keys") or "[]")
    assert {NANSHAN, FUTIAN} <= set(districts)
    # the map: drawn from the GeoJSON served by this origin, a region per feature
    drawn = page.locator("#chart-map[data-centres]")
    drawn.locator("canvas").wait_for()
    centres = json.loads(drawn.get_attribute("data-centres") or "{}")
    assert NANSHAN in centres and FUTIAN in centres
    regions = json.loads(drawn.get_attribute("data-regions") or "[]")
    nanshan = next(r for r in regions if r["code"] == NANSHAN)
    assert nanshan["grade"] is not None and nanshan["colour"].startswith("#")
    x, y = centres[NANSHAN]
    drawn.click(position={"x": x, "y": y})
    page.wait_for_url(f"**/console/enterprises?district={NANSHAN}")
    listed = page.locator("main").inner_text()
    assert mine in listed and other not in listed
    assert page.foreign == []
    assert any(url.endswith("/console/map/districts.geojson") for url in page.requests_seen)
