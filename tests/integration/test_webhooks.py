"""Webhooks end to end: accounts made through the admin API register webhooks, real
events go through the real pipeline into Redis, and the app's own delivery loop POSTs
the records to a real HTTP receiver, signed, retried, paused and resumed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from agents.pipeline import Pipeline
from agents.replay import Replayer
from api.app import create_app
from api.signing import verify
from rules.ruleset import RuleSet
from streams.settings import StoreSettings
from streams.store import Store
from tests import factories as f
from tests.http_receiver import Receiver
from tests.integration.conftest import ADMIN_KEY, ApiClient, api_settings

pytestmark = pytest.mark.integration
ATTEMPTS = 4
FAST = {
    "webhook_poll_interval_s": 0.05,
    "webhook_backoff_base_s": 0.05,
    "webhook_backoff_cap_s": 0.2,
    "webhook_max_attempts": ATTEMPTS,
    "webhook_timeout_s": 5.0,
    # the receiver listens on loopback over http: allowed here as an operator would
    "webhook_allow_http": True,
    "webhook_allow": ["127.0.0.1"],
}
NO_REPORTS = RuleSet("test-no-reports", {"annual_report_missing": {"enabled": False}})


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


@pytest.fixture
def api(store_settings: StoreSettings) -> Iterator[ApiClient]:
    """The app with short backoffs and polls: its lifespan runs the delivery loop."""
    app = create_app(api_settings(**FAST), store_settings)
    with TestClient(app, headers=ApiClient.auth(ADMIN_KEY)) as client:
        yield ApiClient(client)


async def until(check: Callable[[], Any], what: str, timeout: float = 15.0) -> Any:
    """Poll `check` until it returns something truthy; fail after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not (found := check()):
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)
    return found


async def replay(store: Store, *events: dict[str, Any]) -> None:
    await Replayer(Pipeline(store, "fanout", NO_REPORTS), batch_size=50).run(
        f.encode(e) for e in events
    )


async def dishonest_firm(store: Store, district: str = "440305") -> str:
    """A new firm of `district` listed dishonest: a red dishonest_enterprise warning
    and a grade change to D."""
    code = f.uscc()
    await replay(store, f.registered(code, district=district), f.dishonest_listed(code))
    return code


def register(api: ApiClient, key: str, url: str, **body: Any) -> dict[str, Any]:
    created = api.client.post("/webhooks", json={"url": url, **body}, headers=api.auth(key))
    assert created.status_code == 201, created.text
    return dict(created.json())


def log_of(api: ApiClient, key: str, webhook_id: str) -> list[dict[str, Any]]:
    found = api.client.get(f"/webhooks/{webhook_id}/deliveries", headers=api.auth(key))
    assert found.status_code == 200, found.text
    return list(found.json())


async def test_a_department_receives_new_warnings_signed(
    store: Store, api: ApiClient, receiver: Receiver
) -> None:
    history = await dishonest_firm(store)  # before the webhook: not delivered
    tax = api.account("department", department="tax")
    hook = register(api, tax, receiver.url(), filters={"kinds": ["warning"]}, description="t")
    assert len(hook["secret"]) >= 43 and hook["status"] == "active"
    code = await dishonest_firm(store)

    delivered = (await until(lambda: receiver.got(status=200), "the warning"))[0]
    body = delivered.json
    assert body["kind"] == "warning" and body["data"]["uscc"] == code != history
    assert (body["data"]["rule_id"], body["data"]["severity"]) == ("dishonest_enterprise", "red")
    newest: Any = await store.redis.xrevrange(store.warnings_stream, count=1)
    assert body["id"] == newest[0][0].decode()
    headers = delivered.headers
    assert headers["content-type"] == "application/json"
    assert headers["x-creditwatch-event"] == "warning" and headers["x-creditwatch-delivery"]
    timestamp, signature = headers["x-creditwatch-timestamp"], headers["x-creditwatch-signature"]
    assert verify(hook["secret"], timestamp, delivered.body, signature)
    assert not verify("not-the-secret-at-all", timestamp, delivered.body, signature)

    log = await until(lambda: log_of(api, tax, hook["webhook_id"]), "the delivery log")
    assert [(d["attempts"], d["status_code"], d["outcome"]) for d in log] == [(1, 200, "delivered")]
    assert log[0]["delivery_id"] == headers["x-creditwatch-delivery"]
    assert log[0]["record_id"] == body["id"] and log[0]["ref"] == body["data"]["warning_id"]
    assert len(receiver.got()) == 1  # neither the history nor the grade change

    shown = api.client.get(f"/webhooks/{hook['webhook_id']}", headers=api.auth(tax)).json()
    listed = api.client.get("/webhooks", headers=api.auth(tax)).json()
    assert "secret" not in shown and [w["webhook_id"] for w in listed] == [hook["webhook_id"]]
    assert all("secret" not in w for w in listed)
    assert shown["cursors"]["warning"] == body["id"]

    # another department: as if it did not exist
    other = api.auth(api.account("department", department="customs"))
    path = f"/webhooks/{hook['webhook_id']}"
    assert api.client.get(path, headers=other).status_code == 404
    assert api.client.get(f"{path}/deliveries", headers=other).status_code == 404
    assert api.client.post(f"{path}/resume", headers=other).status_code == 404
    missing = api.client.delete(path, headers=other)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert api.client.get("/webhooks", headers=other).json() == []
    assert hook["webhook_id"] in [w["webhook_id"] for w in api.client.get("/webhooks").json()]
    assert api.client.delete(path, headers=api.auth(tax)).status_code == 204
    assert api.client.get(path, headers=api.auth(tax)).status_code == 404


