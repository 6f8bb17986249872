"""Rate limits that hold at window edges, through the real app on a real Redis: a burst
just before a fixed window would have ended and another just after it get no more than
the limit in all, for keys, the bootstrap admin key and anonymous callers alike."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from streams.settings import StoreSettings
from tests.integration.conftest import ADMIN_KEY, ApiClient, api_settings

pytestmark = pytest.mark.integration
WINDOW_S, LIMIT = 2, 5


@pytest.fixture
def api(store_settings: StoreSettings) -> Iterator[ApiClient]:
    settings = api_settings(webhooks_enabled=False, rate_window_s=WINDOW_S, rate_limit_public=LIMIT)
    with TestClient(create_app(settings, store_settings)) as client:
        yield ApiClient(client)


def _just_before_a_window_edge() -> None:
    """Sleep until 0.3 s before the next multiple of the window (the epoch-aligned edge
    a fixed window would reset at)."""
    left = WINDOW_S - time.time() % WINDOW_S
    time.sleep(left - 0.3 if left > 0.3 else left + WINDOW_S - 0.3)


@pytest.mark.parametrize("who", ["account", "anonymous"])
def test_a_burst_on_each_side_of_a_window_edge_gets_the_limit_once(
    api: ApiClient, who: str
) -> None:
    api.client.headers["Authorization"] = f"Bearer {ADMIN_KEY}"
    headers = api.auth(api.account("department", rate_limit=LIMIT)) if who == "account" else {}
    del api.client.headers["Authorization"]
    _just_before_a_window_edge()
    before = [api.client.get("/me", headers=headers) for _ in range(LIMIT)]
    time.sleep(0.6)  # past the edge
    after = [api.client.get("/me", headers=headers) for _ in range(LIMIT)]
    assert [r.status_code for r in before] == [200] * LIMIT
    assert [r.status_code for r in after] == [429] * LIMIT
    retry = int(after[0].headers["Retry-After"])
    assert 1 <= retry <= WINDOW_S
    assert after[0].headers["X-RateLimit-Remaining"] == "0"
    # once the first of the burst is a window old, requests are admitted again
    time.sleep(WINDOW_S - 0.5)
    again = api.client.get("/me", headers=headers)
    assert again.status_code == 200, again.text


def test_refused_requests_do_not_extend_the_wait(api: ApiClient) -> None:
    """A client that keeps knocking is let in once its oldest request ages out."""
    api.client.headers["Authorization"] = f"Bearer {ADMIN_KEY}"
    headers = api.auth(api.account("department", rate_limit=2))
    del api.client.headers["Authorization"]
    started = time.monotonic()
    codes = []
    while time.monotonic() - started < WINDOW_S + 0.5:
        codes.append(api.client.get("/me", headers=headers).status_code)
        time.sleep(0.05)
    assert codes[:2] == [200, 200] and codes[2] == 429
    assert codes.count(200) in (3, 4), codes  # 2 at once, then 2 more a window later
