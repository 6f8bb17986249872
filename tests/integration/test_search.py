"""Name and address search through the real app on a real Redis, with firms made by real
events (real names and addresses, tests/fixtures/real_usccs.csv and
tests/unit/rules/test_real_places.py): found as soon as committed, renamed and moved,
district scope, the public search without personal data, pages with cursors, and the
index built again when the directory's changes stream lost what it had not read."""

from __future__ import annotations

import re
from typing import Any

import pytest

from api import search_index
from streams.store import Store
from tests import factories as f
from tests.integration.conftest import ADMIN_KEY, ApiClient
from tests.integration.test_lookups import replay
from tests.unit.api.test_search_index import DINGDAO, HANJING, HUAWEI_CO
from tests.unit.rules.test_real_places import CHANGFU, HUAWEI, KEFA

pytestmark = pytest.mark.integration


def found(api: ApiClient, path: str = "/enterprises/search", **params: Any) -> list[str]:
    reply = api.client.get(path, params=params)
    assert reply.status_code == 200, reply.text
    return [i["uscc"] for i in reply.json()["items"]]


def feed(api: ApiClient) -> Any:
    app: Any = api.client.app
    return app.state.search


async def three(store: Store) -> dict[str, dict[str, Any]]:
    """华为 in Longgang, two 晶威 firms in Nanshan and Futian, with their legal
    representatives."""
    made = {
        HUAWEI_CO: f.registered(
            HUAWEI_CO, f.unique_person("任某"), name="华为技术有限公司", address=HUAWEI,
            district="440307", phone="13800000001",
        ),
        HANJING: f.registered(
            HANJING, f.unique_person("欧阳明"), name="深圳市韩晶威电子有限公司", address=KEFA
        ),
        DINGDAO: f.registered(
            DINGDAO, f.unique_person("李四"), name="深圳市鼎道晶威科技有限公司", address=CHANGFU,
            district="440304",
        ),
    }  # fmt: skip
    await replay(store, *made.values())
    return made


async def test_a_firm_committed_is_found_by_name_and_address(api: ApiClient, store: Store) -> None:
    assert found(api, name="晶威") == []  # the index is built, and empty
    await three(store)
    # committed before the request: found, by any part of the name or the address
    assert found(api, name="晶威") == sorted([HANJING, DINGDAO])
    assert found(api, name="华为技术") == [HUAWEI_CO]
    assert found(api, address="坂田街道华为基地") == [HUAWEI_CO]
    assert found(api, address="广东省深圳市南山区科发路３号") == [HANJING]  # normalized
    assert found(api, name="晶威", address="福田区") == [DINGDAO]
    assert found(api, name="腾讯") == []
    items = api.client.get("/enterprises/search", params={"name": "华为"}).json()["items"]
    assert items[0]["name"] == "华为技术有限公司" and items[0]["district"] == "440307"
    assert feed(api).builds == 1  # kept current from the stream, not built again


async def test_a_renamed_or_moved_firm_is_found_as_it_is_now(api: ApiClient, store: Store) -> None:
    await three(store)
    assert found(api, name="韩晶威") == [HANJING]
    rename = f.changed(
        HANJING, "2026-03-01", "name", "深圳市韩晶威电子有限公司", "深圳市前海深港电子有限公司"
    )
    move = f.changed(HANJING, "2026-03-02", "address", KEFA, "深圳市南山区桂湾五路128号")
    await replay(store, rename, move)
    assert found(api, name="韩晶威") == []
    assert found(api, name="晶威") == [DINGDAO]
    assert found(api, name="前海深港") == [HANJING]
    assert found(api, address="科发路") == []
    assert found(api, address="桂湾五路") == [HANJING]


async def test_most_commits_leave_the_changes_stream_alone(store: Store) -> None:
    made = await three(store)
    first = await store.directory_changes()
    assert sorted(u for _, u in first.changes) == sorted(made) and not first.gap
    # a penalty changes the entry (its grade, its last penalty), not what search reads
    await replay(store, f.penalty(HANJING, "2026-03-01"))
    assert (await store.directory_changes(first.changes[-1][0])).changes == []


