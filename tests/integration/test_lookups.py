"""Lookups through the real app on a real Redis, with enterprises made by real events:
batch, list, search, CSV export, the public view, district scope, personal data by
role, accounts and keys, rate limits and the access log."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from agents.pipeline import Pipeline
from agents.replay import Replayer
from rules.ruleset import RuleSet
from streams.store import Store
from tests import factories as f
from tests.integration.conftest import ApiClient

pytestmark = pytest.mark.integration
NO_REPORTS = RuleSet("test-no-reports", {"annual_report_missing": {"enabled": False}})


async def replay(store: Store, *events: dict[str, Any]) -> None:
    await Replayer(Pipeline(store, "fanout", NO_REPORTS), batch_size=50).run(
        f.encode(e) for e in events
    )


@pytest.fixture
async def city(store: Store) -> dict[str, Any]:
    """Three firms: a clean one in Nanshan (440305), a dishonest one (grade D) in
    Futian (440304), a high-tech one in Nanshan."""
    rep = f.unique_person("李四")
    clean, dishonest, tech = f.uscc(), f.uscc(), f.uscc()
    events = [
        f.registered(clean, rep, name="深圳市清白贸易有限公司", phone="13800000000"),
        f.registered(dishonest, name="深圳市失信实业有限公司", district="440304"),
        f.dishonest_listed(dishonest),
        f.registered(tech, name="深圳市前沿科技有限公司", tags=["high_tech"]),
    ]
    await replay(store, *events)
    return {"clean": clean, "dishonest": dishonest, "tech": tech, "rep": rep}


def test_batch_lookup_answers_found_missing_and_invalid_in_one_call(
    api: ApiClient, city: dict[str, Any]
) -> None:
    unknown, bad = f.uscc(), f.uscc_with_wrong_check()
    asked = [city["dishonest"], unknown, bad, city["clean"], city["clean"]]
    reply = api.client.post("/enterprises/batch", json={"usccs": asked})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert [i["uscc"] for i in body["items"]] == [city["dishonest"], city["clean"]]
    assert body["items"][0]["grade"] == "D"
    assert "dishonest_enterprise" in body["items"][0]["rules"]
    assert body["missing"] == [unknown]
    assert [p["uscc"] for p in body["invalid"]] == [bad]


def test_batch_lookup_refuses_more_than_a_thousand(api: ApiClient) -> None:
    reply = api.client.post("/enterprises/batch", json={"usccs": [f.uscc()] * 1001})
    assert reply.status_code == 422
    assert reply.json()["error"]["code"] == "invalid_request"


def test_lists_filter_by_grade_district_tag_and_rule(api: ApiClient, city: dict[str, Any]) -> None:
    def usccs(**params: Any) -> set[str]:
        reply = api.client.get("/enterprises", params=params)
        assert reply.status_code == 200, reply.text
        return {i["uscc"] for i in reply.json()["items"]}

    assert usccs(grade="D") == {city["dishonest"]}
    assert usccs(district="440305") == {city["clean"], city["tech"]}
    assert usccs(tag="high_tech") == {city["tech"]}
    assert usccs(rule_id="dishonest_enterprise") == {city["dishonest"]}
    assert usccs(grade=["A", "B"], district="4403") == {city["clean"], city["tech"]}


def test_search_by_name_address_and_person(api: ApiClient, city: dict[str, Any]) -> None:
    def found(**params: Any) -> list[dict[str, Any]]:
        reply = api.client.get("/enterprises/search", params=params)
        assert reply.status_code == 200, reply.text
        return list(reply.json()["items"])

    assert [i["uscc"] for i in found(name="失信实业")] == [city["dishonest"]]
    by_person = found(person_id=city["rep"]["id_no"])
    assert [(i["uscc"], i["roles"]) for i in by_person] == [(city["clean"], ["legal_rep"])]
    clean = api.client.get(f"/enterprises/{city['clean']}").json()
    street = clean["profile"]["address"][-10:]
    assert city["clean"] in {i["uscc"] for i in found(address=street)}
    assert api.client.get("/enterprises/search").status_code == 422
    bad_id = api.client.get("/enterprises/search", params={"person_id": "123"})
    assert bad_id.json()["error"]["code"] == "invalid_id_no"


def test_csv_export_streams_every_match(api: ApiClient, city: dict[str, Any]) -> None:
    reply = api.client.get("/enterprises/export.csv", params={"district": "440305"})
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/csv")
    text = reply.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert {r["uscc"] for r in rows} == {city["clean"], city["tech"]}
    assert {r["name"] for r in rows} >= {"深圳市清白贸易有限公司"}


def test_personal_data_is_masked_for_departments_and_the_public(
    api: ApiClient, city: dict[str, Any]
) -> None:
    id_no, name = city["rep"]["id_no"], city["rep"]["name"]
    regulator = api.auth(api.account("regulator"))
    department = api.auth(api.account("department"))
    full = api.client.get(f"/enterprises/{city['clean']}", headers=regulator).json()
    assert full["profile"]["legal_rep"] == {"name": name, "id_no": id_no}
    assert full["profile"]["phone"] == "13800000000"
    masked = api.client.get(f"/enterprises/{city['clean']}", headers=department)
    assert masked.status_code == 200
    assert masked.json()["profile"]["legal_rep"]["id_no"] == id_no[:6] + "********" + id_no[-4:]
    assert masked.json()["profile"]["legal_rep"]["name"] == name[0] + "*" * (len(name) - 1)
    assert "phone" not in masked.json()["profile"]
    anonymous = api.client.get(f"/public/enterprises/{city['dishonest']}", headers={})
    assert anonymous.status_code == 200, anonymous.text
    public = anonymous.json()
    assert public["risk"]["colour"] == "red"
    assert [c["code"] for c in public["categories"]] == ["dishonest_debtor"]
    assert public["legal_rep"].endswith("*")
    text = api.client.get(f"/public/enterprises/{city['clean']}", headers={}).text
    assert id_no not in text and id_no[6:14] not in text and name not in text
    assert "13800000000" not in text


def test_a_district_scoped_account_sees_its_district_only(
    api: ApiClient, city: dict[str, Any]
) -> None:
    futian = api.auth(api.account("department", district="440304"))
    assert api.client.get(f"/enterprises/{city['dishonest']}", headers=futian).status_code == 200
    assert api.client.get(f"/enterprises/{city['clean']}", headers=futian).status_code == 404
    listed = api.client.get("/enterprises", headers=futian).json()["items"]
    assert [i["uscc"] for i in listed] == [city["dishonest"]]
    both = [city["clean"], city["dishonest"]]
    batch = api.client.post("/enterprises/batch", json={"usccs": both}, headers=futian).json()
    assert [i["uscc"] for i in batch["items"]] == [city["dishonest"]]
    assert batch["missing"] == [city["clean"]]
    warnings = api.client.get("/warnings", headers=futian).json()["items"]
    assert warnings and {w["uscc"] for w in warnings} == {city["dishonest"]}


def test_a_revoked_key_stops_working_at_once(api: ApiClient) -> None:
    key = api.account("department")
    assert api.client.get("/me", headers=api.auth(key)).json()["role"] == "department"
    keys = api.client.get("/admin/keys").json()
    assert all("key" not in k for k in keys)
    key_id = key.split("_")[1]
    assert api.client.delete(f"/admin/keys/{key_id}").status_code == 204
    refused = api.client.get("/me", headers=api.auth(key))
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "unauthorized"


async def test_no_key_is_stored_in_clear(api: ApiClient, store: Store) -> None:
    key = api.account("regulator")
    everything = await store.redis.hgetall(store.api_keys)
    assert key.encode() not in b"".join(k + v for k, v in everything.items())


def test_rate_limit_answers_429_with_retry_after(api: ApiClient) -> None:
    key = api.auth(api.account("department", rate_limit=3))
    codes = [api.client.get("/me", headers=key).status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200]
    assert set(codes[3:]) == {429}  # a sliding window: no edge lets a fourth through
    reply = api.client.get("/me", headers=key)
    assert reply.status_code == 429
    assert 1 <= int(reply.headers["Retry-After"]) <= 60
    assert reply.json()["error"]["code"] == "rate_limited"
    assert reply.json()["error"]["details"]["limit"] == 3


def test_every_data_access_is_in_the_access_log(api: ApiClient, city: dict[str, Any]) -> None:
    key = api.account("department")
    department = api.auth(key)
    api.client.get(f"/enterprises/{city['clean']}", headers=department)
    api.client.post("/enterprises/batch", json={"usccs": [city["clean"]]}, headers=department)
    api.client.get("/enterprises/export.csv", headers=department)
    account_id = api.client.get("/me", headers=department).json()["account_id"]
    log = api.client.get("/admin/access-log", params={"account_id": account_id}).json()["items"]
    seen = [(r["route"], r["records"]) for r in log]
    assert ("/enterprises/{uscc}", 1) in seen
    assert ("/enterprises/batch", 1) in seen
    assert ("/enterprises/export.csv (completed)", 3) in seen
    assert all(r["key_id"] == key.split("_")[1] for r in log)
    forbidden = api.client.get("/admin/access-log", headers=department)
    assert forbidden.status_code == 403


async def test_a_directory_lost_or_older_than_the_states_is_rebuilt(
    api: ApiClient, store: Store, city: dict[str, Any]
) -> None:
    """States written before the directory existed: rebuilt from the states alone."""
    before = await store.directory_entries([city["clean"], city["dishonest"], city["tech"]])
    await store.redis.delete(store.directory)
    assert api.client.get("/enterprises").json()["items"] == []
    written = [n async for n in store.rebuild_directory(chunk=2)]
    assert sum(written) == 3 and len(written) == 2  # two chunks: 2 + 1
    after = await store.directory_entries(list(before))
    assert after == before
    assert (
        api.client.get("/enterprises", params={"grade": "D"}).json()["items"][0]["uscc"]
        == (city["dishonest"])
    )
