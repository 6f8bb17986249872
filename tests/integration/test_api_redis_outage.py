"""Redis going away under a running API, through the real app in uvicorn on a Redis of
the test's own (AOF on), stopped and started again on the same port and data dir:
every call answers 503 with the error body and Retry-After at once (no 500, no hang),
and once Redis is back the same API answers 200 with the data written before, and the
access-log records of the outage are written after all."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from agents.pipeline import Pipeline
from agents.replay import Replayer
from api.app import create_app
from streams.settings import LiveSettings, StoreSettings
from streams.store import Store
from tests import factories as f
from tests.integration.conftest import ADMIN_KEY, ApiClient, OwnRedis, api_settings, serve

pytestmark = pytest.mark.integration
#: a call answered within this while Redis is down is an answer, not a hang
PROMPT_S = 3.0


async def _seed(settings: StoreSettings) -> str:
    """A firm listed dishonest (grade D): its USCC."""
    store = Store.from_settings(settings)
    try:
        code = f.uscc()
        events = [f.registered(code, name="深圳市断线测试有限公司"), f.dishonest_listed(code)]
        await Replayer(Pipeline(store, "fanout"), batch_size=50).run(f.encode(e) for e in events)
        return code
    finally:
        await store.close()


def _assert_unavailable(reply: httpx.Response, took: float) -> None:
    assert reply.status_code == 503, reply.text
    assert took < PROMPT_S, f"{reply.request.url.path} took {took:.1f} s"
    assert int(reply.headers["Retry-After"]) > 0


def test_redis_down_answers_503_then_the_api_recovers_by_itself(own_redis: OwnRedis) -> None:
    settings = StoreSettings(redis_url=own_redis.url, key_prefix="outage")
    code = asyncio.run(_seed(settings))
    app = create_app(api_settings(webhooks_enabled=False), settings)
    with serve(app) as base, httpx.Client(base_url=base, timeout=10) as client:
        api = ApiClient(client)  # type: ignore[arg-type]  # the same calls as TestClient's
        client.headers.update(ApiClient.auth(ADMIN_KEY))
        department = ApiClient.auth(api.account("department"))
        regulator = ApiClient.auth(api.account("regulator"))
        del client.headers["Authorization"]
        before = client.get(f"/enterprises/{code}", headers=department)
        assert before.status_code == 200 and before.json()["grade"] == "D", before.text

        own_redis.stop()
        calls = [
            ("GET", f"/enterprises/{code}", department, None),
            ("POST", "/enterprises/batch", department, {"usccs": [code]}),
            ("GET", "/enterprises/search?name=断线测试", regulator, None),
            ("GET", f"/public/enterprises/{code}", {}, None),
            ("POST", "/webhooks", department, {"url": "http://127.0.0.1:9/hook"}),
        ]
        for method, path, headers, body in calls:
            started = time.monotonic()
            reply = client.request(method, path, headers=headers, json=body)
            _assert_unavailable(reply, time.monotonic() - started)
            error = reply.json()["error"]
            assert error["code"] == "unavailable" and "retry" in error["message"], reply.text
        started = time.monotonic()
        with client.stream("GET", "/subscriptions/stream", headers=department) as live:
            live.read()
            _assert_unavailable(live, time.monotonic() - started)
            assert live.json()["error"]["code"] == "unavailable"
        started = time.monotonic()
        health = client.get("/healthz")
        _assert_unavailable(health, time.monotonic() - started)
        assert health.json() == {"status": "degraded", "redis": False}

        own_redis.start()  # same port, same AOF: the API is not restarted
        deadline = time.monotonic() + 10
        while (after := client.get(f"/enterprises/{code}", headers=department)).status_code != 200:
            assert after.status_code == 503, after.text
            assert time.monotonic() < deadline, "the API did not recover within 10 s"
            time.sleep(0.2)
        assert after.json()["grade"] == "D"
        assert after.json()["profile"]["name"] == "深圳市断线测试有限公司"
        assert client.get("/healthz").status_code == 200
        found = client.get("/enterprises/search?name=断线测试", headers=regulator)
        assert [i["uscc"] for i in found.json()["items"]] == [code]

        # the records of the refused calls waited in the writer and are written now
        admin = ApiClient.auth(ADMIN_KEY)
        logged = client.get("/admin/access-log", params={"status": 503}, headers=admin)
        assert logged.status_code == 200, logged.text
        routes = {r["route"] for r in logged.json()["items"]}
        assert routes == {
            "/enterprises/{uscc}",  # also the polls while Redis was starting
            "/enterprises/batch",
            "/enterprises/search",
            "/public/enterprises/{uscc}",
            "/webhooks",
            "/subscriptions/stream",
        }


async def test_the_live_tailers_blocking_read_outlasts_the_client_timeout(
    store_settings: StoreSettings,
) -> None:
    """The client's reply timeout bounds calls while Redis is away, but must not cut
    the live tailer's XREAD BLOCK on a quiet stream (with redis-py's 5 s default it
    did, every time: the tailer then logged a failure and backed off up to 10 s)."""
    block_ms = LiveSettings().block_ms
    assert store_settings.redis_socket_timeout_s * 1000 > block_ms
    store = Store.from_settings(store_settings)
    try:
        started = time.monotonic()
        assert await store.wait_for_entries(await store.stream_heads(), block_ms) is False
        assert time.monotonic() - started >= block_ms / 1000 - 0.1
    finally:
        await store.close()
