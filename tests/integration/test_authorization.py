"""Who may call what: every operation of the OpenAPI document, called as every role
(and without a key), through the real app on a real Redis. The table below is the
policy; an operation missing from it fails the test, so a new endpoint must be placed."""

from __future__ import annotations

import asyncio
import itertools
import re
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import new_key
from streams.settings import LiveSettings, StoreSettings
from streams.store import Store
from tests import factories as f
from tests.integration.conftest import ADMIN_KEY, ApiClient, api_settings

pytestmark = pytest.mark.integration

ANYONE = frozenset({"anonymous", "public", "department", "regulator", "admin"})
MEMBER = frozenset({"department", "regulator", "admin"})
REGULATOR = frozenset({"regulator", "admin"})
ADMIN = frozenset({"admin"})

POLICY: dict[str, frozenset[str]] = {
    "GET /healthz": ANYONE,
    "GET /metrics": ANYONE,
    "GET /me": ANYONE,
    "GET /public/enterprises/{uscc}": ANYONE,
    "GET /public/enterprises": ANYONE,
    "GET /public/inspections/plans": ANYONE,
    "GET /public/inspections/plans/{plan_id}": ANYONE,
    "POST /enterprises/batch": MEMBER,
    "GET /enterprises": MEMBER,
    "GET /enterprises/export.csv": MEMBER,
    "GET /enterprises/{uscc}": MEMBER,
    "GET /enterprises/{uscc}/warnings": MEMBER,
    "GET /enterprises/{uscc}/history": MEMBER,
    "GET /warnings": MEMBER,
    "GET /grade-changes": MEMBER,
    "GET /subscriptions/stream": MEMBER,
    "GET /webhooks": MEMBER,
    "POST /webhooks": MEMBER,
    "GET /webhooks/notices": MEMBER,
    "GET /webhooks/{webhook_id}": MEMBER,
    "DELETE /webhooks/{webhook_id}": MEMBER,
    "POST /webhooks/{webhook_id}/resume": MEMBER,
    "GET /webhooks/{webhook_id}/deliveries": MEMBER,
    "POST /inspections/plans": MEMBER,
    "POST /inspections/plans/preview": MEMBER,
    "PUT /inspections/plans/{plan_id}/targets/{uscc}/result": MEMBER,
    "GET /inspections/plans": MEMBER,
    "GET /inspections/plans/{plan_id}": MEMBER,
    "GET /inspections/plans/{plan_id}/verify": MEMBER,
    "GET /blind-spots": MEMBER,
    "GET /rules": MEMBER,
    "GET /rules/history": MEMBER,
    "GET /enterprises/{uscc}/warnings/{warning_id}/handling": MEMBER,
    "GET /enterprises/{uscc}/snoozes": MEMBER,
    "GET /warnings/overdue": MEMBER,
    "GET /warnings/assigned": MEMBER,
    "GET /warnings/dispositions/summary": MEMBER,
    "GET /model": MEMBER,
    "GET /enterprises/search": REGULATOR,
    "GET /enterprises/{uscc}/related": REGULATOR,
    "PUT /enterprises/{uscc}/override": REGULATOR,
    "DELETE /enterprises/{uscc}/override": REGULATOR,
    "GET /overrides": REGULATOR,
    "GET /overrides/audit": REGULATOR,
    "GET /dead-letters": REGULATOR,
    "PUT /enterprises/{uscc}/warnings/{warning_id}/assignment": REGULATOR,
    "PUT /enterprises/{uscc}/warnings/{warning_id}/disposition": REGULATOR,
    "PUT /enterprises/{uscc}/snoozes/{rule_id}": REGULATOR,
    "DELETE /enterprises/{uscc}/snoozes/{rule_id}": REGULATOR,
    "GET /warnings/handling/audit": REGULATOR,
    "GET /address-allowlist": REGULATOR,
    "POST /address-allowlist": REGULATOR,
    "DELETE /address-allowlist": REGULATOR,
    "GET /rules/candidates": REGULATOR,
    "GET /rules/candidates/{candidate_id}": REGULATOR,
    "POST /rules/candidates/{candidate_id}/backtests": REGULATOR,
    "GET /rules/backtests/{job_id}": REGULATOR,
    "DELETE /rules/backtests/{job_id}": ADMIN,
    "PUT /rules": ADMIN,
    "POST /rules/candidates": ADMIN,
    "POST /rules/candidates/{candidate_id}/publish": ADMIN,
    "DELETE /rules/candidates/{candidate_id}": ADMIN,
    "GET /rules/audit": ADMIN,
    "GET /inspections/audit": ADMIN,
    "GET /admin/accounts": ADMIN,
    "POST /admin/accounts": ADMIN,
    "GET /admin/accounts/{account_id}": ADMIN,
    "PATCH /admin/accounts/{account_id}": ADMIN,
    "POST /admin/accounts/{account_id}/keys": ADMIN,
    "GET /admin/keys": ADMIN,
    "DELETE /admin/keys/{key_id}": ADMIN,
    "GET /admin/access-log": ADMIN,
}
#: endless responses: only refusals are called (an admitted call would never end);
#: tests/integration/test_subscriptions.py calls them as admitted roles
STREAMING = {"GET /subscriptions/stream"}
ROLES = ("anonymous", "public", "department", "regulator", "admin")