async def test_search_keeps_to_the_callers_district(api: ApiClient, store: Store) -> None:
    await three(store)
    nanshan = api.auth(api.account("regulator", district="440305"))
    shenzhen = api.auth(api.account("regulator", district="4403"))

    def seen(headers: dict[str, str], **params: str) -> list[str]:
        reply = api.client.get("/enterprises/search", params=params, headers=headers)
        assert reply.status_code == 200, reply.text
        return [i["uscc"] for i in reply.json()["items"]]

    assert seen(nanshan, name="晶威") == [HANJING]
    assert seen(nanshan, name="华为") == []
    assert seen(shenzhen, name="晶威") == sorted([HANJING, DINGDAO])
    department = api.auth(api.account("department", district="440305"))
    refused = api.client.get("/enterprises/search", params={"name": "晶威"}, headers=department)
    assert refused.status_code == 403  # search by name is the regulators', as before
    # the console's search box: the regulator's scope too
    console = api.client
    console.cookies.clear()
    key = api.account("regulator", district="440305")
    signed = console.post("/console/login", data={"key": key}, follow_redirects=False)
    assert signed.status_code == 303
    html = console.get("/console/enterprises", params={"q": "晶威"}).text
    assert re.findall(r"<td><code>(\w{18})</code></td>", html) == [HANJING]


async def test_the_public_search_shows_no_personal_data(api: ApiClient, store: Store) -> None:
    made = await three(store)
    reply = api.client.get("/public/enterprises", params={"name": "晶威"}, headers={})
    assert reply.status_code == 200, reply.text
    items = reply.json()["items"]
    assert [i["uscc"] for i in items] == sorted([HANJING, DINGDAO])  # the whole city
    assert {k for i in items for k in i} == {"uscc", "name", "status", "district", "grade", "risk"}
    console = api.client.get("/console/public", params={"q": "晶威"}, headers={}).text
    assert HANJING in console and DINGDAO in console and "鼎道晶威" in console
    assert "存续" in console and ">active<" not in console  # the status in the page's language
    for text in (reply.text, console):
        for event in made.values():
            rep = event["payload"]["legal_rep"]
            assert rep["name"] not in text and rep["id_no"] not in text
            assert event["payload"]["address"] not in text
        assert "13800000001" not in text and "欧阳" not in text
    short = api.client.get("/public/enterprises", params={"name": "晶"}, headers={})
    assert short.status_code == 422


@pytest.mark.parametrize("selective", [2000, 10], ids=["few-matches-read", "walk-in-order"])
async def test_pages_with_cursors_give_every_match_once(
    api: ApiClient, store: Store, monkeypatch: pytest.MonkeyPatch, selective: int
) -> None:
    monkeypatch.setattr(search_index, "SELECTIVE", selective)
    codes = {f.uscc() for _ in range(130)}
    others = {f.uscc() for _ in range(20)}
    await replay(
        store,
        *(f.registered(c, name=f"深圳市晶威{n}号科技有限公司") for n, c in enumerate(codes)),
        *(f.registered(c, name=f"深圳市鼎道{n}号贸易有限公司") for n, c in enumerate(others)),
    )
    for term in ("晶威", "晶威1", "号科技有限"):  # short (a walk), long (trigrams)
        expected = {c for n, c in enumerate(codes) if term in f"深圳市晶威{n}号科技有限公司"}
        seen: list[str] = []
        cursor: str | None = None
        while True:
            params = {"name": term, "limit": "50"} | ({"cursor": cursor} if cursor else {})
            body = api.client.get("/enterprises/search", params=params).json()
            seen += [i["uscc"] for i in body["items"]]
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert seen == sorted(expected), term
    # the console's pages, name or address, by their next-page links
    api.client.post("/console/login", data={"key": ADMIN_KEY})
    shown: list[str] = []
    url: str | None = "/console/enterprises?q=%E6%99%B6%E5%A8%81"  # 晶威
    while url:
        html = api.client.get(url).text
        shown += re.findall(r"<td><code>(\w{18})</code></td>", html)
        more = re.search(r'href="(/console/enterprises\?[^"]*cursor=[^"]+)"', html)
        url = more.group(1).replace("&amp;", "&") if more else None
    assert shown == sorted(codes)
    bad = api.client.get("/enterprises/search", params={"name": "晶威", "cursor": "x"})
    assert bad.status_code == 422


async def test_a_gap_in_the_changes_stream_builds_the_index_again(
    api: ApiClient, store: Store
) -> None:
    assert found(api, name="晶威") == [] and feed(api).builds == 1
    await three(store)
    # the stream loses what the index had not read (as the cap trims it)
    await store.redis.xtrim(store.directory_changes_stream, maxlen=0)
    assert (await store.directory_changes(feed(api).position)).gap
    assert found(api, name="晶威") == sorted([HANJING, DINGDAO])
    assert feed(api).builds == 2
    # the stream gone (a flushed Redis): built again too
    await store.redis.delete(store.directory_changes_stream)
    assert found(api, name="华为") == [HUAWEI_CO]
    assert feed(api).builds == 3
    assert found(api, name="华为") == [HUAWEI_CO] and feed(api).builds == 3
