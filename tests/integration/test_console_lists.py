"""The console's lists through the real app on a real Redis, on records the real
pipeline wrote: the workbench shows each warning once with its status now, whatever
page its records fall on, and the directory's pages hold what they were asked for."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from streams.settings import StoreSettings
from streams.store import Store
from tests import factories as f
from tests.integration.conftest import ADMIN_KEY, ApiClient, api_settings
from tests.integration.test_webhooks import replay

pytestmark = pytest.mark.integration
_ROW = re.compile(r'<tr class="sev-row-\w+" data-warning="(\w+)">.*?</tr>', re.S)
_NEXT = re.compile(r"cursor=([\d-]+)")


@pytest.fixture
def console(store_settings: StoreSettings) -> Iterator[TestClient]:
    """The console signed in as the bootstrap admin."""
    app = create_app(api_settings(webhooks_enabled=False), store_settings)
    with TestClient(app, headers=ApiClient.auth(ADMIN_KEY)) as client:
        signed = client.post("/console/login", data={"key": ADMIN_KEY}, follow_redirects=False)
        assert signed.status_code == 303, signed.text
        yield client


def removed(code: str) -> dict[str, Any]:
    return f.event(
        "court.dishonest_removed", code, {"case_no": "(2026)粤03执1号"}, day="2026-03-02"
    )


def rows(console: TestClient, **params: str) -> tuple[dict[str, str], str | None]:
    """warning_id -> status shown, in page order, and the next page's cursor."""
    page = console.get("/console/warnings", params=params)
    assert page.status_code == 200, page.text
    found: dict[str, str] = {}
    for match in _ROW.finditer(page.text):
        assert match.group(1) not in found, "a warning shown twice on one page"
        found[match.group(1)] = "closed" if "已关闭" in match.group(0) else "open"
    cursor = _NEXT.search(page.text.split('id="rows"', 1)[-1])
    return found, cursor.group(1) if cursor else None


async def test_the_workbench_shows_each_warning_once_with_its_status_now(
    store: Store, console: TestClient
) -> None:
    # a warning raised first, then 50 others, then the first one closed: the stream
    # holds its close record first (newest) and its raised record after the 50 others
    early = f.uscc()
    await replay(store, f.registered(early), f.dishonest_listed(early))
    others = [f.uscc() for _ in range(50)]
    await replay(
        store, *(e for code in others for e in (f.registered(code), f.dishonest_listed(code)))
    )
    await replay(store, removed(early))
    [gone] = console.get(f"/enterprises/{early}/warnings", params={"status": "closed"}).json()

    opened, _ = rows(console, status="open")
    assert gone["warning_id"] not in opened and set(opened.values()) == {"open"}
    assert len(opened) == 50
    # as the form sends it, its other fields empty: the same
    form = {"district": "", "rule_id": "", "severity": "", "status": "open"}
    assert rows(console, **form)[0] == opened

    first, cursor = rows(console)
    assert first[gone["warning_id"]] == "closed" and len(first) == 50
    assert cursor is not None
    second, _ = rows(console, cursor=cursor)
    # its raised record is on the second page: not shown again, and not as open
    assert gone["warning_id"] not in second
    assert len(first) + len(second) == 51

    closed, _ = rows(console, status="closed")
    assert closed == {gone["warning_id"]: "closed"}


async def test_directory_pages_hold_what_was_asked_and_each_firm_once(
    store: Store, console: TestClient
) -> None:
    # more firms than a small hash holds in one block, so a scan step returns many
    codes = {f.uscc() for _ in range(260)}
    await replay(store, *(f.registered(code) for code in sorted(codes)))
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params = {"limit": "50"} | ({"cursor": cursor} if cursor else {})
        page = console.get("/enterprises", params=params)
        assert page.status_code == 200, page.text
        body = page.json()
        assert len(body["items"]) <= 50
        if body["next_cursor"] is not None:
            assert len(body["items"]) == 50  # only the last page is short
        seen += [item["uscc"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) and set(seen) == codes
    # the console's directory: 50 rows a page, each firm once over the pages
    shown: list[str] = []
    url: str | None = "/console/enterprises"
    while url:
        html = console.get(url).text
        listed = re.findall(r"<td><code>(\w{18})</code></td>", html)
        assert len(listed) <= 50
        shown += listed
        more = re.search(r'href="(/console/enterprises\?[^"]*cursor=[^"]+)"', html)
        url = more.group(1).replace("&amp;", "&") if more else None
    assert len(shown) == len(set(shown)) and set(shown) == codes
