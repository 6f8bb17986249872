"""The warning workbench through the real app on a real Redis, on warnings the real
pipeline raised: actions and their audit, idempotent retries, the history, the rates
per rule on the API and /metrics, the overdue list by district, and a snooze that keeps
a warning off the live stream and the webhooks but not off the record."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from rules.calendar import CHINA
from streams.settings import StoreSettings
from streams.store import Store
from tests import factories as f
from tests.http_receiver import Receiver
from tests.integration.conftest import ADMIN_KEY, ApiClient, api_settings, serve
from tests.integration.test_grades import replay as replay_grades
from tests.integration.test_subscriptions import FAST as FAST_LIVE
from tests.integration.test_subscriptions import Sse
from tests.integration.test_webhooks import FAST as FAST_HOOKS
from tests.integration.test_webhooks import dishonest_firm, replay, until

pytestmark = pytest.mark.integration
RULE = "dishonest_enterprise"


@pytest.fixture
def api(store_settings: StoreSettings) -> Iterator[ApiClient]:
    app = create_app(api_settings(webhooks_enabled=False), store_settings)
    with TestClient(app, headers=ApiClient.auth(ADMIN_KEY)) as client:
        yield ApiClient(client)


def open_warning(api: ApiClient, code: str) -> dict[str, Any]:
    [warning] = api.client.get(f"/enterprises/{code}/warnings", params={"status": "open"}).json()
    assert warning["rule_id"] == RULE
    return dict(warning)


def act(api: ApiClient, key: str, code: str, wid: str, what: str, body: Any, **headers: str) -> Any:
    path = f"/enterprises/{code}/warnings/{wid}/{what}"
    return api.client.put(path, json=body, headers={**api.auth(key), **headers})


async def test_actions_are_audited_counted_and_in_the_history(store: Store, api: ApiClient) -> None:
    first, second = await dishonest_firm(store), await dishonest_firm(store)
    one, two = open_warning(api, first)["warning_id"], open_warning(api, second)["warning_id"]
    regulator = api.account("regulator", district="4403")
    department = api.account("department")
    elsewhere = api.account("regulator", district="1101")

    # an assignment, retried with its key: applied once, answered the same
    unit = {"unit": "福田区沙头街道网格3", "note": "请核查"}
    a = act(api, regulator, first, one, "assignment", unit, **{"Idempotency-Key": "k-1"})
    b = act(api, regulator, first, one, "assignment", unit, **{"Idempotency-Key": "k-1"})
    assert a.status_code == b.status_code == 200, a.text
    assert a.json() == b.json() and a.json()["assignment"]["unit"] == unit["unit"]
    assert a.json()["due_at"] is not None and a.json()["status"] == "open"
    both = {"unit": "x", "account_id": "y"}
    assert act(api, regulator, first, one, "assignment", both).status_code == 422
    unknown = act(api, regulator, first, one, "assignment", {"account_id": "nobody"})
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "invalid_request"
    assert act(api, department, first, one, "assignment", unit).status_code == 403
    assert act(api, elsewhere, first, one, "assignment", unit).status_code == 404
    assert act(api, regulator, first, "no-such", "assignment", unit).status_code == 404

    # dispositions: a false alarm; a verified one corrected to a referral
    false_alarm = {"disposition": "false_alarm", "note": "名称近似，非同一企业"}
    # the assignment's key again, for another action: its own; retried: counted once
    retry = {"Idempotency-Key": "k-1"}
    done = act(api, regulator, first, one, "disposition", false_alarm, **retry)
    assert done.status_code == 200 and done.json()["disposition"]["by"].startswith("regulator")
    assert (
        act(api, regulator, first, one, "disposition", false_alarm, **retry).json() == done.json()
    )
    assert done.json()["due_at"] is None
    no_department = {"disposition": "referred", "note": "移送"}
    assert act(api, regulator, second, two, "disposition", no_department).status_code == 422
    verified = {"disposition": "verified", "note": "属实"}
    assert act(api, regulator, second, two, "disposition", verified).status_code == 200
    referred = {**no_department, "department": "市税务局"}
    assert act(api, regulator, second, two, "disposition", referred).status_code == 200

    shown = api.client.get(
        f"/enterprises/{first}/warnings/{one}/handling", headers=api.auth(department)
    )
    assert shown.status_code == 200
    assert shown.json()["disposition"]["disposition"] == "false_alarm"
    assert shown.json()["assignment"]["note"] == "请核查" and shown.json()["snoozed"] is False

    summary = api.client.get("/warnings/dispositions/summary", headers=api.auth(department))
    assert summary.json() == [
        {
            "rule_id": RULE,
            "total": 2,
            "verified": 0,
            "false_alarm": 1,
            "referred": 1,
            "rectified": 0,
            "false_alarm_rate": 0.5,
        }
    ]
    metrics = api.client.get("/metrics").text
    assert f'creditwatch_warning_false_alarm_ratio{{rule="{RULE}"}} 0.5' in metrics
    assert f'creditwatch_warning_disposed{{disposition="verified",rule="{RULE}"}} 0.0' in metrics
    assert (
        f'creditwatch_warning_dispositions_total{{disposition="referred",rule="{RULE}"}}' in metrics
    )

    # the audit trail, newest first, in the caller's district only
    audit = api.client.get("/warnings/handling/audit", headers=api.auth(regulator)).json()
    assert [(r["action"], r["uscc"]) for r in audit] == [
        ("dispose", second),
        ("dispose", second),
        ("dispose", first),
        ("assign", first),
    ]
    assert audit[0]["disposition"]["department"] == "市税务局"
    assert audit[3]["assignment"]["unit"] == unit["unit"] and audit[3]["by"].startswith("reg")
    assert api.client.get("/warnings/handling/audit", headers=api.auth(elsewhere)).json() == []
    assert (
        api.client.get("/warnings/handling/audit", headers=api.auth(department)).status_code == 403
    )

    # the dispositions in the enterprise's history, beside its grade changes
    history = api.client.get(f"/enterprises/{second}/history").json()
    kinds = [e["kind"] for e in history]
    assert kinds[:2] == ["disposition", "disposition"] and "grade_change" in kinds
    assert [e["disposition"] for e in history[:2]] == ["referred", "verified"]
    only = api.client.get(f"/enterprises/{second}/history", params={"kind": "disposition"})
    assert [e["kind"] for e in only.json()] == ["disposition", "disposition"]
    grades = api.client.get(f"/enterprises/{second}/history", params={"kind": "grade_change"})
    assert grades.json() and all(e["kind"] == "grade_change" for e in grades.json())
    # every call in the access log, as any other
    log = api.client.get(
        "/admin/access-log", params={"path_prefix": f"/enterprises/{first}/warnings/"}
    )
    assert {(r["method"], r["status"]) for r in log.json()["items"]} >= {("PUT", 200), ("PUT", 403)}
    # nothing is overdue under the default setting (red: a day)
    assert api.client.get("/warnings/overdue").json() == []


async def test_overdue_warnings_are_listed_by_district(
    store: Store, store_settings: StoreSettings
) -> None:
    app = create_app(
        api_settings(webhooks_enabled=False, handling_due_days_red=1e-6), store_settings
    )
    shenzhen, beijing = await dishonest_firm(store, "440305"), await dishonest_firm(store, "110105")
    with TestClient(app, headers=ApiClient.auth(ADMIN_KEY)) as client:
        api = ApiClient(client)
        time.sleep(0.2)  # past the due time of a millionth of a day
        everything = client.get("/warnings/overdue").json()
        assert {w["uscc"] for w in everything} == {shenzhen, beijing}
        here = client.get("/warnings/overdue", params={"district": "4403"}).json()
        assert [(w["uscc"], w["district"], w["severity"]) for w in here] == [
            (shenzhen, "440305", "red")
        ]
        scoped = api.auth(api.account("department", district="1101"))
        assert [w["uscc"] for w in client.get("/warnings/overdue", headers=scoped).json()] == [
            beijing
        ]
        assert client.get("/warnings/overdue", params={"district": "x"}).status_code == 422
        wid = here[0]["warning_id"]
        body = {"disposition": "rectified", "note": "已整改"}
        path = f"/enterprises/{shenzhen}/warnings/{wid}/disposition"
        assert client.put(path, json=body).status_code == 200
        assert client.get("/warnings/overdue", params={"district": "4403"}).json() == []


async def test_a_snoozed_warning_is_recorded_but_not_pushed(
    store: Store, store_settings: StoreSettings
) -> None:
    app = create_app(api_settings(**FAST_HOOKS), store_settings)
    app.state.live_settings = FAST_LIVE
    quiet, loud = f.uscc(), f.uscc()
    await replay(store, f.registered(quiet, district="440305"))
    until_day = (datetime.now(CHINA).date() + timedelta(days=7)).isoformat()
    with Receiver() as receiver, serve(app) as base:
        async with httpx.AsyncClient(base_url=base, headers=ApiClient.auth(ADMIN_KEY)) as http:
            regulator = await _account(http, "regulator", "4403")
            department = await _account(http, "department", None)
            snooze = {"until": until_day, "reason": "已立案调查，处置期间暂缓提醒"}
            put = await http.put(
                f"/enterprises/{quiet}/snoozes/{RULE}", json=snooze, headers=regulator
            )
            assert put.status_code == 200, put.text
            assert put.json()["in_force"] and put.json()["until"] == until_day
            bad = await http.put(f"/enterprises/{quiet}/snoozes/no_such_rule", json=snooze)
            assert bad.status_code == 422
            unknown = await http.put(f"/enterprises/{f.uscc()}/snoozes/{RULE}", json=snooze)
            assert unknown.status_code == 404, unknown.text
            hook = await http.post(
                "/webhooks",
                json={"url": receiver.url(), "filters": {"kinds": ["warning"]}},
                headers=department,
            )
            assert hook.status_code == 201, hook.text
            async with http.stream(
                "GET", "/subscriptions/stream", params={"kind": "warning"}, headers=department
            ) as response:
                sse = Sse(response)
                assert (await sse.block()) == {"retry": "100"}
                await replay(store, f.dishonest_listed(quiet))  # first in the stream
                await replay(store, f.registered(loud, district="440305"), f.dishonest_listed(loud))
                [pushed] = await sse.events(1)
                assert (pushed["event"], pushed["data"]["uscc"]) == ("warning", loud)
            [delivered] = await until(lambda: receiver.got(status=200), "the loud warning")
            assert delivered.json["data"]["uscc"] == loud
            await asyncio.sleep(0.3)  # a delivery loop's few turns: still just the one
            assert len(receiver.got()) == 1

            # on the record, marked; on the firm's profile
            listed = (await http.get("/warnings", params={"uscc": quiet})).json()["items"]
            assert [(w["rule_id"], w["snoozed"]) for w in listed] == [(RULE, True)]
            profile = (await http.get(f"/enterprises/{quiet}")).json()
            assert [s["rule_id"] for s in profile["snoozes"]] == [RULE]
            assert profile["warnings"][0]["snoozed"] is True
            assert (await http.get(f"/enterprises/{loud}")).json()["snoozes"] == []

            # lifted early: audited, gone from the profile, the warning stays marked
            path = f"/enterprises/{quiet}/snoozes/{RULE}"
            lifted = await http.delete(path, params={"reason": "处置完毕"}, headers=regulator)
            assert lifted.status_code == 204
            assert (await http.delete(path, params={"reason": "again"})).status_code == 404
            assert (await http.get(f"/enterprises/{quiet}")).json()["snoozes"] == []
            every = (
                await http.get(f"/enterprises/{quiet}/snoozes", params={"past": "true"})
            ).json()
            assert every[0]["lifted_by"].startswith("regulator") and not every[0]["in_force"]
            again = (await http.get(f"/enterprises/{quiet}/warnings")).json()
            assert again[0]["snoozed"] is True
            audit = (await http.get("/warnings/handling/audit", params={"uscc": quiet})).json()
            assert [r["action"] for r in audit] == ["lift_snooze", "snooze"]
            assert audit[0]["reason"] == "处置完毕" and audit[1]["until"] == until_day


async def _account(http: httpx.AsyncClient, role: str, district: str | None) -> dict[str, str]:
    account_id = f"{role}-{time.monotonic_ns()}"
    body = {"account_id": account_id, "name": role, "department": "samr", "role": role}
    created = await http.post("/admin/accounts", json={**body, "district": district})
    assert created.status_code == 201, created.text
    key = await http.post(f"/admin/accounts/{account_id}/keys")
    return ApiClient.auth(key.json()["key"])


def _reads_meet(app: Any) -> None:
    """Make the first two reads of a handling record wait for each other, so that two
    actions sent at once both decide from the same value before either writes (the
    interleaving that lost one action). Later reads go straight through."""
    store = app.state.store
    original, met = store.handling, [0]

    async def read(uscc: str) -> Any:
        found = await original(uscc)
        met[0] += 1
        deadline = asyncio.get_running_loop().time() + 5
        while met[0] < 2 and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.01)
        return found

    store.handling = read


async def test_two_actions_on_one_snooze_at_once_lose_neither(
    store: Store, store_settings: StoreSettings
) -> None:
    app = create_app(api_settings(webhooks_enabled=False), store_settings)
    code = f.uscc()
    await replay(store, f.registered(code, district="440305"))
    today = datetime.now(CHINA).date()
    first, second = ((today + timedelta(days=n)).isoformat() for n in (7, 20))
    path = f"/enterprises/{code}/snoozes/{RULE}"
    with serve(app) as base:
        async with httpx.AsyncClient(base_url=base, headers=ApiClient.auth(ADMIN_KEY)) as http:
            set_ = await http.put(path, json={"until": first, "reason": "立案调查"})
            assert set_.status_code == 200, set_.text
            started = set_.json()["set_at"]
            # a lift and a new end at once: whichever comes first, the new end stays
            _reads_meet(app)
            lifted, extended = await asyncio.gather(
                http.delete(path, params={"reason": "处置完毕"}),
                http.put(path, json={"until": second, "reason": "延期"}),
            )
            assert (lifted.status_code, extended.status_code) == (204, 200), extended.text
            [now] = (await http.get(f"/enterprises/{code}/snoozes", params={"past": "true"})).json()
            assert now["until"] == second
            # lifted last, or set again after the lift: then from a new start
            assert now["lifted_at"] is not None or now["set_at"] != started
            audit = (await http.get("/warnings/handling/audit", params={"uscc": code})).json()
            assert sorted(r["action"] for r in audit) == ["lift_snooze", "snooze", "snooze"]

            # two lifts at once: one lifts, the other finds nothing in force
            again = await http.put(path, json={"until": first, "reason": "再次暂缓"})
            assert again.status_code == 200
            _reads_meet(app)
            one, two = await asyncio.gather(
                http.delete(path, params={"reason": "a"}), http.delete(path, params={"reason": "b"})
            )
            assert sorted((one.status_code, two.status_code)) == [204, 404]
            audit = (await http.get("/warnings/handling/audit", params={"uscc": code})).json()
            assert [r["action"] for r in audit].count("lift_snooze") == 2


async def test_a_false_alarm_reaches_the_worker_and_the_grade_recovers(
    store: Store, api: ApiClient
) -> None:
    code = f.uscc()
    replayer = await replay_grades(store, f.registered(code), f.dishonest_listed(code))
    wid = open_warning(api, code)["warning_id"]
    assert api.client.get(f"/enterprises/{code}").json()["grade"] == "D"
    regulator = api.account("regulator", district="4403")
    body = {"disposition": "false_alarm", "note": "名称近似，非同一企业"}
    assert act(api, regulator, code, wid, "disposition", body).status_code == 200
    await replayer.fire_timers()  # the nudge: re-evaluated as of the disposition
    firm = api.client.get(f"/enterprises/{code}").json()
    assert (firm["grade"], firm["score"], firm["warnings"]) == ("A", 100, [])
    [closed] = api.client.get(f"/enterprises/{code}/warnings", params={"status": "closed"}).json()
    assert (closed["warning_id"], closed["disposition"]) == (wid, "false_alarm")
    assert closed["closed_by"] == f"disposition:{wid}"
    history = api.client.get(f"/enterprises/{code}/history").json()
    change = next(e for e in history if e["kind"] == "grade_change")
    assert (change["from_grade"], change["to_grade"]) == ("D", "A")
    assert change["caused_by"] == f"disposition:{wid}"
    handling = api.client.get(f"/enterprises/{code}/warnings/{wid}/handling").json()
    assert handling["status"] == "closed"

    # corrected to verified: the warning is raised again and the grade goes back
    verified = {"disposition": "verified", "note": "复核属实"}
    assert act(api, regulator, code, wid, "disposition", verified).status_code == 200
    await replayer.fire_timers()
    firm = api.client.get(f"/enterprises/{code}").json()
    assert firm["grade"] == "D" and [w["rule_id"] for w in firm["warnings"]] == [RULE]

    # a new listing for a firm whose warning was judged a false alarm counts again
    other = f.uscc()
    replayer = await replay_grades(store, f.registered(other), f.dishonest_listed(other))
    first = open_warning(api, other)["warning_id"]
    assert act(api, regulator, other, first, "disposition", body).status_code == 200
    await replayer.fire_timers()
    assert api.client.get(f"/enterprises/{other}").json()["grade"] == "A"
    await replayer.run([f.encode(f.dishonest_listed(other, "(2026)粤03执2号"))])
    again = api.client.get(f"/enterprises/{other}").json()
    assert again["grade"] == "D" and again["warnings"][0]["warning_id"] != first


async def test_warnings_by_assignee_are_paged_filtered_and_scoped(
    store: Store, api: ApiClient
) -> None:
    here, there, far = f.uscc(), f.uscc(), f.uscc()
    replayer = await replay_grades(
        store,
        f.registered(here, district="440305"),
        f.dishonest_listed(here),
        f.registered(there, district="440305"),
        f.dishonest_listed(there),
        f.registered(far, district="110105"),
        f.dishonest_listed(far),
    )
    wids = {code: open_warning(api, code)["warning_id"] for code in (here, there, far)}
    regulator = api.account("regulator", district="4403")
    department = api.account("department")
    me = api.client.get("/me", headers=api.auth(regulator)).json()["account_id"]
    for code in (here, there, far):  # the admin assigns all three to the regulator
        done = act(api, ADMIN_KEY, code, wids[code], "assignment", {"account_id": me})
        assert done.status_code == 200, done.text
    ours = {(here, wids[here]), (there, wids[there])}

    def listed(key: str, **params: Any) -> list[tuple[str, str]]:
        found = api.client.get("/warnings/assigned", params=params, headers=api.auth(key))
        assert found.status_code == 200, found.text
        return [(w["uscc"], w["warning_id"]) for w in found.json()["items"]]

    # the caller's own, in its district only; a page at a time, none twice
    assert set(listed(regulator)) == ours
    pages, cursor = [], None
    while True:
        params = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        page = api.client.get("/warnings/assigned", params=params, headers=api.auth(regulator))
        assert page.status_code == 200, page.text
        pages += [(w["uscc"], w["warning_id"]) for w in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert sorted(pages) == sorted(ours) and len(pages) == 2
    # another account's: the admin sees all three, city-wide; a department may not ask
    assert set(listed(ADMIN_KEY, account_id=me)) == ours | {(far, wids[far])}
    assert listed(department) == []
    refused = api.client.get(
        "/warnings/assigned", params={"account_id": me}, headers=api.auth(department)
    )
    assert refused.status_code == 403
    by_unit = api.client.get(
        "/warnings/assigned", params={"unit": "x"}, headers=api.auth(department)
    )
    assert by_unit.status_code == 403
    bad = api.client.get("/warnings/assigned", params={"cursor": "x"}, headers=api.auth(regulator))
    assert bad.status_code == 422

    # a false alarm closes its warning: the status now decides the filter
    body = {"disposition": "false_alarm", "note": "名称近似，非同一企业"}
    assert act(api, regulator, here, wids[here], "disposition", body).status_code == 200
    await replayer.fire_timers()
    assert listed(regulator, status="open") == [(there, wids[there])]
    assert listed(regulator, status="closed") == [(here, wids[here])]
    [closed] = api.client.get(
        "/warnings/assigned", params={"status": "closed"}, headers=api.auth(regulator)
    ).json()["items"]
    assert closed["handling"]["assignment"]["account_id"] == me
    assert closed["handling"]["disposition"]["disposition"] == "false_alarm"
    assert closed["status"] == "closed" and closed["assigned_at"]
    assert listed(regulator, severity="yellow") == [] and listed(regulator, rule_id="x") == []
    assert set(listed(regulator, rule_id=RULE, severity="red")) == ours

    # reassigned to a unit: off the account's list, on the unit's
    unit = {"unit": "福田区沙头街道网格3"}
    assert act(api, regulator, there, wids[there], "assignment", unit).status_code == 200
    assert listed(regulator) == [(here, wids[here])]
    assert listed(regulator, unit=unit["unit"]) == [(there, wids[there])]