async def test_a_failing_receiver_gets_the_record_again_until_it_answers(
    store: Store, api: ApiClient, receiver: Receiver
) -> None:
    receiver.fail_next = 2
    key = api.account("department")
    hook = register(api, key, receiver.url(), filters={"kinds": ["warning"]}, secret="s" * 32)
    assert hook["secret"] == "s" * 32
    await dishonest_firm(store)

    await until(lambda: receiver.got(status=200), "the third attempt")
    tries = receiver.got()
    assert [r.status for r in tries] == [500, 500, 200]
    assert len({r.body for r in tries}) == 1
    assert len({r.headers["x-creditwatch-delivery"] for r in tries}) == 1
    log = await until(lambda: log_of(api, key, hook["webhook_id"]), "the delivery log")
    assert [(d["attempts"], d["status_code"], d["outcome"]) for d in log] == [(3, 200, "delivered")]


async def test_a_webhook_that_keeps_failing_pauses_and_resumes_where_it_stopped(
    store: Store, api: ApiClient, receiver: Receiver
) -> None:
    receiver.failing = True
    key = api.account("department")
    owner = api.auth(key)
    hook = register(api, key, receiver.url(), filters={"kinds": ["warning"]})
    path = f"/webhooks/{hook['webhook_id']}"
    first = await dishonest_firm(store)

    def paused() -> dict[str, Any] | None:
        body = dict(api.client.get(path, headers=owner).json())
        return body if body["status"] == "paused" else None

    stopped = await until(paused, "the pause")
    assert (
        "4 attempts failed" in stopped["paused_reason"] and "HTTP 500" in stopped["paused_reason"]
    )
    assert stopped["paused_at"]
    assert [r.status for r in receiver.got()] == [500] * ATTEMPTS
    failed_id = receiver.got()[0].json["id"]
    log = log_of(api, key, hook["webhook_id"])
    assert [(d["attempts"], d["status_code"], d["outcome"]) for d in log] == [
        (ATTEMPTS, 500, "failed")
    ]
    notices = api.client.get("/webhooks/notices", headers=owner).json()
    assert [(n["notice"], n["webhook_id"], n["record"]) for n in notices] == [
        ("webhook_paused", hook["webhook_id"], {"kind": "warning", "id": failed_id})
    ]
    bystander = api.auth(api.account("department"))
    assert api.client.get("/webhooks/notices", headers=bystander).json() == []

    second = await dishonest_firm(store)  # while paused: kept for later, in order
    receiver.failing = False
    resumed = api.client.post(f"{path}/resume", headers=owner)
    assert resumed.status_code == 200 and resumed.json()["status"] == "active"
    assert resumed.json()["paused_reason"] is None

    await until(lambda: len(receiver.got(status=200)) >= 2, "both records")
    ok = [r.json for r in receiver.got(status=200)]
    assert [(b["id"], b["data"]["uscc"]) for b in ok][:1] == [(failed_id, first)]
    assert [b["data"]["uscc"] for b in ok] == [first, second]  # nothing lost, nothing twice
    log = await until(lambda: len(log_of(api, key, hook["webhook_id"])) == 3 or None, "the log")
    assert [d["outcome"] for d in log_of(api, key, hook["webhook_id"])] == [
        "delivered",
        "delivered",
        "failed",
    ]


async def test_an_unreachable_url_pauses_its_webhook_while_others_deliver(
    store: Store, api: ApiClient, receiver: Receiver
) -> None:
    key = api.account("department")
    dead = register(api, key, "http://127.0.0.1:1/nobody-listens")
    register(api, key, receiver.url())
    code = await dishonest_firm(store)

    await until(lambda: len(receiver.got(status=200)) >= 2, "the warning and the grade change")
    assert {(r.json["kind"], r.json["data"]["uscc"]) for r in receiver.got()} == {
        ("warning", code),
        ("grade_change", code),
    }

    def paused() -> dict[str, Any] | None:
        body = dict(api.client.get(f"/webhooks/{dead['webhook_id']}", headers=api.auth(key)).json())
        return body if body["status"] == "paused" else None

    assert "ConnectError" in (await until(paused, "the pause"))["paused_reason"]