def _operations() -> list[str]:
    document = create_app(api_settings()).openapi()
    return [f"{m.upper()} {path}" for path, ops in document["paths"].items() for m in ops]


OPERATIONS = _operations()


@pytest.fixture(scope="module")
def client(redis_server: str) -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:
    """One client (one event loop for the app's Redis connections) and each role's
    headers."""
    store = StoreSettings(redis_url=redis_server, key_prefix=f"authz{uuid.uuid4().hex[:8]}")
    app = create_app(api_settings(webhooks_enabled=False, rate_limit_public=10**6), store)
    with TestClient(app) as client:
        api = ApiClient(client)
        client.headers.update(ApiClient.auth(ADMIN_KEY))
        keys = {role: api.account(role) for role in ("public", "department", "regulator")}
        del client.headers["Authorization"]
        headers = {role: ApiClient.auth(key) for role, key in keys.items()}
        yield client, {"anonymous": {}, "admin": ApiClient.auth(ADMIN_KEY), **headers}


def test_every_operation_is_in_the_policy() -> None:
    assert sorted(set(OPERATIONS) - set(POLICY)) == []
    assert sorted(set(POLICY) - set(OPERATIONS)) == []


def _call(client: TestClient, operation: str, headers: dict[str, str]) -> int:
    method, template = operation.split(" ", 1)
    path = re.sub(r"\{uscc\}", f.uscc(), template)
    path = re.sub(r"\{[^}]+\}", "no-such-id", path)
    body = {} if method in {"POST", "PUT", "PATCH"} else None
    return client.request(method, path, json=body, headers=headers).status_code


CASES = [
    (operation, role)
    for operation, role in itertools.product(OPERATIONS, ROLES)
    if not (operation in STREAMING and role in POLICY.get(operation, ()))
]


@pytest.mark.parametrize(("operation", "role"), CASES)
def test_each_role_is_admitted_or_refused_as_the_policy_says(
    client: tuple[TestClient, dict[str, dict[str, str]]], operation: str, role: str
) -> None:
    admitted = role in POLICY[operation]
    status = _call(client[0], operation, client[1][role])
    if admitted:
        assert status not in (401, 403), f"{role} refused {operation}: {status}"
    else:
        assert status == (401 if role == "anonymous" else 403), f"{role} {operation}: {status}"


