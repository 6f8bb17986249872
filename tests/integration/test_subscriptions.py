"""Live subscriptions through the real app: SSE from a real uvicorn server, WebSockets
through the TestClient, records made by real events through the real pipeline into the
test's Redis. Every wait has a deadline; nothing asserts on timing."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.websockets import WebSocketDisconnect

from agents.pipeline import Pipeline
from agents.replay import Replayer
from api.app import create_app
from rules.ruleset import RuleSet
from streams.settings import LiveSettings, StoreSettings
from streams.stack.embedded import start_redis
from streams.store import Store
from streams.store.live import stream_id
from tests import factories as f
from tests.integration.conftest import ADMIN_KEY, ApiClient, api_settings, serve

pytestmark = pytest.mark.integration
NO_REPORTS = RuleSet("test-no-reports", {"annual_report_missing": {"enabled": False}})
FAST = LiveSettings(keepalive_s=0.5, retry_ms=100, block_ms=1000)
DEADLINE_S = 30.0


async def listed(store: Store, *firms: tuple[str, str]) -> None:
    """Each (USCC, district) registered, then listed as dishonest: per firm, a red
    dishonest_enterprise warning, then a grade change A -> D."""
    events = []
    for code, district in firms:
        events += [f.registered(code, district=district), f.dishonest_listed(code)]
    await Replayer(Pipeline(store, "fanout", NO_REPORTS)).run(f.encode(e) for e in events)


def firms(n: int, district: str = "440305") -> list[tuple[str, str]]:
    return [(f.uscc(), district) for _ in range(n)]


class Sse:
    """Reads an SSE response block by block, as EventSource would."""

    def __init__(self, response: httpx.Response):
        self.lines = response.aiter_lines()
        self.last_id: str | None = None
        self.keepalives = 0

    async def block(self) -> dict[str, str]:
        fields: dict[str, str] = {}
        async for line in self.lines:
            if not line:
                if fields:
                    return fields
                continue
            if line.startswith(":"):
                self.keepalives += line == ": keep-alive"
                fields.setdefault("comment", line)
                continue
            name, _, value = line.partition(": ")
            fields[name] = value
            if name == "id":
                self.last_id = value
        raise AssertionError("the stream ended")

    async def events(self, n: int) -> list[dict[str, Any]]:
        """The next n events (records and gaps): {event, id, data}."""
        found: list[dict[str, Any]] = []
        async with asyncio.timeout(DEADLINE_S):
            while len(found) < n:
                block = await self.block()
                if "event" in block:
                    found.append({**block, "data": json.loads(block["data"])})
        return found

    async def until_id(self, cursor: str) -> None:
        """Read until the last id is `cursor`, with no event on the way."""
        async with asyncio.timeout(DEADLINE_S):
            while self.last_id != cursor:
                assert "event" not in await self.block()


@dataclass
class Live:
    app: FastAPI
    base: str

    @asynccontextmanager
    async def sse(
        self, key: str = ADMIN_KEY, headers: dict[str, str] | None = None, **params: Any
    ) -> AsyncIterator[Sse]:
        async with (
            httpx.AsyncClient(base_url=self.base, timeout=DEADLINE_S) as client,
            client.stream(
                "GET",
                "/subscriptions/stream",
                params=params,
                headers={**ApiClient.auth(key), **(headers or {})},
            ) as response,
        ):
            assert response.status_code == 200, await response.aread()
            assert response.headers["content-type"].startswith("text/event-stream")
            reader = Sse(response)
            assert (await reader.block()) == {"retry": "100"}
            yield reader


@contextmanager
def live_server(store_settings: StoreSettings) -> Iterator[Live]:
    app = create_app(api_settings(), store_settings)
    app.state.live_settings = FAST
    with serve(app) as base:
        yield Live(app, base)


@pytest.fixture
def live(store_settings: StoreSettings) -> Iterator[Live]:
    with live_server(store_settings) as live:
        yield live


def ordered(cursors: list[str]) -> bool:
    """Whether each cursor is at or past the one before, in both streams."""
    at = [[stream_id(part) for part in c.split("_")] for c in cursors]
    return all(a[0] <= b[0] and a[1] <= b[1] for a, b in itertools.pairwise(at))


def warning_of(event: dict[str, Any]) -> tuple[str, str, str]:
    return event["event"], event["data"]["uscc"], event["data"].get("rule_id", "")


async def test_sse_sends_what_the_filters_admit(store: Store, live: Live) -> None:
    (beijing,), (shenzhen,) = firms(1, "110105"), firms(1)
    async with (
        live.sse(rule_id="dishonest_enterprise", severity="red", uscc=shenzhen[0]) as one_firm,
        live.sse(kind="grade_change", direction="worse", district="4403") as worse_here,
        live.sse(kind="warning", severity="yellow") as yellow,
        live.sse() as everything,
    ):
        await listed(store, beijing, shenzhen)
        [warning] = await one_firm.events(1)
        assert warning_of(warning) == ("warning", shenzhen[0], "dishonest_enterprise")
        assert warning["data"]["severity"] == "red" and warning["data"]["status"] == "open"
        [change] = await worse_here.events(1)  # Beijing's came first in the stream
        assert change["event"] == "grade_change" and change["data"]["uscc"] == shenzhen[0]
        assert (change["data"]["from_grade"], change["data"]["to_grade"]) == ("A", "D")
        all_four = await everything.events(4)
        sent = [(e["event"], e["data"]["uscc"]) for e in all_four]
        for code in (beijing[0], shenzhen[0]):  # each commit's warning before its change
            assert sent.index(("warning", code)) < sent.index(("grade_change", code))
        assert len(set(sent)) == len({e["id"] for e in all_four}) == 4
        assert ordered([e["id"] for e in all_four])
        # nothing for a filter nothing passed, but keep-alives whose id moved past it
        await yellow.until_id(all_four[-1]["id"])
        assert yellow.keepalives > 0


async def test_sse_resumes_after_a_disconnect_with_exactly_what_was_missed(
    store: Store, live: Live
) -> None:
    async with live.sse() as steady:
        async with live.sse() as flaky:
            await listed(store, *firms(3))
            first_two = await flaky.events(2)
        await listed(store, *firms(2))  # while flaky is away
        everything = await steady.events(10)
        assert everything[:2] == first_two
        async with live.sse(headers={"Last-Event-ID": first_two[-1]["id"]}) as back:
            assert await back.events(8) == everything[2:]
            marker = firms(1)
            await listed(store, *marker)
            # the next one is new: nothing was sent twice or skipped before it
            assert warning_of((await back.events(1))[0])[:2] == ("warning", marker[0][0])
        # the query parameter does the same (for clients that cannot set headers)
        async with live.sse(last_event_id=everything[6]["id"]) as again:
            assert await again.events(3) == everything[7:]
        assert ordered([e["id"] for e in everything])

    hub = live.app.state.live_hub
    async with asyncio.timeout(DEADLINE_S):
        while hub.tailing:  # the last subscriber left: the tailer stops
            await asyncio.sleep(0.05)
    async with httpx.AsyncClient(base_url=live.base) as client:
        metrics = (await client.get("/metrics")).text
    assert 'creditwatch_live_subscribers{transport="sse"} 0.0' in metrics
    assert 'creditwatch_live_events_sent_total{kind="warning",transport="sse"}' in metrics


async def test_a_cursor_older_than_the_trimmed_stream_yields_a_gap(
    store_settings: StoreSettings,
) -> None:
    small = store_settings.model_copy(update={"stream_maxlen": 5})
    store = Store.from_settings(small)
    try:
        with live_server(small) as live:
            async with live.sse() as early:
                await listed(store, *firms(1))
                [first, _] = await early.events(2)
            await listed(store, *firms(60))  # the worker's commits trim the streams
            oldest: Any = await store.redis.xrange(store.warnings_stream, count=1)
            held = stream_id(oldest[0][0].decode())
            assert held > stream_id(first["id"].split("_")[0])  # it was trimmed
            async with live.sse(last_event_id=first["id"]) as late:
                gap, after = await late.events(2)
                assert gap["event"] == "gap" and set(gap["data"]["kinds"]) == {
                    "warning",
                    "grade_change",
                }
                assert gap["id"] == first["id"] and "missing" in gap["data"]["message"]
                assert after["event"] in ("warning", "grade_change")
            async with live.sse(**{"from": "start"}) as replay:
                [oldest_held] = await replay.events(1)  # what is held: no gap
                assert oldest_held["event"] != "gap"
    finally:
        await store.close()


async def test_subscribers_and_the_tailer_outlive_a_redis_restart(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    redis = start_redis(tmp_path / "redis", 0)
    assert redis.url is not None
    settings = StoreSettings(redis_url=redis.url, key_prefix="t-outage")
    store = Store.from_settings(settings)
    try:
        with live_server(settings) as live:
            async with live.sse() as sub:
                await listed(store, *firms(1))
                before = await sub.events(2)
                with caplog.at_level(logging.WARNING, logger="api.live"):
                    redis.stop()
                    async with asyncio.timeout(DEADLINE_S):
                        while "live tailer: Redis failed" not in caplog.text:
                            await asyncio.sleep(0.05)
                port = int(redis.url.rsplit(":", 1)[1].split("/")[0])
                redis = start_redis(tmp_path / "redis", port)  # its AOF brings the data back
                await store.close()  # the worker's side: a fresh connection after the restart
                store = Store.from_settings(settings)
                again = firms(1)
                await listed(store, *again)
                after = await sub.events(2)
                assert [e["data"]["uscc"] for e in after] == [again[0][0]] * 2
                assert ordered([e["id"] for e in before + after])
    finally:
        await store.close()
        redis.stop()


async def test_a_district_scoped_department_gets_only_its_districts_records(
    store: Store, live: Live, api: ApiClient
) -> None:
    department = api.account("department", district="4403")
    elsewhere, here = firms(1, "110105")[0], firms(1, "440306")[0]
    async with live.sse(department) as scoped, live.sse(api.account("regulator")) as regulator:
        await listed(store, elsewhere, here)
        assert [e["data"]["uscc"] for e in await scoped.events(2)] == [here[0]] * 2
        everyone = sorted(e["data"]["uscc"] for e in await regulator.events(4))
        assert everyone == sorted([elsewhere[0], here[0]] * 2)


async def test_only_members_subscribe_and_bad_parameters_are_refused(
    live: Live, api: ApiClient
) -> None:
    public_account = api.account("public")
    async with httpx.AsyncClient(base_url=live.base) as client:

        async def get(key: str | None = None, **params: Any) -> httpx.Response:
            if key:
                params["access_token"] = key  # what a browser's EventSource does
            return await client.get("/subscriptions/stream", params=params)

        assert (await get()).json()["error"]["code"] == "unauthorized"
        assert (await get(public_account)).status_code == 403
        for bad in ({"last_event_id": "12-0"}, {"uscc": "123"}, {"severity": "pink"}):
            refused = await get(ADMIN_KEY, **bad)
            assert refused.status_code == 422, bad
            assert set(refused.json()["error"]) == {"code", "message", "details"}

    anonymous = {"Authorization": ""}
    for url, code in (
        ("/subscriptions/ws", 1008),
        (f"/subscriptions/ws?access_token={public_account}", 1008),
        ("/subscriptions/ws?access_token=cwk_nonsense", 1008),
        (f"/subscriptions/ws?access_token={ADMIN_KEY}&last_event_id=x", 1008),
    ):
        with (
            pytest.raises(WebSocketDisconnect) as closed,
            api.client.websocket_connect(url, headers=anonymous) as ws,
        ):
            ws.receive_json()
        assert closed.value.code == code, url
    log = api.client.get("/admin/access-log", params={"path_prefix": "/subscriptions/ws"})
    assert sorted(r["status"] for r in log.json()["items"]) == [401, 401, 403, 422]


async def test_websocket_sends_the_records_and_resumes_by_cursor(
    store: Store, api: ApiClient
) -> None:
    app: Any = api.client.app
    app.state.live_settings = FAST

    def records(ws: Any, n: int) -> list[dict[str, Any]]:
        """The next n records; keep-alives (every 0.5 s) let the deadline be checked."""
        found: list[dict[str, Any]] = []
        deadline = time.monotonic() + DEADLINE_S
        while len(found) < n:
            assert time.monotonic() < deadline, f"{len(found)} of {n} records arrived"
            message = ws.receive_json()
            if message["kind"] != "keep-alive":
                found.append(message)
        return found

    department = api.account("department")
    with (
        api.client.websocket_connect(
            "/subscriptions/ws", headers=ApiClient.auth(department)
        ) as steady,
        api.client.websocket_connect("/subscriptions/ws?kind=warning") as warnings_only,
    ):
        with api.client.websocket_connect("/subscriptions/ws") as flaky:
            # one batch: its firms are evaluated in event time, then by USCC
            made = sorted(firms(3))
            await listed(store, *made)
            [first] = records(flaky, 1)
            assert first["kind"] == "warning" and first["data"]["uscc"] == made[0][0]
        made += firms(1)
        await listed(store, *made[3:])
        everything = records(steady, 8)
        assert everything[0] == first
        assert sorted((m["kind"], m["data"]["uscc"]) for m in everything) == sorted(
            (kind, code) for code, _ in made for kind in ("warning", "grade_change")
        )
        warned = records(warnings_only, 4)
        assert [m["data"] for m in warned] == [
            m["data"] for m in everything if m["kind"] == "warning"
        ]
        with api.client.websocket_connect(f"/subscriptions/ws?last_event_id={first['id']}") as back:
            assert records(back, 7) == everything[1:]  # the same records, in the same order
            marker = firms(1)
            await listed(store, *marker)
            [next_one] = records(back, 1)  # nothing twice or skipped before it
            assert (next_one["kind"], next_one["data"]["uscc"]) == ("warning", marker[0][0])
    log = api.client.get("/admin/access-log", params={"path_prefix": "/subscriptions/ws"})
    assert {(r["status"], r["role"]) for r in log.json()["items"]} == {
        (101, "department"),
        (101, "admin"),
    }
    deadline = time.monotonic() + DEADLINE_S
    while app.state.live_hub.tailing:
        assert time.monotonic() < deadline, "the tailer outlived its subscribers"
        time.sleep(0.05)
