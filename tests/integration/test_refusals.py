"""Refusals that tests/integration/test_authorization.py (roles, and no key) leaves out,
through the real app on a real Redis: a wrong key, in the header or the query, on every
operation; other schemes; revoked keys and disabled accounts; and district scope, where
an enterprise outside the caller's district answers 404 exactly as an unknown one
(docs/api.md) and lists, searches, exports and overrides leave it out."""

from __future__ import annotations

import asyncio
import csv
import io
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from agents.pipeline import Pipeline
from agents.replay import Replayer
from api.app import create_app
from streams.settings import StoreSettings
from streams.store import Store
from tests import factories as f
from tests.integration.conftest import ADMIN_KEY, ApiClient, api_settings
from tests.integration.test_authorization import OPERATIONS, _call

pytestmark = pytest.mark.integration
NANSHAN, FUTIAN = "440305", "440304"
#: answered to anyone without looking at the key: liveness and the Prometheus exposition
OPEN = {"GET /healthz", "GET /metrics"}
WRONG_KEY = f"cwk_{secrets.token_hex(6)}_{secrets.token_urlsafe(32)}"
#: a representative operation of each kind, for the refusals not tried on every one
SOME = ["GET /me", "GET /enterprises/{uscc}", "POST /enterprises/batch", "GET /warnings",
        "GET /subscriptions/stream", "POST /webhooks", "GET /admin/accounts"]  # fmt: skip


@dataclass
class City:
    client: TestClient
    api: ApiClient
    here: str  # a firm in Nanshan, the scoped accounts' district
    there: str  # a dishonest firm in Futian, outside it
    there_rep: str  # the Futian firm's legal representative's ID number
    keys: dict[str, str]


async def _seed(settings: StoreSettings) -> tuple[str, str, str]:
    store = Store.from_settings(settings)
    here, there, rep = f.uscc(), f.uscc(), f.unique_person()
    events = [
        f.registered(here, name="深圳市南山区内有限公司", district=NANSHAN),
        f.registered(there, rep, name="深圳市福田区外有限公司", district=FUTIAN),
        f.dishonest_listed(there),
    ]
    try:
        await Replayer(Pipeline(store, "fanout"), batch_size=50).run(f.encode(e) for e in events)
    finally:
        await store.close()
    return here, there, rep["id_no"]


@pytest.fixture(scope="module")
def city(redis_server: str) -> Iterator[City]:
    store = StoreSettings(redis_url=redis_server, key_prefix=f"refuse{uuid.uuid4().hex[:8]}")
    here, there, rep = asyncio.run(_seed(store))
    app = create_app(api_settings(webhooks_enabled=False, rate_limit_public=10**6), store)
    with TestClient(app, headers=ApiClient.auth(ADMIN_KEY)) as client:
        api = ApiClient(client)
        keys = {
            "department": api.account("department", district=NANSHAN),
            "regulator": api.account("regulator", district=NANSHAN),
            "revoked": api.account("department"),
            "disabled": api.account("regulator"),
        }
        revoked_id = keys["revoked"].split("_")[1]
        assert client.delete(f"/admin/keys/{revoked_id}").status_code == 204
        disabled = client.get("/me", headers=api.auth(keys["disabled"])).json()["account_id"]
        patched = client.patch(f"/admin/accounts/{disabled}", json={"disabled": True})
        assert patched.status_code == 200, patched.text
        yield City(client, api, here, there, rep, keys)


def _refused(city: City, operation: str, headers: dict[str, str], path_suffix: str = "") -> None:
    method, template = operation.split(" ", 1)
    status = _call(city.client, f"{method} {template}{path_suffix}", headers)
    assert status == 401, f"{operation}: {status}"


@pytest.mark.parametrize("operation", [o for o in OPERATIONS if o not in OPEN])
def test_a_wrong_key_is_refused_on_every_operation(city: City, operation: str) -> None:
    _refused(city, operation, ApiClient.auth(WRONG_KEY))
    _refused(city, operation, {"Authorization": ""}, f"?access_token={WRONG_KEY}")


def test_liveness_and_metrics_answer_whatever_the_key(city: City) -> None:
    for operation in sorted(OPEN):
        assert _call(city.client, operation, ApiClient.auth(WRONG_KEY)) == 200


def test_a_wrong_key_answers_the_error_body_and_never_falls_back_to_the_public(
    city: City,
) -> None:
    reply = city.client.get("/me", headers=ApiClient.auth(WRONG_KEY))
    assert reply.status_code == 401
    assert reply.json()["error"]["code"] == "unauthorized"
    assert WRONG_KEY not in reply.text
    public = city.client.get(f"/public/enterprises/{city.there}", headers={"Authorization": ""})
    assert public.status_code == 200  # without a key: the public, as documented
    refused = city.client.get(f"/public/enterprises/{city.there}", headers=city.api.auth("nope"))
    assert refused.status_code == 401


@pytest.mark.parametrize("operation", [o for o in SOME if o != "GET /me"])
@pytest.mark.parametrize("authorization", ["Basic YWRtaW46YWRtaW4=", "Bearer", "Token x"])
def test_another_scheme_is_no_key(city: City, operation: str, authorization: str) -> None:
    _refused(city, operation, {"Authorization": authorization})