# --- refusals that come before or beside the role check ---------------------------------
#: every operation that takes a request body, from the document
BODY_OPERATIONS = [
    f"{m.upper()} {path}"
    for path, ops in create_app(api_settings()).openapi()["paths"].items()
    for m, op in ops.items()
    if "requestBody" in op
]
TIGHT = 3  # every role's requests per window in the `tight` app
#: the client, each role's headers (the rate test's, and the live cap test's), the store
Tight = tuple[TestClient, dict[str, dict[str, str]], dict[str, dict[str, str]], StoreSettings]


async def _accounts(settings: StoreSettings, name: str) -> dict[str, dict[str, str]]:
    """An account and key of each role, written to the store directly: making them
    through the admin API would spend the admin key's few requests."""
    store = Store.from_settings(settings)
    headers = {}
    try:
        for role in ("public", "department", "regulator"):
            key_id, key, key_hash = new_key()
            account = {"account_id": f"{name}-{role}", "role": role, "name": role}
            await store.put_account({**account, "department": "samr", "disabled": False})
            await store.put_key(key_hash, {"key_id": key_id, "account_id": f"{name}-{role}"})
            headers[role] = ApiClient.auth(key)
    finally:
        await store.close()
    return headers


@pytest.fixture(scope="module")
def tight(redis_server: str) -> Iterator[Tight]:
    """An app with small bodies, a few requests per window for every role, and one live
    subscription per account."""
    store = StoreSettings(redis_url=redis_server, key_prefix=f"tight{uuid.uuid4().hex[:8]}")
    limits = {f"rate_limit_{role}": TIGHT for role in ("admin", "regulator", "department")}
    settings = api_settings(
        webhooks_enabled=False,
        max_body_bytes=1024,
        max_large_body_bytes=4096,
        rate_limit_public=TIGHT,
        **limits,
    )
    app = create_app(settings, store)
    app.state.live_settings = LiveSettings(max_per_account=1)
    rate, live = asyncio.run(_accounts(store, "rate")), asyncio.run(_accounts(store, "live"))
    with TestClient(app) as client:
        yield client, {"anonymous": {}, "admin": ApiClient.auth(ADMIN_KEY), **rate}, live, store


@pytest.mark.parametrize(("operation", "role"), list(itertools.product(BODY_OPERATIONS, ROLES)))
def test_an_oversized_body_is_refused_whoever_sends_it(
    tight: Tight, operation: str, role: str
) -> None:
    """413 before the key is even looked at: a body is never read past its limit, and
    the refusal tells nothing about the caller's rights."""
    client, headers, _, _ = tight
    method, template = operation.split(" ", 1)
    path = re.sub(r"\{[^}]+\}", "no-such-id", template.replace("{uscc}", f.uscc()))
    body = b"{" + b" " * 4096 + b"}"
    reply = client.request(
        method, path, content=body, headers={**headers[role], "Content-Type": "application/json"}
    )
    assert reply.status_code == 413, f"{role} {operation}: {reply.status_code}"
    assert reply.json()["error"]["code"] == "payload_too_large"


@pytest.mark.parametrize("role", ROLES)
def test_every_role_is_rate_limited(tight: Tight, role: str) -> None:
    client, headers, _, _ = tight
    codes = [client.get("/me", headers=headers[role]).status_code for _ in range(TIGHT + 1)]
    assert codes == [200] * TIGHT + [429], codes


@pytest.mark.parametrize("role", ["department", "regulator"])
def test_a_member_over_its_live_cap_is_refused(tight: Tight, role: str) -> None:
    """The slot held here as a serving process would hold it."""
    client, _, headers, settings = tight

    async def hold() -> None:
        store = Store.from_settings(settings)
        try:
            assert (await store.claim_live_slot(f"live-{role}", "held", 60_000, 1))[0]
        finally:
            await store.close()

    asyncio.run(hold())
    reply = client.get("/subscriptions/stream", headers=headers[role])
    assert reply.status_code == 429, reply.text
    assert reply.json()["error"]["code"] == "too_many_subscriptions"
