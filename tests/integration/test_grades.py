"""The grade over time, through the real pipeline, Redis and the real app: history with
reasons, as-of lookups, clocks that run out with no event, overrides, and a multi-year
city whose as-of answers equal a replay of the stream cut at each date."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import pytest
from fastapi.testclient import TestClient

from agents.pipeline import Message, Pipeline
from agents.replay import Replayer
from api.app import create_app
from rules.calendar import day_start
from rules.ruleset import RuleSet
from streams.contract.internal import encode_recheck
from streams.settings import ApiSettings, StoreSettings
from streams.simulation import generate_city, to_bytes
from streams.store import Store
from tests import factories as f

pytestmark = pytest.mark.integration
KEY = "grades-test-key"
T = TypeVar("T")


@pytest.fixture
def api(store_settings: StoreSettings) -> Iterator[TestClient]:
    app = create_app(ApiSettings(admin_key=KEY), store_settings)
    with TestClient(app, headers={"Authorization": f"Bearer {KEY}"}) as client:
        yield client


#: these firms file no annual reports: that rule would only blur what is tested
NO_REPORTS = RuleSet("test-no-reports", {"annual_report_missing": {"enabled": False}})


async def replay(store: Store, *events: dict[str, Any]) -> Replayer:
    replayer = Replayer(Pipeline(store, "fanout", NO_REPORTS), batch_size=50)
    await replayer.run(f.encode(e) for e in events)
    return replayer


def ev(etype: str, code: str, day: str, **payload: Any) -> dict[str, Any]:
    return f.event(etype, code, payload, day=day)


async def test_a_penalty_ages_out_of_the_grade_with_no_event_and_history_says_why(
    store: Store, api: TestClient
) -> None:
    code = f.uscc()
    three = [f.penalty(code, d) for d in ("2026-01-05", "2026-02-05", "2026-03-05")]
    # the clock: another firm's event three years and a day after the first decision
    await replay(store, f.registered(code), *three, f.complaints(f.uscc(), "2029-01-06")[0])
    history = api.get(f"/enterprises/{code}/history").json()
    assert [(h["from_grade"], h["to_grade"]) for h in history] == [
        ("B", "A"),  # 2029-01-05: the first penalty stopped counting, by its clock alone
        ("A", "B"),  # 2026-03-05: the third penalty
        (None, "A"),
    ]
    recovered, worsened = history[0], history[1]
    assert recovered["caused_by"] == "recheck:" + day_start(date(2029, 1, 5))
    assert {r["rule_id"]: (r["before"], r["after"]) for r in recovered["reasons"]} == {
        "penalty_frequency": (-15, 0)
    }
    assert worsened["caused_by"] == three[2]["event_id"]
    assert {r["rule_id"] for r in worsened["reasons"]} == {"penalty_frequency"}
    assert all(r["title"] for r in worsened["reasons"])

    def graded(as_of: str) -> tuple[str, int, dict[str, int]]:
        body = api.get(f"/enterprises/{code}", params={"as_of": as_of}).json()
        return body["grade"], body["score"], {i["rule_id"]: i["points"] for i in body["indicators"]}

    assert graded("2026-03-04") == ("A", 90, {"penalty_record": -10})
    assert graded("2026-03-05") == ("B", 75, {"penalty_frequency": -15, "penalty_record": -10})
    assert graded("2029-01-04")[0] == "B"
    assert graded("2029-01-05") == ("A", 90, {"penalty_record": -10})  # two still public
    assert graded("2029-03-05T09:59:59+08:00")[2] == {"penalty_record": -10}
    assert graded("2029-03-06")[0] == "A"
    missing = api.get(f"/enterprises/{code}", params={"as_of": "2025-12-31"})
    assert missing.status_code == 404 and "as of 2025-12-31" in missing.json()["error"]["message"]
    bad = api.get(f"/enterprises/{code}", params={"as_of": "2026-13-01"})
    assert bad.status_code == 422


async def test_a_late_event_rewrites_the_history_after_its_time(store: Store, api: TestClient):
    code = f.uscc()
    listed = ev("court.dishonest_listed", code, "2026-02-01", case_no="(2026)粤03执7号")
    listed["source"] = "court"
    await replay(store, f.registered(code), f.penalty(code, "2026-03-01"))
    assert api.get(f"/enterprises/{code}", params={"as_of": "2026-02-15"}).json()["grade"] == "A"
    await replay(store, listed)  # arrives after a newer event: the timeline is rebuilt
    assert api.get(f"/enterprises/{code}", params={"as_of": "2026-02-15"}).json()["grade"] == "D"
    assert api.get(f"/enterprises/{code}", params={"as_of": "2026-01-31"}).json()["grade"] == "A"
    history = api.get(f"/enterprises/{code}/history").json()
    assert [(h["to_grade"], h["caused_by"]) for h in history][:1] == [("D", listed["event_id"])]


async def test_repairs_are_judged_and_shown(store: Store, api: TestClient) -> None:
    code = f.uscc()
    fined = f.penalty(code, "2026-03-01")
    ref = fined["payload"]["decision_no"]
    early = ev("credit.repaired", code, "2026-08-31", target="penalty", ref=ref,
               approved_on="2026-08-31")  # fmt: skip
    await replay(store, f.registered(code), fined, early)
    body = api.get(f"/enterprises/{code}").json()
    assert (
        body["repairs"][0]["status"] == "rejected" and "2026-09-01" in body["repairs"][0]["reason"]
    )
    assert body["contributions"] == {"penalty_record": -10}
    timely = ev("credit.repaired", code, "2026-09-01", target="penalty", ref=ref,
                approved_on="2026-09-01")  # fmt: skip
    await replay(store, timely)
    body = api.get(f"/enterprises/{code}").json()
    assert body["repairs"][0]["status"] == "accepted" and body["contributions"] == {}
    assert (body["grade"], body["score"]) == ("A", 100)


async def test_an_override_is_applied_audited_and_lifted(store: Store, api: TestClient) -> None:
    code = f.uscc()
    replayer = await replay(store, f.registered(code))
    expires = (date.today() + timedelta(days=30)).isoformat()
    body = {"grade": "D", "reason": "现场核查发现虚假注册", "expires_on": expires}
    set_ = api.put(f"/enterprises/{code}/override", json=body)
    assert set_.status_code == 200 and set_.json()["grade"] == "D"
    await replayer.fire_timers()  # the nudge: re-evaluated at once, as of the moment it was set
    found = api.get(f"/enterprises/{code}").json()
    assert (found["grade"], found["computed_grade"], found["override"]["reason"]) == (
        "D", "A", body["reason"],
    )  # fmt: skip
    assert found["recheck_at"] == day_start(date.fromisoformat(expires) + timedelta(days=1))
    history = api.get(f"/enterprises/{code}/history").json()
    assert (history[0]["to_grade"], history[0]["override"]) == ("D", "D")
    assert [o["uscc"] for o in api.get("/overrides").json()] == [code]
    assert (
        api.put(
            f"/enterprises/{code}/override", json={**body, "expires_on": "2020-01-01"}
        ).status_code
        == 422
    )
    assert api.delete(f"/enterprises/{code}/override").status_code == 422  # a reason is required
    assert (
        api.delete(f"/enterprises/{code}/override", params={"reason": "核查完毕"}).status_code
        == 204
    )
    await replayer.fire_timers()
    assert api.get(f"/enterprises/{code}").json()["grade"] == "A"
    audit = api.get("/overrides/audit").json()
    assert [(a["action"], a["uscc"]) for a in audit[:2]] == [("lift", code), ("set", code)]
    assert api.delete(f"/enterprises/{code}/override", params={"reason": "x"}).status_code == 404


# --- as-of equals a replay cut at the date ---------------------------------------------
def arrive_late(values: list[T], rnd: random.Random, share: float = 0.03) -> list[T]:
    """Some events held back and delivered up to 300 positions later."""
    out = list(values)
    for _ in range(int(len(values) * share)):
        i = rnd.randrange(len(out))
        out.insert(min(len(out), i + rnd.randint(1, 300)), out.pop(i))
    return out


async def grades_at(settings: StoreSettings, values: list[bytes], usccs: list[str], end: str):
    """The grades after replaying `values` into a store of their own, every enterprise
    then re-evaluated at `end` (UTC ISO)."""
    store = Store.from_settings(settings)
    try:
        replayer = Replayer(Pipeline(store, "fanout"), batch_size=200)
        await replayer.run(values)
        moment = datetime.fromisoformat(end)
        messages = [Message("fanout", 0, n, encode_recheck(u, moment)) for n, u in enumerate(usccs)]
        for i in range(0, len(messages), 500):
            await replayer.pipeline.handle(messages[i : i + 500], now=moment)
        found = {}
        for uscc in usccs:
            state = await store.get_enterprise(uscc)
            if state is not None and state.grade is not None:
                found[uscc] = (state.grade, state.score, dict(sorted(state.contributions.items())))
        return found
    finally:
        await store.close()


async def test_as_of_equals_a_replay_cut_at_that_date(store_settings: StoreSettings) -> None:
    city = generate_city(seed=21, enterprises=120, events=3000, start=date(2024, 1, 1), days=1100,
                         invalid_rate=0.0)  # fmt: skip
    items = [i for i in city.events() if isinstance(i, dict)]
    usccs = sorted({i["uscc"] for i in items if "uscc" in i})
    # (value, UTC event time), in the order of arrival
    stream = arrive_late([(to_bytes(i), _utc(i["occurred_at"])) for i in items], random.Random(5))
    store = Store.from_settings(store_settings)
    try:
        await Replayer(Pipeline(store, "fanout"), batch_size=200).run(v for v, _ in stream)
        dates = [date(2024, 1, 1) + timedelta(days=d) for d in (40, 200, 365, 548, 730, 1000)]
        compared = 0
        for day in dates:
            end = day_start(day + timedelta(days=1))
            last = (datetime.fromisoformat(end) - timedelta(microseconds=1)).isoformat()
            cut = [v for v, at in stream if at < end]
            elsewhere = store_settings.model_copy(
                update={"key_prefix": f"{store_settings.key_prefix}-cut-{day}"}
            )
            expected = await grades_at(elsewhere, cut, usccs, last)
            for uscc, want in expected.items():
                entry = await store.as_of(uscc, end, inclusive=False)
                assert entry is not None, (uscc, day)
                got = (entry["grade"], entry["score"], entry["indicators"])
                assert got == want, (uscc, day, got, want)
                compared += 1
        assert compared > 300
    finally:
        await store.close()


def _utc(occurred_at: str) -> str:
    return datetime.fromisoformat(occurred_at).astimezone(UTC).isoformat()
