"""The access log written off the response path (api/access_log_writer.py), through the
real app on a real Redis: every request of a concurrent burst is recorded once, records
still queued when the API stops are written at shutdown, an admin reading the log sees
every record so far, and the middleware still adds the rate-limit headers."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.access_log_writer import AccessLogWriter
from api.app import create_app
from streams.settings import StoreSettings
from tests import factories as f
from tests.integration.conftest import ADMIN_KEY, ApiClient, api_settings, serve

pytestmark = pytest.mark.integration
ADMIN = ApiClient.auth(ADMIN_KEY)


def _app(store_settings: StoreSettings, **settings: Any) -> FastAPI:
    return create_app(api_settings(webhooks_enabled=False, **settings), store_settings)


def _records_in_redis(store_settings: StoreSettings) -> list[dict[str, Any]]:
    client = redis.Redis.from_url(store_settings.redis_url)
    try:
        entries = client.xrange(f"{store_settings.key_prefix}:access-log")
        return [json.loads(fields[b"data"]) for _, fields in entries]
    finally:
        client.close()


@pytest.fixture
def writer_task_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    """The writer's own task never runs: records stay queued until a flush or close."""
    monkeypatch.setattr(AccessLogWriter, "start", lambda self: None)


async def _burst(base: str, key: str, usccs: list[str]) -> list[int]:
    limits = httpx.Limits(max_connections=20)
    headers = ApiClient.auth(key)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits) as client:
        replies = await asyncio.gather(*(client.get(f"/enterprises/{u}") for u in usccs))
    return [r.status_code for r in replies]


def test_every_request_of_a_burst_is_recorded_once(store_settings: StoreSettings) -> None:
    usccs = [f.uscc() for _ in range(300)]
    with serve(_app(store_settings)) as base:
        admin = httpx.Client(base_url=base, headers=ADMIN)
        key = ApiClient(admin).account("department")  # type: ignore[arg-type]
        statuses = asyncio.run(_burst(base, key, usccs))
        assert statuses == [404] * len(usccs)  # unknown firms: still data requests
        account = admin.get("/me", headers=ApiClient.auth(key)).json()["account_id"]
        seen = admin.get("/admin/access-log", params={"account_id": account, "limit": 500})
        assert len(seen.json()["items"]) == len(usccs) + 1  # and the /me
        admin.close()
    logged = [r["path"] for r in _records_in_redis(store_settings) if r["account_id"] == account]
    assert sorted(logged) == sorted([f"/enterprises/{u}" for u in usccs] + ["/me"])


def test_records_still_queued_at_shutdown_are_written(
    store_settings: StoreSettings, writer_task_stopped: None
) -> None:
    with TestClient(_app(store_settings), headers=ADMIN) as client:
        for _ in range(5):
            assert client.get("/me").status_code == 200
        assert _records_in_redis(store_settings) == []  # all still queued
    assert [r["path"] for r in _records_in_redis(store_settings)] == ["/me"] * 5


def test_an_admin_reading_the_log_sees_every_record_so_far(
    store_settings: StoreSettings, writer_task_stopped: None
) -> None:
    with TestClient(_app(store_settings), headers=ADMIN) as client:
        client.get(f"/enterprises/{f.uscc()}")
        client.post("/enterprises/batch", json={"usccs": [f.uscc()]})
        log = client.get("/admin/access-log").json()["items"]
        assert [r["route"] for r in log] == ["/enterprises/batch", "/enterprises/{uscc}"]


def test_an_unexpected_error_is_recorded_as_a_500(store_settings: StoreSettings) -> None:
    app = _app(store_settings)

    async def broken() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/broken", broken)
    with TestClient(app, headers=ADMIN, raise_server_exceptions=False) as client:
        assert client.get("/broken").status_code == 500
        log = client.get("/admin/access-log", params={"path_prefix": "/broken"}).json()
    assert [(r["route"], r["status"]) for r in log["items"]] == [("/broken", 500)]


def test_responses_carry_the_rate_limit_headers(store_settings: StoreSettings) -> None:
    with TestClient(_app(store_settings), headers=ADMIN) as client:
        key = ApiClient.auth(ApiClient(client).account("department", rate_limit=2))
        replies = [client.get(f"/enterprises/{f.uscc()}", headers=key) for _ in range(3)]
    assert all(r.headers["X-RateLimit-Limit"] == "2" for r in replies)
    assert replies[0].headers["X-RateLimit-Remaining"] == "1"
    assert [r.status_code for r in replies][2] == 429
    assert [r.headers["X-RateLimit-Remaining"] for r in replies] == ["1", "0", "0"]
