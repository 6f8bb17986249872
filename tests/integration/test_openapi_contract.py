"""Property-based tests against the OpenAPI document (schemathesis): generated requests
to every operation of a real server on a real Redis holding real enterprises; no
response may be a server error, and every response must match the document."""

from __future__ import annotations

import asyncio
import re
import socket
import uuid
from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import negative_data_rejection, positive_data_acceptance

from agents.pipeline import Pipeline
from agents.replay import Replayer
from api.app import create_app
from streams.settings import LiveSettings, StoreSettings
from streams.store import Store
from tests import factories as f
from tests.integration.conftest import ADMIN_KEY, ApiClient, api_settings, serve

pytestmark = pytest.mark.integration
#: the live API's body limits: small and large
BODY_LIMITS = (16_384, 65_536)
AUTH = {"Authorization": f"Bearer {ADMIN_KEY}"}
EXCLUDED = [positive_data_acceptance, negative_data_rejection]
#: endless streams answer no single response to validate; tests/integration/test_subscriptions.py
STREAMS = r"^/subscriptions/"


async def _seed(settings: StoreSettings) -> None:
    store = Store.from_settings(settings)
    try:
        code = f.uscc()
        events = [f.registered(code), f.dishonest_listed(code), f.registered(f.uscc())]
        await Replayer(Pipeline(store, "fanout"), batch_size=50).run(f.encode(e) for e in events)
    finally:
        await store.close()


async def _no_names(host: str, port: int) -> list[str]:
    raise socket.gaierror(socket.EAI_NONAME, f"{host} is not looked up in tests")


@pytest.fixture(scope="module")
def live_api(redis_server: str) -> Iterator[str]:
    store = StoreSettings(redis_url=redis_server, key_prefix=f"contract{uuid.uuid4().hex[:8]}")
    asyncio.run(_seed(store))
    unlimited = {"rate_limit_admin": 10**9, "rate_limit_public": 10**9}
    bodies = {"max_body_bytes": BODY_LIMITS[0], "max_large_body_bytes": BODY_LIMITS[1]}
    app = create_app(api_settings(webhooks_enabled=False, **unlimited, **bodies), store)
    app.state.live_settings = LiveSettings(max_per_account=1)
    app.state.resolver = _no_names  # generated webhook URLs: no name lookup leaves here
    with serve(app) as base:
        yield base


# the document is static: taken from an app that is not started; calls go to `live_api`
schema = schemathesis.openapi.from_dict(create_app(api_settings()).openapi())


@schema.exclude(path_regex=STREAMS).parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_every_operation_answers_within_its_contract(
    case: schemathesis.Case, live_api: str
) -> None:
    # Two checks are left out. "Schema-valid data is accepted": a USCC or ID number of
    # the right shape may still fail its check character (GB 32100, GB 11643): a 422.
    # "Invalid data is rejected": unknown query parameters are ignored, by design. The
    # invalid requests are still sent, and must answer a documented, non-5xx status.
    case.call_and_validate(
        base_url=live_api,
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
        excluded_checks=[positive_data_acceptance, negative_data_rejection],
    )


# --- the refusals of abuse, each answered within the contract ---------------------------
BODY_OPERATIONS = [
    (path, method.upper())
    for path, operations in schema.raw_schema["paths"].items()
    for method, operation in operations.items()
    if "requestBody" in operation
]


@pytest.mark.parametrize(("path", "method"), BODY_OPERATIONS)
def test_an_oversized_body_is_refused_within_the_contract(
    live_api: str, path: str, method: str
) -> None:
    parameters = {name: "91440300708461136T" for name in re.findall(r"\{([^}]+)\}", path)}
    case = schema[path][method].Case(
        path_parameters=parameters,
        body={"padding": "x" * BODY_LIMITS[1]},
        media_type="application/json",
    )
    response = case.call_and_validate(base_url=live_api, headers=AUTH, excluded_checks=EXCLUDED)
    assert response.status_code == 413


def _member(live_api: str, rate_limit: int | None = None) -> dict[str, str]:
    with httpx.Client(base_url=live_api, headers=AUTH) as admin:
        key = ApiClient(admin).account("department", rate_limit=rate_limit)  # type: ignore[arg-type]
    return {"Authorization": f"Bearer {key}"}


def test_a_caller_over_its_rate_limit_is_refused_within_the_contract(live_api: str) -> None:
    headers = _member(live_api, rate_limit=1)
    case = schema["/me"]["GET"].Case()
    assert case.call(base_url=live_api, headers=headers).status_code == 200
    response = case.call_and_validate(base_url=live_api, headers=headers, excluded_checks=EXCLUDED)
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"


def test_a_subscription_over_the_cap_is_refused_within_the_contract(live_api: str) -> None:
    headers = _member(live_api)
    with (
        httpx.Client(base_url=live_api, headers=headers, timeout=10) as client,
        client.stream("GET", "/subscriptions/stream") as held,
    ):
        lines = held.iter_lines()
        assert next(lines).startswith("retry:")  # subscribed: the account's one slot
        case = schema["/subscriptions/stream"]["GET"].Case()
        response = case.call_and_validate(
            base_url=live_api, headers=headers, excluded_checks=EXCLUDED, timeout=10
        )
        lines.close()
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "too_many_subscriptions"