@pytest.mark.parametrize("operation", SOME)
@pytest.mark.parametrize("which", ["revoked", "disabled"])
def test_a_revoked_key_or_a_disabled_account_is_refused(
    city: City, operation: str, which: str
) -> None:
    _refused(city, operation, ApiClient.auth(city.keys[which]))


def test_an_enterprise_outside_the_district_answers_as_an_unknown_one(city: City) -> None:
    for role in ("department", "regulator"):
        scoped = ApiClient.auth(city.keys[role])
        get = city.client.get
        assert get(f"/enterprises/{city.here}", headers=scoped).status_code == 200
        unknown = f.uscc()
        for suffix in ("", "/warnings", "/history", "?as_of=2026-06-01"):
            outside = get(f"/enterprises/{city.there}{suffix}", headers=scoped)
            nothing = get(f"/enterprises/{unknown}{suffix}", headers=scoped)
            assert outside.status_code == nothing.status_code == 404, (role, suffix)
            assert outside.json()["error"]["code"] == nothing.json()["error"]["code"]
            assert (
                outside.json()["error"]["message"].replace(city.there, unknown)
                == (nothing.json()["error"]["message"])
            )
            assert "福田" not in outside.text


def _override(grade: str) -> dict[str, Any]:
    return {"grade": grade, "reason": "现场核查", "expires_on": str(date.today() + timedelta(30))}


def test_a_scoped_regulator_can_neither_set_nor_lift_nor_see_an_override_elsewhere(
    city: City,
) -> None:
    scoped, admin = ApiClient.auth(city.keys["regulator"]), ApiClient.auth(ADMIN_KEY)
    client = city.client
    put = client.put(f"/enterprises/{city.there}/override", json=_override("C"), headers=admin)
    assert put.status_code == 200, put.text
    refused = client.put(f"/enterprises/{city.there}/override", json=_override("A"), headers=scoped)
    assert refused.status_code == 404, refused.text
    lift = client.delete(
        f"/enterprises/{city.there}/override", params={"reason": "x"}, headers=scoped
    )
    assert lift.status_code == 404, lift.text
    own = client.put(f"/enterprises/{city.here}/override", json=_override("B"), headers=scoped)
    assert own.status_code == 200, own.text

    in_force = {o["uscc"]: o["grade"] for o in client.get("/overrides", headers=admin).json()}
    assert in_force[city.there] == "C"  # the admin's, untouched
    seen = {o["uscc"] for o in client.get("/overrides", headers=scoped).json()}
    assert seen == {city.here}
    audit = client.get("/overrides/audit", headers=scoped).json()
    assert {r["uscc"] for r in audit} == {city.here}
    everything = client.get("/overrides/audit", headers=admin).json()
    assert {r["uscc"] for r in everything} == {city.here, city.there}


def test_lists_searches_batches_and_exports_leave_out_other_districts(city: City) -> None:
    department = ApiClient.auth(city.keys["department"])
    regulator = ApiClient.auth(city.keys["regulator"])
    get = city.client.get

    def usccs(path: str, headers: dict[str, str], **params: Any) -> set[str]:
        reply = get(path, headers=headers, params=params)
        assert reply.status_code == 200, reply.text
        return {i["uscc"] for i in reply.json()["items"]}

    assert usccs("/enterprises", department) == {city.here}
    assert usccs("/enterprises", department, district=FUTIAN) == set()
    assert usccs("/enterprises/search", regulator, name="有限公司") == {city.here}
    assert usccs("/enterprises/search", regulator, person_id=city.there_rep) == set()
    admin = ApiClient.auth(ADMIN_KEY)
    assert usccs("/enterprises/search", admin, person_id=city.there_rep) == {city.there}
    assert city.there not in usccs("/warnings", department)
    assert usccs("/warnings", admin, uscc=city.there)  # there are some to leave out
    assert city.there not in usccs("/grade-changes", department)
    batch = city.client.post(
        "/enterprises/batch", json={"usccs": [city.here, city.there]}, headers=department
    ).json()
    assert [i["uscc"] for i in batch["items"]] == [city.here]
    assert batch["missing"] == [city.there]
    text = get("/enterprises/export.csv", headers=department).content.decode("utf-8-sig")
    assert {r["uscc"] for r in csv.DictReader(io.StringIO(text))} == {city.here}


def test_a_disabled_account_is_refused_at_once_and_its_refusals_spend_nothing(
    city: City,
) -> None:
    """Disabled, its key is refused on the next request; enabled again, the key works
    with the whole of its window: the refused requests were not counted."""
    key = city.api.account("department", rate_limit=2)
    headers = ApiClient.auth(key)
    account_id = city.client.get("/me", headers=headers).json()["account_id"]  # 1 of 2
    path = f"/admin/accounts/{account_id}"
    assert city.client.patch(path, json={"disabled": True}).json()["disabled"] is True
    assert [city.client.get("/me", headers=headers).status_code for _ in range(3)] == [401] * 3
    assert city.client.patch(path, json={"disabled": False}).json()["disabled"] is False
    assert [city.client.get("/me", headers=headers).status_code for _ in range(2)] == [200, 429]
