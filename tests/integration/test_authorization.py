"""Who may call what: every operation of the OpenAPI document, called as every role
(and without a key), through the real app on a real Redis. The table below is the
policy; an operation missing from it fails the test, so a new endpoint must be placed."""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from streams.settings import StoreSettings
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
    "GET /inspections/plans": MEMBER,
    "GET /inspections/plans/{plan_id}": MEMBER,
    "GET /inspections/plans/{plan_id}/verify": MEMBER,
    "GET /blind-spots": MEMBER,
    "GET /rules": MEMBER,
    "GET /model": MEMBER,
    "GET /enterprises/search": REGULATOR,
    "PUT /enterprises/{uscc}/override": REGULATOR,
    "DELETE /enterprises/{uscc}/override": REGULATOR,
    "GET /overrides": REGULATOR,
    "GET /overrides/audit": REGULATOR,
    "GET /dead-letters": REGULATOR,
    "GET /address-allowlist": REGULATOR,
    "POST /address-allowlist": REGULATOR,
    "DELETE /address-allowlist": REGULATOR,
    "PUT /rules": ADMIN,
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