async def test_filters_and_the_owners_district_decide_what_is_delivered(
    store: Store, api: ApiClient, receiver: Receiver
) -> None:
    unscoped = api.account("department")
    frequency = {"kinds": ["warning"], "rule_ids": ["penalty_frequency"]}
    register(api, unscoped, receiver.url("/frequency"), filters=frequency)
    nanshan = api.account("department", district="440305")
    register(api, nanshan, receiver.url("/nanshan"))

    first = await dishonest_firm(store, "440305")
    elsewhere = f.uscc()
    penalties = [f.penalty(elsewhere, d) for d in ("2026-03-01", "2026-03-05", "2026-03-09")]
    await replay(store, f.registered(elsewhere, district="440104"), *penalties)
    last = await dishonest_firm(store, "440305")

    got = await until(lambda: receiver.got("/frequency", 200), "the penalty_frequency warning")
    assert [(r.json["data"]["uscc"], r.json["data"]["rule_id"]) for r in got] == [
        (elsewhere, "penalty_frequency")
    ]

    # delivery is in order: once the last firm's records are in, the others' are past
    def nanshan_got() -> list[tuple[str, str]] | None:
        records = [(r.json["kind"], r.json["data"]["uscc"]) for r in receiver.got("/nanshan", 200)]
        return records if ("grade_change", last) in records else None

    records = await until(nanshan_got, "the last firm's records")
    assert sorted(records) == sorted(
        [("warning", first), ("grade_change", first), ("warning", last), ("grade_change", last)]
    )
    assert all(r.status == 200 for r in receiver.got())


async def test_a_disabled_owner_receives_nothing_until_enabled_then_what_it_missed(
    store: Store, api: ApiClient, receiver: Receiver
) -> None:
    key = api.account("department")
    account_id = api.client.get("/me", headers=api.auth(key)).json()["account_id"]
    hook = register(api, key, receiver.url(), filters={"kinds": ["warning"]})
    first = await dishonest_firm(store)
    await until(lambda: receiver.got(status=200), "the first warning")
    disabled = api.client.patch(f"/admin/accounts/{account_id}", json={"disabled": True})
    assert disabled.status_code == 200
    # the delivery loop looks at the account before each batch: wait for one more poll
    await asyncio.sleep(FAST["webhook_poll_interval_s"] * 4)
    missed = await dishonest_firm(store)
    await asyncio.sleep(1.0)  # twenty polls: a delivery now would be a defect
    assert [r.json["data"]["uscc"] for r in receiver.got()] == [first]
    assert api.client.get(f"/webhooks/{hook['webhook_id']}").json()["status"] == "active"
    api.client.patch(f"/admin/accounts/{account_id}", json={"disabled": False})
    got = await until(lambda: len(receiver.got(status=200)) == 2 and receiver.got(), "more")
    assert [r.json["data"]["uscc"] for r in got] == [first, missed]


def test_requests_are_validated_and_roles_checked(api: ApiClient) -> None:
    key = api.auth(api.account("department"))
    for body, field in [
        ({"url": "ftp://example.org/hook"}, "body.url"),
        ({"url": "not a url"}, "body.url"),
        ({"url": "https://example.org/h", "secret": "short"}, "body.secret"),
        ({"url": "https://example.org/h", "filters": {"severities": ["pink"]}}, "body.filters"),
        ({"url": "https://example.org/h", "filters": {"kinds": []}}, "body.filters"),
    ]:
        refused = api.client.post("/webhooks", json=body, headers=key)
        assert refused.status_code == 422, body
        error = refused.json()["error"]
        assert error["code"] == "invalid_request" and error["details"][0]["field"].startswith(field)
    # a loopback port nothing listens on: registered, and never anything beyond this machine
    created = api.client.post("/webhooks", json={"url": "http://127.0.0.1:9/h"}, headers=key)
    assert created.json()["filters"]["kinds"] == ["warning", "grade_change"]
    public = api.auth(api.account("public"))
    assert api.client.get("/webhooks", headers=public).status_code == 403
    regulator = api.auth(api.account("regulator"))
    assert api.client.get("/webhooks", headers=regulator).json() == []
    assert api.client.get("/webhooks/wh_nope", headers=key).status_code == 404


async def test_one_process_holds_a_webhooks_lease_at_a_time(store: Store) -> None:
    assert await store.acquire_webhook_lease("wh_x", "one", 10_000)
    assert not await store.acquire_webhook_lease("wh_x", "two", 10_000)
    assert not await store.renew_webhook_lease("wh_x", "two", 10_000)
    assert await store.renew_webhook_lease("wh_x", "one", 10_000)
    await store.release_webhook_lease("wh_x", "two")  # not its lease: nothing happens
    assert not await store.acquire_webhook_lease("wh_x", "two", 10_000)
    await store.release_webhook_lease("wh_x", "one")
    assert await store.acquire_webhook_lease("wh_x", "two", 10_000)
